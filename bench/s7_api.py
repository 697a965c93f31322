"""S7 the API at 10,000 Applications: pages, a project's page, a one-project caller, streams.

On a minimal control plane of its own: 10 AppProjects and 10,000 Applications (``app-NNNNN`` in
project ``proj-<N mod 10>``, so one project's apps are spread over the whole order), no
controller. The real API server (``build_context`` + ``build_app``, the real authority) serves
on 127.0.0.1 in this process; ``bench.apiclient`` measures from a child process: sequential
``GET /api/v1/applications?limit=100`` (first page, a middle page, ``projects=proj-3``, and as
``viewer``, allowed ``proj-3/*`` only), then 100 NDJSON streams and, as the baseline, 100
kube-apiserver watches, each receiving a label patch of one app. The fleet, the served API and
the client child are ``bench.fleet``'s, shared with S8.
"""

from __future__ import annotations

import asyncio
import os
import pathlib
import time
from collections.abc import Mapping
from typing import Any

import httpx2

from bench import env, fleet, report
from bench.fleet import API, PROJECT_LABEL, PROJECTS, app_name
from tether import bootstrap
from tether.adapters.kube.client import KubeClient
from tether.core.app import listing
from tether.services.appindex import AppIndex
from tether.settings import Settings

SIZE = 10_000
PROJECT = "proj-3"
ROUND_LABEL = "bench.tether.dev/round"
CLIENTS = 100
ROUNDS = 5
ROUND_GAP_S = 1.5
WARMUP = 5
REQUESTS = 50
VIEWER = "viewer"


async def configure_viewer(kube: KubeClient) -> None:
    """Local account ``viewer`` (API keys only), allowed to get ``proj-3`` apps."""
    for name, data in (
        ("argocd-cm", {f"accounts.{VIEWER}": "apiKey"}),
        ("argocd-rbac-cm", {"policy.csv": f"p, {VIEWER}, applications, get, {PROJECT}/*, allow"}),
    ):
        await kube.apply(
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": name, "namespace": env.APP_NAMESPACE},
                "data": data,
            },
            field_manager="bench",
        )


async def tokens(url: str, kube: KubeClient) -> tuple[str, str]:
    """The admin's session token (initial password) and an API key of ``viewer``."""
    password = await fleet.admin_password(kube)
    async with httpx2.AsyncClient(base_url=url, timeout=60) as http:
        answer = await http.post(
            "/api/v1/session", json={"username": "admin", "password": password}
        )
        answer.raise_for_status()
        admin = str(answer.json()["token"])
        answer = await http.post(
            f"/api/v1/account/{VIEWER}/token",
            json={},
            headers={"Authorization": f"Bearer {admin}"},
        )
        answer.raise_for_status()
        return admin, str(answer.json()["token"])


async def stream_rounds(
    client: fleet.Child,
    plan: dict[str, Any],
    kube: KubeClient,
    index: AppIndex | None,
    clients: int,
    target: str,
    tag: str,
) -> tuple[list[dict[str, float]], dict[str, float]]:
    """Open the streams (or watches), patch ``target``'s label ROUNDS times, collect arrivals."""
    await client.send(plan)
    ready = await client.receive(120)
    assert ready.get("ready"), ready
    if index is not None:
        # Open means headers sent; the generator subscribes just after: wait for every one.
        await env.eventually(
            lambda: fleet.true(index.subscribers >= clients), 30, "streams subscribed", 0.05
        )
    sent: dict[str, float] = {}
    for number in range(ROUNDS):
        label = f"{tag}-{number}"
        sent[label] = time.monotonic()
        await kube.patch(
            API,
            "Application",
            target,
            env.APP_NAMESPACE,
            patch={"metadata": {"labels": {ROUND_LABEL: label}}},
        )
        await asyncio.sleep(ROUND_GAP_S)
    answer = await client.receive(plan["timeout_s"] + 60)
    arrivals: list[dict[str, float]] = answer["arrivals"]
    return arrivals, sent


def _total(by_verb: Mapping[str, float]) -> int:
    return int(sum(by_verb.values()))


