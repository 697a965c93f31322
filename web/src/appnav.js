// Moving around an application's page without reloading it. Links marked data-panel-link open
// (or close) a resource's panel and links marked data-view-link switch tree and list; both are
// plain links (they work as whole pages too) handled here by one listener, so the hundreds of
// nodes of a big tree carry no per-node htmx attributes. The URL follows (pushState), and Back
// and Forward put the regions back from the URL. The panel's tabs switch in place, focus moves
// into the panel when a resource opens and back to it when it closes, Escape closes it, and the
// panel reloads itself (keeping scroll, tab and focus) whenever the tree does.

const PANEL = "resource-panel";
const RESOURCES = "app-resources";
const STATE = { tether: "application" };

let opener = null; // the node that opened the panel, to return focus to
let quiet = false; // a live reload is under way: it must not move the user's focus

function panel() {
  return document.getElementById(PANEL);
}

function nodeParam() {
  return new URLSearchParams(window.location.search).get("node") || "";
}

function here() {
  return window.location.pathname + window.location.search;
}

// The node whose panel is open is the current one, in the tree and in the list.
function markSelected(param) {
  for (const el of document.querySelectorAll(`#${RESOURCES} [data-node]`)) {
    if (param && el.dataset.node === param) el.setAttribute("aria-current", "true");
    else el.removeAttribute("aria-current");
  }
}

function load(id, url) {
  // Each region is its own request source: htmx queues requests per source, last one wins.
  return window.htmx.ajax("GET", url, { source: "#" + id, target: "#" + id, swap: "innerHTML" });
}

function openPanel(url) {
  if (!new URL(url, window.location.href).searchParams.get("node")) {
    panel().replaceChildren();
    afterPanel();
    return Promise.resolve();
  }
  return load(PANEL, url);
}

function navigate(url, region) {
  window.history.pushState(STATE, "", url);
  return region === RESOURCES ? load(RESOURCES, url) : openPanel(url);
}

function selectTab(tab, focus) {
  const list = tab.closest("[role=tablist]");
  for (const other of list.querySelectorAll("[role=tab]")) {
    const chosen = other === tab;
    other.setAttribute("aria-selected", chosen ? "true" : "false");
    other.tabIndex = chosen ? 0 : -1;
    const section = document.getElementById(other.getAttribute("aria-controls"));
    if (section) section.hidden = !chosen;
  }
  if (focus) tab.focus();
  const url = new URL(window.location.href);
  url.searchParams.set("tab", tab.dataset.tab);
  window.history.replaceState(window.history.state, "", url);
}

function plainClick(event) {
  return event.button === 0 && !event.metaKey && !event.ctrlKey && !event.shiftKey && !event.altKey;
}

function onClick(event) {
  if (!plainClick(event)) return; // a new tab or window gets the whole page
  const tab = event.target.closest(`#${PANEL} [role=tab]`);
  if (tab) {
    event.preventDefault();
    selectTab(tab, true);
    return;
  }
  const link = event.target.closest("a[data-panel-link], a[data-view-link]");
  if (!link || !document.getElementById(RESOURCES)) return;
  event.preventDefault();
  if (link.hasAttribute("data-view-link")) {
    navigate(link.getAttribute("href"), RESOURCES);
    return;
  }
  if (link.dataset.node) {
    opener = link.dataset.node;
    markSelected(link.dataset.node);
  } else if (link.hasAttribute("data-panel-close")) {
    opener = opener || nodeParam(); // a panel opened from a link: focus goes to its node
  }
  navigate(link.getAttribute("href"), PANEL);
}

function onKeydown(event) {
  const box = panel();
  if (!box || !box.contains(event.target)) return;
  if (event.key === "Escape") {
    const close = box.querySelector("[data-panel-close]");
    if (close) {
      event.preventDefault();
      close.click();
    }
    return;
  }
  const tab = event.target.closest("[role=tab]");
  if (!tab) return;
  const tabs = Array.from(tab.closest("[role=tablist]").querySelectorAll("[role=tab]"));
  const at = tabs.indexOf(tab);
  const next = {
    ArrowRight: tabs[(at + 1) % tabs.length],
    ArrowLeft: tabs[(at - 1 + tabs.length) % tabs.length],
    Home: tabs[0],
    End: tabs[tabs.length - 1],
  }[event.key];
  if (next) {
    event.preventDefault();
    selectTab(next, true);
  }
}

function afterPanel() {
  const box = panel();
  markSelected(nodeParam());
  if (quiet) return;
  const title = box.querySelector("#resource-panel-title");
  if (title) {
    title.focus({ preventScroll: true });
  } else if (opener) {
    const back = document.querySelector(`#${RESOURCES} [data-node="${CSS.escape(opener)}"]`);
    if (back && !back.hidden) back.focus();
    opener = null;
  }
}

function afterSwap(event) {
  if (event.detail.target === panel()) afterPanel();
  else if (event.detail.target?.id === RESOURCES) markSelected(nodeParam());
}

// The tree reloaded because the app changed: the panel's resource may have changed too.
function reloadPanel() {
  const box = panel();
  if (!box || !nodeParam() || !box.querySelector("#resource-panel-title")) return;
  const body = box.querySelector(".panel-body");
  const scroll = body ? body.scrollTop : 0;
  const focusedId = box.contains(document.activeElement) ? document.activeElement.id : "";
  quiet = true;
  load(PANEL, here()).finally(() => {
    quiet = false;
    const fresh = panel()?.querySelector(".panel-body");
    if (fresh) fresh.scrollTop = scroll;
    if (focusedId) document.getElementById(focusedId)?.focus({ preventScroll: true });
  });
}

// Back or Forward within the page: the URL says what the regions show.
function onPopstate(event) {
  if (!document.getElementById(RESOURCES) || event.state?.htmx) return;
  load(RESOURCES, here());
  openPanel(here());
}

export function startAppNav() {
  document.addEventListener("click", onClick);
  document.addEventListener("keydown", onKeydown);
  window.addEventListener("popstate", onPopstate);
  document.body.addEventListener("htmx:afterSwap", afterSwap);
  document.body.addEventListener("tether:changed", (event) => {
    if (event.target.id === RESOURCES) reloadPanel();
  });
  if (panel() && nodeParam()) load(PANEL, here()); // a linked resource: its panel, after the page
}
