"""S7's client, in a process of its own so its CPU is not the API server's event loop's.

``python -m bench.apiclient`` reads one JSON plan per line on stdin and answers each with one
JSON line on stdout. ``lists``: timed GETs of the API and of the kube-apiserver, after a warm-up.
``streams``: N NDJSON streams of the API (or N kube-apiserver watches) opened at once, ``ready``
printed once every one is open, then the arrival time (``time.monotonic``, the same clock in
every process on Linux) of each round's MODIFIED event of the named app, on each stream.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Mapping
from typing import Any

import httpx2

from tether.adapters.kube.client import KubeClient

READ_LIMIT = 1 << 24
"""A stream line may hold one whole Application."""


def _say(message: Mapping[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


async def _timed(
    http: httpx2.AsyncClient, path: str, params: Mapping[str, str], *, warmup: int, requests: int
) -> dict[str, Any]:
    """Milliseconds of each of ``requests`` sequential GETs (after ``warmup`` untimed ones)."""
    times: list[float] = []
    items = 0
    for index in range(warmup + requests):
        started = time.perf_counter()
        answer = await http.get(path, params=params)
        body = answer.content
        elapsed = (time.perf_counter() - started) * 1000
        if answer.status_code != 200:
            raise RuntimeError(f"GET {path} {params}: {answer.status_code} {body[:300]!r}")
        if index >= warmup:
            times.append(elapsed)
        if index == 0:
            items = len(json.loads(body).get("items") or [])
    return {"ms": times, "items": items, "bytes": len(body)}


async def _kube_continue(kube: httpx2.AsyncClient, path: str, pages: int) -> str:
    """The kube-apiserver's continue token after ``pages`` pages of 100."""
    token = ""
    for _ in range(pages):
        params = {"limit": "100", **({"continue": token} if token else {})}
        answer = await kube.get(path, params=params)
        answer.raise_for_status()
        token = str(answer.json()["metadata"].get("continue") or "")
    return token