async def run(workdir: pathlib.Path) -> dict[str, Any]:
    """Measure S7 on a control plane of its own."""
    size = env.scaled(SIZE)
    clients = env.scaled(CLIENTS)
    results: dict[str, Any] = {"apps": size, "projects": PROJECTS, "stream_clients": clients}
    with env.dev_cluster("minimal") as cluster:
        await env.install_crds(cluster.kubeconfig)
        kube = env.client(cluster.kubeconfig)
        settings = Settings(
            app_namespaces=(env.APP_NAMESPACE,),
            leader_election=False,
            cache_dir=str(workdir / "cache-s7"),
        )
        rt = await bootstrap.runtime(settings, kubeconfig=cluster.kubeconfig, start_cache=False)
        try:
            env.log(f"S7: creating {size} Applications in {PROJECTS} projects")
            created_s = await fleet.create_fleet(kube, size)
            results["create_s"] = round(created_s, 1)
            results["creates_per_s"] = round(size / created_s, 1)
            env.log(f"S7: created in {created_s:.1f} s")
            await configure_viewer(kube)
            results["rss_before_server_mib"] = round(fleet.rss_mib(), 1)
            async with fleet.serve(rt) as served:
                await _measure(served, rt, kube, cluster.kubeconfig, workdir, results)
        finally:
            await rt.close()
            await kube.aclose()
    env.log(
        f"S7: page p50 {results.get('list_page_p50_ms')} ms (kube"
        f" {results.get('kube_list_page_p50_ms')} ms), project p50"
        f" {results.get('list_project_p50_ms')} ms, viewer p50"
        f" {results.get('list_viewer_p50_ms')} ms, stream p50 {results.get('stream_p50_ms')} ms"
    )
    return results


async def _measure(
    served: fleet.Served,
    rt: bootstrap.Runtime,
    kube: KubeClient,
    kubeconfig: pathlib.Path,
    workdir: pathlib.Path,
    results: dict[str, Any],
) -> None:
    """The lists, the streams and the watches, against the served API."""
    size, clients = results["apps"], results["stream_clients"]
    url = served.url
    started = time.perf_counter()
    admin, viewer = await tokens(url, kube)
    index: AppIndex = served.app.state.app_index
    await index.wait_synced(120)
    await env.eventually(lambda: fleet.true(len(index) >= size), 120, "the index", 0.1)
    results["index_ready_s"] = round(time.perf_counter() - started, 2)
    results["rss_index_synced_mib"] = round(fleet.rss_mib(), 1)

    client = await fleet.Child.start("bench.apiclient")
    try:
        middle = size // 2
        plan = {
            "do": "lists",
            "url": url,
            "admin_token": admin,
            "viewer_token": viewer,
            "kubeconfig": str(kubeconfig),
            "namespace": env.APP_NAMESPACE,
            "middle_token": listing.continue_token((env.APP_NAMESPACE, app_name(middle - 1))),
            "middle_pages": middle // 100,
            "project": PROJECT,
            "project_label": PROJECT_LABEL,
            "warmup": WARMUP,
            "requests": REQUESTS,
        }
        env.log("S7: timing lists")
        before = rt.requests()
        with fleet.profiled(workdir / "s7-lists.prof"):
            await client.send(plan)
            lists = await client.receive(600)
        results["server_kube_requests_lists"] = _total(report.delta(rt.requests(), before))
        for key, prefix in (
            ("api_first", "list_page"),
            ("api_middle", "list_middle_page"),
            ("api_project", "list_project"),
            ("api_viewer", "list_viewer"),
            ("api_all", "list_all"),
            ("kube_first", "kube_list_page"),
            ("kube_middle", "kube_list_middle_page"),
            ("kube_project", "kube_list_project_label"),
        ):
            results.update(report.spread(lists[key]["ms"], prefix))
            results[f"{prefix}_items"] = lists[key]["items"]
            results[f"{prefix}_bytes"] = lists[key]["bytes"]
        results["list_page_kube_ratio"] = report.ratio(
            results["list_page_p50_ms"], results["kube_list_page_p50_ms"]
        )

        target = app_name(size // 3)
        env.log(f"S7: {clients} API streams")
        stream_plan = {
            "do": "streams",
            "kind": "api",
            "url": url,
            "admin_token": admin,
            "clients": clients,
            "rounds": ROUNDS,
            "app": target,
            "label": ROUND_LABEL,
            "resource_version": index.resource_version,
            "timeout_s": ROUNDS * ROUND_GAP_S + 10,
        }
        before = rt.requests()
        with fleet.profiled(workdir / "s7-streams.prof"):
            arrivals, sent = await stream_rounds(
                client, stream_plan, kube, index, clients, target, "api"
            )
        results["server_kube_requests_streams"] = _total(report.delta(rt.requests(), before))
        results.update(report.delivery(arrivals, sent, "stream"))
        results["rss_after_streams_mib"] = round(fleet.rss_mib(), 1)

        env.log(f"S7: {clients} kube-apiserver watches")
        watch_plan = {
            **stream_plan,
            "kind": "kube",
            "kubeconfig": str(kubeconfig),
            "namespace": env.APP_NAMESPACE,
            "resource_version": index.resource_version,
        }
        try:
            arrivals, sent = await stream_rounds(
                client, watch_plan, kube, None, clients, target, "kube"
            )
            results.update(report.delivery(arrivals, sent, "kube_watch"))
        except (RuntimeError, TimeoutError) as err:  # the baseline's failure is not S7's
            results["kube_watch_failed"] = f"{type(err).__name__}: {err}"[:300]
        results["rss_peak_mib"] = round(env.proc_stats(os.getpid()).peak_rss_mib, 1)
    finally:
        await client.stop()
