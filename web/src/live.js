// Live updates: each element with data-live listens to the API's stream named by its
// data-stream and, shortly after a change, reloads itself through htmx from the page's own URL.
// data-live-select picks the element out of a whole page (then it is swapped outerHTML);
// without it the server answers the element's content for HX-Target (swapped innerHTML).
const SETTLE_MS = 700;
const MIN_GAP_MS = 1500;

function reload(element) {
  const url = window.location.pathname + window.location.search;
  const select = element.dataset.liveSelect;
  // The element is the request's source: htmx queues requests per source, and with the page's
  // body as every reload's source a second region's reload replaced the first one's in the queue.
  window.htmx.ajax("GET", url, {
    source: "#" + element.id,
    target: "#" + element.id,
    swap: select ? "outerHTML" : "innerHTML",
    select: select || undefined,
  });
}

function listen(element) {
  const source = new EventSource(element.dataset.stream);
  const id = element.id;
  let timer = null;
  let last = 0;
  let first = element.dataset.stream.includes("name=");
  source.onmessage = () => {
    // A stream naming one app starts with that app as it is now: nothing changed yet.
    if (first) {
      first = false;
      return;
    }
    if (timer) return;
    const wait = Math.max(SETTLE_MS, last + MIN_GAP_MS - Date.now());
    timer = setTimeout(() => {
      timer = null;
      last = Date.now();
      const current = document.getElementById(id);
      if (current) {
        reload(current);
        current.dispatchEvent(new CustomEvent("tether:changed", { bubbles: true }));
      }
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
