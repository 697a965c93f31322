// Live updates: each element with data-live listens to the API's stream named by its
// data-stream, and reloads itself (through htmx, from the page's own URL) shortly after a change.
const SETTLE_MS = 700;
const MIN_GAP_MS = 1500;

function reload(element) {
  const url = window.location.pathname + window.location.search;
  window.htmx.ajax("GET", url, { target: "#" + element.id, swap: "outerHTML" });
}

function listen(element) {
  const source = new EventSource(element.dataset.stream);
  let timer = null;
  let last = 0;
  let first = true;
  source.onmessage = () => {
    // A stream naming one app starts with that app as it is now: nothing changed yet.
    if (first && element.dataset.stream.includes("name=")) {
      first = false;
      return;
    }
    first = false;
    if (timer) return;
    const wait = Math.max(SETTLE_MS, last + MIN_GAP_MS - Date.now());
    timer = setTimeout(() => {
      timer = null;
      last = Date.now();
      const current = document.getElementById(element.id);
      if (current) reload(current);
    }, wait);
  };
  return source;
}

export function startLive(root) {
  const sources = [];
  for (const element of root.querySelectorAll("[data-live][data-stream]")) {
    sources.push(listen(element));
  }
  window.addEventListener("pagehide", () => sources.forEach((s) => s.close()));
}
