"""S8's baseline: a list page that works the way Argo CD's does, written for the bench.

Argo CD's list page has no server-side pagination: it fetches every Application, then counts,
filters and pages in the browser (10 tiles a page by default, or "all"). This stand-in does the
same against tether's API on the same origin, in the same Chromium: ``GET /api/v1/applications``
with no limit, ``JSON.parse``, the counts by sync and health, and plain DOM tiles showing what
tether's tiles show; ``?render=page`` draws the first 60 (tether's page, so both draw as many
tiles), ``?render=all`` all of them. It is no copy of Argo CD's code: no React, no bundle to
load, so it is a floor for that design, not a measurement of Argo CD.
"""

from __future__ import annotations

from playwright.async_api import Route

PATH = "/__bench/argo-style-list"
"""Answered by the browser client (``page.route``), never by tether: same origin, so the fetch
carries the session cookie."""
PATH_GLOB = "**" + PATH + "*"
PAGE_SIZE = 60


def path(mode: str) -> str:
    """The stand-in drawing one page (``page``) or every app (``all``)."""
    return f"{PATH}?render={mode}"


SCRIPT = """
const PAGE_SIZE = __PAGE_SIZE__;
const mode = new URLSearchParams(location.search).get("render") || "page";
let apps = [];

function text(tag, value, cls) {
  const el = document.createElement(tag);
  el.textContent = value;
  if (cls) el.className = cls;
  return el;
}

function tile(app) {
  const meta = app.metadata || {}, spec = app.spec || {}, status = app.status || {};
  const source = spec.source || (spec.sources || [])[0] || {};
  const dest = spec.destination || {};
  const li = document.createElement("li");
  li.className = "tile";
  li.dataset.app = meta.namespace + "/" + meta.name;
  li.append(text("h2", meta.name));
  const statuses = document.createElement("p");
  statuses.append(text("span", (status.health || {}).status || "Unknown", "health"));
  statuses.append(text("span", (status.sync || {}).status || "Unknown", "sync"));
  li.append(statuses);
  const dl = document.createElement("dl");
  for (const [k, v] of [["Project", spec.project], ["Revision", source.targetRevision],
      ["Cluster", dest.name || dest.server], ["Namespace", dest.namespace],
      ["Repository", (source.repoURL || "") + " " + (source.path || "")]]) {
    dl.append(text("dt", k), text("dd", v || "-"));
  }
  li.append(dl);
  return li;
}

function show(items) {
  const counts = { sync: {}, health: {} };
  for (const app of items) {
    const status = app.status || {};
    const sync = (status.sync || {}).status || "Unknown";
    const health = (status.health || {}).status || "Unknown";
    counts.sync[sync] = (counts.sync[sync] || 0) + 1;
    counts.health[health] = (counts.health[health] || 0) + 1;
  }
  document.getElementById("counts").textContent = items.length + " applications " +
    JSON.stringify(counts);
  const list = document.getElementById("apps");
  const shown = mode === "all" ? items : items.slice(0, PAGE_SIZE);
  const fragment = document.createDocumentFragment();
  for (const app of shown) fragment.append(tile(app));
  list.replaceChildren(fragment);
  return shown.length;
}

function painted() {
  return new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
}

async function main() {
  const started = performance.now();
  const answer = await fetch("/api/v1/applications", { credentials: "same-origin" });
  const body = await answer.text();
  const fetched = performance.now();
  apps = JSON.parse(body).items || [];
  const parsed = performance.now();
  const tiles = show(apps);
  document.body.offsetHeight;
  await painted();
  window.benchFacts = {
    tiles, bytes: body.length, fetch_ms: fetched - started, parse_ms: parsed - fetched,
    render_ms: performance.now() - parsed,
  };
  document.body.dataset.ready = "true";
}

window.benchFilter = async (field, value) => {
  const started = performance.now();
  const has = (a) => ((a.status || {})[field] || {}).status === value;
  const picked = value ? apps.filter(has) : apps;
  show(picked);
  document.body.offsetHeight;
  await painted();
  return performance.now() - started;
};

main();
""".replace("__PAGE_SIZE__", str(PAGE_SIZE))

HTML = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Applications (Argo CD-style stand-in)</title>
<style>
body {{ font-family: sans-serif; margin: 1rem; }}
.tiles {{ display: grid; grid-template-columns: repeat(auto-fill, minmax(300px, 1fr));
  gap: 0.75rem; list-style: none; padding: 0; }}
.tile {{ border: 1px solid #ccd; border-radius: 6px; padding: 0.5rem 0.75rem; }}
.tile h2 {{ font-size: 1rem; margin: 0 0 0.25rem; }}
.tile dl {{ display: grid; grid-template-columns: max-content 1fr; gap: 0 0.5rem; margin: 0; }}
.tile span {{ margin-right: 0.5rem; }}
</style></head>
<body><p id="counts"></p><ul id="apps" class="tiles"></ul><script>{SCRIPT}</script></body></html>
"""

FILTER = "([field, value]) => window.benchFilter(field, value)"
"""Milliseconds to filter the apps already in the page by a status and draw the page again."""


async def fulfil(route: Route) -> None:
    """Answer the stand-in's URL with its page (no CSP: its script is inline)."""
    await route.fulfill(status=200, content_type="text/html; charset=utf-8", body=HTML)
