// Live updates: each element with data-live listens to the API's stream named by its
// data-stream and, shortly after a change, reloads itself through htmx from the page's own URL.
// data-live-select picks the element out of the server's answer (then it is swapped outerHTML);
// without it the server answers the element's content for HX-Target (swapped innerHTML).
//
// data-live-version (optional) is the resourceVersion the element shows: the stream starts
// after it (no initial burst of every app), and an event at or below it is no news. Without it,
// a stream naming one app (name=) skips its first event, that app as it is now.
//
// One stream per element id, kept across reloads of the element and reopened only when the
// element's data-stream changes (a filter changed) or the element is gone.
const SETTLE_MS = 400;
const MIN_GAP_MS = 1500;

const streams = new Map(); // element id -> stream state

function versionOf(text) {
  const n = Number(text);
  return Number.isFinite(n) && text !== "" ? n : null;
}

function streamUrl(element) {
  const url = new URL(element.dataset.stream, window.location.href);
  const version = element.dataset.liveVersion;
  if (version && !url.searchParams.has("name")) url.searchParams.set("resourceVersion", version);
  return url.pathname + url.search;
}

function isNews(element, state, data) {
  let event;
  try {
    event = JSON.parse(data).result;
  } catch {
    return true; // not an event we can read: reload rather than miss it
  }
  if (!event || !event.application) return false; // an error frame: the stream ends by itself
  const shown = versionOf(element.dataset.liveVersion || "");
  if (shown === null) {
    if (state.skipFirst) {
      state.skipFirst = false;
      return false;
    }
    return true;
  }
  if (event.type === "DELETED") return true; // a re-list's deletion carries its last version
  const version = versionOf(event.application.metadata?.resourceVersion || "");
  return version === null || version > shown;
}

function focusKey(element) {
  const active = document.activeElement;
  if (!active || !element.contains(active)) return null;
  return active.getAttribute("href") || (active.id ? "#" + active.id : null);
}

function refocus(id, key) {
  if (!key) return;
  const current = document.getElementById(id);
  if (!current || current.contains(document.activeElement)) return;
  const again = key.startsWith("#")
    ? current.querySelector(key)
    : [...current.querySelectorAll("[href]")].find((el) => el.getAttribute("href") === key);
  again?.focus();
}

async function reload(state) {
  const element = document.getElementById(state.id);
  if (!element) return;
  const select = element.dataset.liveSelect;
  const key = focusKey(element);
  state.loading = true;
  try {
    await window.htmx.ajax("GET", window.location.pathname + window.location.search, {
      source: element,
      target: "#" + state.id,
      swap: select ? "outerHTML" : "innerHTML",
      select: select || undefined,
    });
  } catch {
    // a failed reload leaves the element as it was; the next change tries again
  } finally {
    state.loading = false;
    state.last = Date.now();
  }
  refocus(state.id, key);
  document.getElementById(state.id)?.dispatchEvent(new CustomEvent("tether:changed", { bubbles: true }));
}

function schedule(state) {
  if (state.closed || state.timer) return;
  const wait = Math.max(SETTLE_MS, state.last + MIN_GAP_MS - Date.now());
  state.timer = setTimeout(() => {
    state.timer = null;
    // Not now: the user's own request for this element is on its way (its answer is newer
    // than anything we would fetch from the old address), or nobody is looking.
    if (state.loading || state.busy > 0 || document.hidden) {
      state.pending = true;
      return;
    }
    state.pending = false;
    reload(state).then(() => {
      if (state.pending) schedule(state);
    });
  }, wait);
}

function open(element) {
  const state = {
    id: element.id,
    stream: element.dataset.stream,
    skipFirst: new URL(element.dataset.stream, window.location.href).searchParams.has("name"),
    timer: null,
    last: 0,
    loading: false,
    busy: 0,
    pending: false,
    closed: false,
    source: null,
  };
  const source = new EventSource(streamUrl(element));
  source.onopen = () => {
    const current = document.getElementById(state.id);
    if (current) current.dataset.liveState = "open";
  };
  source.onmessage = (message) => {
    const current = document.getElementById(state.id);
    if (current && isNews(current, state, message.data)) schedule(state);
  };
  state.source = source;
  return state;
}

function close(state) {
  state.closed = true;
  clearTimeout(state.timer);
  state.source.close();
}

// Opens a stream for each live element that has none (or whose stream changed), and closes
// the streams of elements that are gone.
function reconcile() {
  const seen = new Set();
  for (const element of document.querySelectorAll("[data-live][data-stream][id]")) {
    seen.add(element.id);
    const state = streams.get(element.id);
    if (state && state.stream === element.dataset.stream) {
      if (state.source.readyState === EventSource.OPEN) element.dataset.liveState = "open";
      continue;
    }
    if (state) close(state);
    streams.set(element.id, open(element));
  }
  for (const [id, state] of streams) {
    if (!seen.has(id)) {
      close(state);
      streams.delete(id);
    }
  }
}

function targetId(event) {
  return event.detail?.target?.id || "";
}

export function startLive(root) {
  if (root !== document) return;
  reconcile();
  document.body.addEventListener("htmx:load", reconcile);
  document.body.addEventListener("htmx:afterSettle", reconcile);
  // Requests aimed at a live element by anything else (a filter form, a pager link): while
  // one is on its way, the element waits for it rather than reloading from the old address.
  const counted = new WeakSet();
  document.body.addEventListener("htmx:beforeRequest", (event) => {
    const state = streams.get(targetId(event));
    if (!state || event.detail.elt === document.getElementById(state.id)) return;
    counted.add(event.detail.xhr);
    state.busy += 1;
  });
  document.body.addEventListener("htmx:afterRequest", (event) => {
    if (!counted.has(event.detail.xhr)) return;
    counted.delete(event.detail.xhr);
    const state = streams.get(targetId(event));
    if (!state) return;
    state.busy = Math.max(0, state.busy - 1);
    if (state.busy === 0 && state.pending) schedule(state);
  });
  document.addEventListener("visibilitychange", () => {
    if (document.hidden) return;
    for (const state of streams.values()) if (state.pending) schedule(state);
  });
  window.addEventListener("pagehide", () => {
    for (const state of streams.values()) close(state);
    streams.clear();
  });
}
