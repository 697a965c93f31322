"""S8's browser: Debian's Chromium, headless, driven by Playwright from a process of its own.

``python -m bench.uiclient`` reads one JSON plan on stdin and answers one JSON line: the list's
first page (navigation until its tiles are painted), status filters and the search (the click or
keystroke until htmx has swapped the new list in and it is painted), the Argo CD-style stand-in
(``argostyle``) for the same two, and each named tree page until ``data-tree-ready="true"``.
Timings are milliseconds; every browser measurement has warm-up rounds first.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Mapping
from typing import Any

from playwright.async_api import BrowserContext, Page, async_playwright

# Debian's Chromium with the browser tests' flags (nothing leaves loopback), one home for both.
from tests.support.uienv import CHROMIUM, CHROMIUM_ARGS, LAPTOP

from bench import argostyle

NAVIGATION_TIMEOUT_MS = 120_000
TREE_TIMEOUT_MS = 60_000

AFTER_PAINT = "() => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)))"
"""Resolves once the frame with the latest DOM change has been produced (rAF, then a task)."""

PAGE_FACTS = """() => {
  const nav = performance.getEntriesByType("navigation")[0];
  const fcp = performance.getEntriesByName("first-contentful-paint")[0];
  const total = document.querySelector("#app-counts strong");
  return {
    server_ms: nav.responseStart - nav.requestStart,
    html_ms: nav.responseEnd - nav.startTime,
    load_ms: nav.loadEventEnd - nav.startTime,
    fcp_ms: fcp ? fcp.startTime : null,
    tiles: document.querySelectorAll("[data-app]").length,
    total: total ? total.textContent.trim() : null,
    html_bytes: nav.transferSize,
  };
}"""

SWAP = """async ({selector, value, timeoutMs}) => {
  // Only the swap answering the request this input made counts: the request its form sends
  // (a live reload of the list is sent by the list itself, and is counted apart).
  const target = document.getElementById("app-list");
  const element = document.querySelector(selector);
  if (!element) throw new Error("nothing matches " + selector);
  let ours = null, requestAt = null, onRequest = null, onSwap = null, others = 0;
  const swapped = new Promise((resolve, reject) => {
    onRequest = (e) => {
      if (e.detail.target !== target) return;
      if (ours === null && e.detail.elt.contains(element)) {
        ours = e.detail.xhr;
        requestAt = performance.now();
      } else {
        others += 1;
      }
    };
    onSwap = (e) => { if (ours !== null && e.detail.xhr === ours) resolve(performance.now()); };
    document.body.addEventListener("htmx:beforeRequest", onRequest);
    document.body.addEventListener("htmx:afterSwap", onSwap);
    const late = () => reject(new Error("no swap of #app-list within " + timeoutMs + " ms"));
    setTimeout(late, timeoutMs);
  });
  const started = performance.now();
  if (value === null) {
    element.click();
  } else {
    element.value = value;
    element.dispatchEvent(new Event("input", { bubbles: true }));
  }
  try {
    await swapped;
  } finally {
    document.body.removeEventListener("htmx:beforeRequest", onRequest);
    document.body.removeEventListener("htmx:afterSwap", onSwap);
  }
  await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
  const painted = performance.now();
  const total = document.querySelector("#app-counts strong");
  return {
    from_input_ms: painted - started,
    from_request_ms: painted - requestAt,
    tiles: document.getElementById("app-list").querySelectorAll("[data-app]").length,
    total: total ? total.textContent.trim() : null,
    others,
  };
}"""

TREE_FACTS = """() => {
  const tree = document.querySelector("[data-tree], [data-tree-ready]");
  const calls = performance.getEntriesByType("resource")
    .filter((e) => e.name.includes("resource-tree"));
  const draws = performance.getEntriesByName("tether:tree-draw");
  const nodes = Array.from(document.querySelectorAll("[data-node-kind]"));
  return {
    built: tree !== null,
    nodes: nodes.length,
    shown: nodes.filter((n) => !n.hidden).length,
    apps: document.querySelectorAll('[data-node-kind="Application"]').length,
    api_ms: calls.length ? calls[calls.length - 1].duration : null,
    draw_ms: draws.length ? draws[draws.length - 1].duration : null,
    server_ms: (() => {
      const nav = performance.getEntriesByType("navigation")[0];
      return nav.responseStart - nav.requestStart;
    })(),
  };
}"""

API_TREE = """async (path) => {
  const started = performance.now();
  const answer = await fetch(path, { credentials: "same-origin" });
  const body = await answer.json();
  const nodes = (body.nodes || []).length;
  return { ms: performance.now() - started, status: answer.status, nodes };
}"""


def _say(message: Mapping[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


async def _sign_in(context: BrowserContext, plan: Mapping[str, Any]) -> Page:
    page = await context.new_page()
    page.set_default_timeout(NAVIGATION_TIMEOUT_MS)
    await page.goto(plan["url"] + "/applications")
    await page.fill("input[name=username]", plan["username"])
    await page.fill("input[name=password]", plan["password"])
    await page.click("button[type=submit]")
    await page.wait_for_url("**/applications")
    return page


async def _timed_navigation(
    page: Page, url: str, ready: str, timeout_ms: float = NAVIGATION_TIMEOUT_MS
) -> float:
    """Milliseconds from a blank page to ``url`` loaded, ``ready`` present and painted."""
    await page.goto("about:blank")
    started = time.perf_counter()
    await page.goto(url, wait_until="load")
    await page.wait_for_selector(ready, state="attached", timeout=timeout_ms)
    await page.evaluate(AFTER_PAINT)
    return (time.perf_counter() - started) * 1000


async def list_pages(page: Page, plan: Mapping[str, Any]) -> dict[str, Any]:
    """The first page of ``/applications``, navigated to from a blank page each round."""
    times: list[float] = []
    facts: list[dict[str, Any]] = []
    for number in range(plan["warmup"] + plan["rounds"]):
        elapsed = await _timed_navigation(page, plan["url"] + "/applications", "[data-app]")
        if number >= plan["warmup"]:
            times.append(elapsed)
            facts.append(await page.evaluate(PAGE_FACTS))
    last = facts[-1]
    return {
        "list_page_ms": times,
        "list_page_server_ms": [f["server_ms"] for f in facts],
        "list_page_fcp_ms": [f["fcp_ms"] for f in facts if f["fcp_ms"] is not None],
        "list_page_tiles": last["tiles"],
        "list_page_total": last["total"],
        "list_page_html_bytes": last["html_bytes"],
    }


async def _swap(page: Page, selector: str, value: str | None) -> dict[str, Any]:
    args = {"selector": selector, "value": value, "timeoutMs": NAVIGATION_TIMEOUT_MS}
    answer: dict[str, Any] = await page.evaluate(SWAP, args)
    return answer


async def filtering(page: Page, plan: Mapping[str, Any]) -> dict[str, Any]:
    """Tick and untick each status filter, then type the search and clear it, on one page."""
    await page.goto(plan["url"] + "/applications", wait_until="load")
    out: dict[str, Any] = {
        "filter_ms": [],
        "search_ms": [],
        "search_typed_ms": [],
        "other_list_requests": 0,
    }
    for name, value in plan["filters"]:
        selector = f'input[name="{name}"][value="{value}"]'
        for number in range(plan["warmup"] + plan["rounds"]):
            ticked = await _swap(page, selector, None)
            unticked = await _swap(page, selector, None)
            if number >= plan["warmup"]:
                out["filter_ms"] += [ticked["from_input_ms"], unticked["from_input_ms"]]
                out["other_list_requests"] += ticked["others"] + unticked["others"]
        out[f"filter_{name}_{value}_total"] = ticked["total"]
    for number in range(plan["warmup"] + plan["rounds"]):
        typed = await _swap(page, "#f-search", plan["search"])
        cleared = await _swap(page, "#f-search", "")
        if number >= plan["warmup"]:
            # From the request: the answer; from the keystroke: the 300 ms debounce on top.
            out["search_ms"] += [typed["from_request_ms"], cleared["from_request_ms"]]
            out["search_typed_ms"] += [typed["from_input_ms"], cleared["from_input_ms"]]
            out["other_list_requests"] += typed["others"] + cleared["others"]
    out["search_tiles"] = typed["tiles"]
    return out


async def argo_style(context: BrowserContext, plan: Mapping[str, Any]) -> dict[str, Any]:
    """The stand-in's page of tiles and all tiles, and its in-browser filtering."""
    await context.route(argostyle.PATH_GLOB, argostyle.fulfil)
    page = await context.new_page()
    page.set_default_timeout(NAVIGATION_TIMEOUT_MS)
    out: dict[str, Any] = {}
    for mode in ("page", "all"):
        times: list[float] = []
        for number in range(plan["warmup"] + plan["rounds"]):
            url = plan["url"] + argostyle.path(mode)
            elapsed = await _timed_navigation(page, url, "body[data-ready=true]")
            if number >= plan["warmup"]:
                times.append(elapsed)
        out[f"argo_{mode}_ms"] = times
        facts: dict[str, Any] = await page.evaluate("() => window.benchFacts")
        out[f"argo_{mode}_tiles"] = facts["tiles"]
        out[f"argo_{mode}_bytes"] = facts["bytes"]
        out[f"argo_{mode}_fetch_ms"] = facts["fetch_ms"]
        out[f"argo_{mode}_parse_ms"] = facts["parse_ms"]
        out[f"argo_{mode}_render_ms"] = facts["render_ms"]
    await page.goto(plan["url"] + argostyle.path("page"))
    await page.wait_for_selector("body[data-ready=true]", state="attached")
    filtered: list[float] = []
    for number in range(plan["warmup"] + plan["rounds"]):
        for name, value in plan["filters"]:
            ticked = await page.evaluate(argostyle.FILTER, [name, value])
            cleared = await page.evaluate(argostyle.FILTER, [name, ""])
            if number >= plan["warmup"]:
                filtered += [ticked, cleared]
    out["argo_filter_ms"] = filtered
    await page.close()
    return out


