// The resource panel: its tabs switch in place (the URL keeps the tab, so it can be linked),
// focus moves into it when a resource is opened and back to that resource when it closes,
// Escape closes it, and it reloads itself (keeping scroll and focus) when the tree does.
const PANEL = "resource-panel";

let opener = null; // the node or row that opened the panel, to return focus to
let quiet = false; // a live reload is under way: it must not move the user's focus

function panel() {
  return document.getElementById(PANEL);
}

function nodeParam() {
  return new URLSearchParams(window.location.search).get("node") || "";
}

// The node whose panel is open is the current one, in the tree and in the list.
function markSelected(param) {
  for (const el of document.querySelectorAll("#app-resources [data-node]")) {
    if (param && el.dataset.node === param) el.setAttribute("aria-current", "true");
    else el.removeAttribute("aria-current");
  }
}

function selectTab(tab, focus) {
  const box = panel();
  const list = tab.closest("[role=tablist]");
  for (const other of list.querySelectorAll("[role=tab]")) {
    const chosen = other === tab;
    other.setAttribute("aria-selected", chosen ? "true" : "false");
    other.tabIndex = chosen ? 0 : -1;
    const section = box.querySelector("#" + CSS.escape(other.getAttribute("aria-controls")));
    if (section) section.hidden = !chosen;
  }
  if (focus) tab.focus();
  const url = new URL(window.location.href);
  url.searchParams.set("tab", tab.dataset.tab);
  window.history.replaceState(window.history.state, "", url);
}

function onClick(event) {
  const tab = event.target.closest(`#${PANEL} [role=tab]`);
  if (tab) {
    event.preventDefault();
    selectTab(tab, true);
    return;
  }
  const opening = event.target.closest("#app-resources [data-node][hx-get]");
  if (opening) {
    opener = opening.dataset.node;
    markSelected(opening.dataset.node);
  }
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

function afterSwap(event) {
  const box = panel();
  if (event.detail.target !== box) return;
  markSelected(nodeParam());
  if (quiet) return;
  const title = box.querySelector("#resource-panel-title");
  if (title) {
    title.focus({ preventScroll: true });
  } else if (opener) {
    const back = document.querySelector(`#app-resources [data-node="${CSS.escape(opener)}"]`);
    if (back && !back.hidden) back.focus();
    opener = null;
  }
}

// The tree reloaded because the app changed: the panel's resource may have changed too.
function reload() {
  const box = panel();
  if (!box || !nodeParam() || !box.querySelector("#resource-panel-title")) return;
  const body = box.querySelector(".panel-body");
  const scroll = body ? body.scrollTop : 0;
  const focusedId = box.contains(document.activeElement) ? document.activeElement.id : "";
  quiet = true;
  window.htmx
    .ajax("GET", window.location.pathname + window.location.search, { source: "#" + PANEL, target: "#" + PANEL, swap: "innerHTML" })
    .finally(() => {
      quiet = false;
      const fresh = panel();
      const newBody = fresh?.querySelector(".panel-body");
      if (newBody) newBody.scrollTop = scroll;
      if (focusedId) document.getElementById(focusedId)?.focus({ preventScroll: true });
    });
}

export function startPanel() {
  document.addEventListener("click", onClick);
  document.addEventListener("keydown", onKeydown);
  document.body.addEventListener("htmx:afterSwap", afterSwap);
  document.body.addEventListener("tether:changed", (event) => {
    if (event.target.id === "app-resources") reload();
  });
}