async def lists(plan: Mapping[str, Any]) -> dict[str, Any]:
    """Every timed list of the plan: the API's (admin, project, viewer) and the kube-apiserver's."""
    warmup, requests = int(plan["warmup"]), int(plan["requests"])
    kube_path = f"/apis/argoproj.io/v1alpha1/namespaces/{plan['namespace']}/applications"
    out: dict[str, Any] = {}
    admin = {"Authorization": f"Bearer {plan['admin_token']}"}
    viewer = {"Authorization": f"Bearer {plan['viewer_token']}"}
    async with (
        httpx2.AsyncClient(base_url=plan["url"], headers=admin, timeout=60) as api,
        httpx2.AsyncClient(base_url=plan["url"], headers=viewer, timeout=60) as as_viewer,
        KubeClient.from_kubeconfig(plan["kubeconfig"]) as kube_client,
    ):
        kube = kube_client.raw
        path = "/api/v1/applications"
        timed = {"warmup": warmup, "requests": requests}
        out["api_first"] = await _timed(api, path, {"limit": "100"}, **timed)
        out["api_middle"] = await _timed(
            api, path, {"limit": "100", "continue": plan["middle_token"]}, **timed
        )
        out["api_project"] = await _timed(
            api, path, {"projects": plan["project"], "limit": "100"}, **timed
        )
        out["api_viewer"] = await _timed(as_viewer, path, {"limit": "100"}, **timed)
        out["api_all"] = await _timed(api, path, {}, warmup=1, requests=max(3, requests // 10))
        middle = await _kube_continue(kube, kube_path, int(plan["middle_pages"]))
        out["kube_first"] = await _timed(kube, kube_path, {"limit": "100"}, **timed)
        out["kube_middle"] = await _timed(
            kube, kube_path, {"limit": "100", "continue": middle}, **timed
        )
        out["kube_project"] = await _timed(
            kube,
            kube_path,
            {"limit": "100", "labelSelector": f"{plan['project_label']}={plan['project']}"},
            **timed,
        )
    return out


def _modified_round(line: bytes, api: bool, app: str, label: str) -> str | None:
    """The round label of a MODIFIED event of ``app`` on one stream line, if it is one."""
    if not line.strip():
        return None
    message = json.loads(line)
    event = message.get("result") if api else message
    if not isinstance(event, dict) or event.get("type") != "MODIFIED":
        return None
    obj = event.get("application" if api else "object") or {}
    meta = obj.get("metadata") or {}
    if meta.get("name") != app:
        return None
    value = (meta.get("labels") or {}).get(label)
    return str(value) if value is not None else None


async def streams(plan: Mapping[str, Any]) -> dict[str, Any]:
    """Open ``clients`` streams; after ``ready``, each stream's arrival time of every round."""
    clients, rounds = int(plan["clients"]), int(plan["rounds"])
    api = plan["kind"] == "api"
    app, label = str(plan["app"]), str(plan["label"])
    arrivals: list[dict[str, float]] = [{} for _ in range(clients)]
    opened = 0
    all_open = asyncio.Event()
    limits = httpx2.Limits(max_connections=clients + 10, max_keepalive_connections=clients + 10)
    timeout = httpx2.Timeout(60.0, read=None)
    kube_client: KubeClient | None = None
    if api:
        headers = {"Authorization": f"Bearer {plan['admin_token']}"}
        http = httpx2.AsyncClient(base_url=plan["url"], headers=headers, limits=limits)
        path = "/api/v1/stream/applications"
        params = {"resourceVersion": str(plan["resource_version"])}
    else:
        # HTTP/1.1, one connection per watch, as tether's own watches (``Transport.watch_http``:
        # idle watches multiplexed on one httpx2 HTTP/2 connection hold up the others).
        kube_client = KubeClient.from_kubeconfig(plan["kubeconfig"])
        http = kube_client.transport.watch_http
        path = f"/apis/argoproj.io/v1alpha1/namespaces/{plan['namespace']}/applications"
        params = {
            "watch": "1",
            "resourceVersion": str(plan["resource_version"]),
            "allowWatchBookmarks": "false",
        }

    async def one(index: int) -> None:
        nonlocal opened
        seen = arrivals[index]
        async with http.stream("GET", path, params=params, timeout=timeout) as answer:
            if answer.status_code != 200:
                raise RuntimeError(f"stream {index}: {answer.status_code}")
            opened += 1
            if opened == clients:
                all_open.set()
            buffer = b""
            async for chunk in answer.aiter_bytes():
                now = time.monotonic()
                buffer += chunk
                *lines, buffer = buffer.split(b"\n")
                for line in lines:
                    found = _modified_round(line, api, app, label)
                    if found is not None and found not in seen:
                        seen[found] = now
                if len(seen) >= rounds:
                    return

    # Connect and authenticate once before the clock matters.
    listed = "/api/v1/applications" if api else path
    (await http.get(listed, params={"limit": "1"})).raise_for_status()
    tasks = [asyncio.create_task(one(i)) for i in range(clients)]
    try:
        opening = asyncio.create_task(all_open.wait())
        await asyncio.wait([opening, *tasks], timeout=60, return_when=asyncio.FIRST_COMPLETED)
        opening.cancel()
        for task in tasks:
            if task.done() and task.exception() is not None:
                raise RuntimeError(f"a stream failed: {task.exception()!r}")
        if not all_open.is_set():
            raise TimeoutError(f"{opened} of {clients} streams open after 60 s")
        _say({"ready": True})
        await asyncio.wait(tasks, timeout=float(plan["timeout_s"]))
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if kube_client is not None:
            await kube_client.aclose()
        else:
            await http.aclose()
    return {"arrivals": arrivals}


async def _main() -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=READ_LIMIT)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while line := await reader.readline():
        plan = json.loads(line)
        if plan["do"] == "lists":
            _say(await lists(plan))
        elif plan["do"] == "streams":
            _say(await streams(plan))
        else:
            raise ValueError(f"unknown plan {plan['do']!r}")


if __name__ == "__main__":
    asyncio.run(_main())