async def tree_page(page: Page, plan: Mapping[str, Any], path: str) -> dict[str, Any] | str:
    """One tree page until ``data-tree-ready="true"``; a sentence when it has no tree yet."""
    url = plan["url"] + path
    api_path = "/api/v1/applications/" + path.rsplit("/", 1)[1] + "/resource-tree"
    api_path += "?appNamespace=" + path.split("/")[2]
    await page.goto(url, wait_until="load")
    api = [await page.evaluate(API_TREE, api_path) for _ in range(plan["warmup"] + 5)]
    api_facts = {
        "api_ms": [a["ms"] for a in api[plan["warmup"] :]],
        "api_nodes": api[-1]["nodes"],
        "api_status": api[-1]["status"],
    }
    facts = await page.evaluate(TREE_FACTS)
    if not facts["built"]:
        return {**api_facts, "page": "tree page not built (no [data-tree-ready] on the page)"}
    times: list[float] = []
    drawn: list[dict[str, Any]] = []
    for number in range(plan["warmup"] + plan["rounds"]):
        try:
            elapsed = await _timed_navigation(
                page, url, '[data-tree-ready="true"]', TREE_TIMEOUT_MS
            )
        except Exception as err:  # a tree that never gets ready is a finding, not a crash
            return {**api_facts, "page": f"not ready: {type(err).__name__}: {err}"[:300]}
        if number >= plan["warmup"]:
            times.append(elapsed)
            drawn.append(await page.evaluate(TREE_FACTS))
    last = drawn[-1]
    return {
        **api_facts,
        "ms": times,
        "server_ms": [d["server_ms"] for d in drawn],
        "draw_ms": [d["draw_ms"] for d in drawn if d["draw_ms"] is not None],
        "nodes": last["nodes"],
        "shown_nodes": last["shown"],
        "app_nodes": last["apps"],
        "page_api_ms": last["api_ms"],
    }


async def measure(plan: Mapping[str, Any]) -> dict[str, Any]:
    """Everything S8 times in the browser, in one Chromium."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context(viewport=LAPTOP)
            page = await _sign_in(context, plan)
            out = await list_pages(page, plan)
            out |= await filtering(page, plan)
            out["trees"] = {
                tree["label"]: await tree_page(page, plan, tree["path"]) for tree in plan["trees"]
            }
            # Its own context (signed in as the same user): the stand-in is routed there only.
            state = await context.storage_state()
            baseline = await browser.new_context(viewport=LAPTOP, storage_state=state)
            out |= await argo_style(baseline, plan)
            out["chromium"] = browser.version
            return out
        finally:
            await browser.close()


async def _main() -> None:
    line = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    try:
        _say(await measure(json.loads(line)))
    except Exception as err:
        _say({"error": f"{type(err).__name__}: {err}"[:2000]})


if __name__ == "__main__":
    asyncio.run(_main())
