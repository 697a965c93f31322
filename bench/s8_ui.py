"""S8 the web UI at 10,000 Applications, in Debian's headless Chromium, beside an Argo CD-style
list page: the list's first page, filtering, and the Kubeflow root's resource tree.

On a full-tier control plane of its own: the Kubeflow root with its 27 children and their 683
objects (``bench.kubeflowtree``), then 10,000 Applications as S7 makes them (``bench.fleet``) with
a status each, in the mix of ``STATUS_MIX``. The API server and the UI it mounts run in this
process as ``tether server`` runs them (live cache started and synced, for the resource tree);
Chromium is driven from a child process (``bench.uiclient``), so the browser's driver does not
share the server's event loop.
"""

from __future__ import annotations

import hashlib
import os
import pathlib
import time
from collections.abc import Mapping
from typing import Any

from bench import env, fleet, kubeflowtree, report
from tether import bootstrap
from tether.adapters.kube.client import KubeClient
from tether.model.application import GROUP_KIND
from tether.services.appindex import AppIndex
from tether.settings import Settings

SIZE = 10_000
ROUNDS = 20
"""Timed rounds of each browser measurement (after ``WARMUP`` untimed ones)."""
WARMUP = 3
CACHE_SYNC_TIMEOUT_S = 300.0

STATUS_MIX: tuple[tuple[str, str, int, str], ...] = (
    ("Synced", "Healthy", 70, "most of a fleet at rest"),
    ("OutOfSync", "Healthy", 10, "a commit not applied yet (manual sync, or waiting)"),
    ("Synced", "Progressing", 6, "a rollout under way"),
    ("Synced", "Degraded", 5, "a workload failing after a good sync"),
    ("OutOfSync", "Missing", 3, "created, never synced"),
    ("Unknown", "Unknown", 3, "the comparison failed (a bad path or an unreachable repo)"),
    ("Synced", "Suspended", 2, "a paused rollout or a suspended CronJob"),
    ("OutOfSync", "Degraded", 1, "a failed sync"),
)
"""(sync, health, apps in a hundred, why a fleet holds such apps): what the list's counts count
and its status filters pick. Sums to 100."""

FILTERS = (
    ("sync", "OutOfSync"),
    ("health", "Degraded"),
)
"""Status filters ticked (then unticked) in the browser: 14 % and 6 % of the apps match."""

SEARCH = "app-0123"
"""A name fragment matching ten apps (``app-01230`` to ``app-01239``)."""


def _slot(index: int) -> tuple[str, str]:
    """The (sync, health) of app ``index``, spread evenly over the order of names."""
    position = (index * 37) % 100
    for sync, health, share, _why in STATUS_MIX:
        if position < share:
            return sync, health
        position -= share
    raise AssertionError("STATUS_MIX does not sum to 100")


def fleet_status(index: int) -> dict[str, Any]:
    """A status like the controller's for app ``index``: sync and health from ``STATUS_MIX``,
    a revision, three resources and, once synced, the last operation."""
    sync, health = _slot(index)
    name = fleet.app_name(index)
    namespace = f"ns-{index % 200}"
    revision = hashlib.sha1(name.encode()).hexdigest()  # a stand-in commit SHA
    resource_health = {"status": health} if health not in ("Unknown", "Missing") else None
    resources = []
    for group, kind in (("apps", "Deployment"), ("", "Service"), ("", "ConfigMap")):
        entry: dict[str, Any] = {
            "group": group,
            "version": "v1",
            "kind": kind,
            "namespace": namespace,
            "name": name,
            "status": sync,
        }
        if kind != "ConfigMap" and resource_health:
            entry["health"] = resource_health
        resources.append(entry)
    status: dict[str, Any] = {
        "sync": {"status": sync, "revision": revision},
        "health": {"status": health},
        "resources": resources,
        "sourceType": "Directory",
        "reconciledAt": "2026-12-07T12:00:00Z",
        "summary": {"images": [f"registry.example.com/{name}:1.0"]},
    }
    if sync != "Unknown" and health != "Missing":
        status["operationState"] = {
            "phase": "Succeeded" if health != "Degraded" or sync == "Synced" else "Failed",
            "message": "successfully synced (all tasks run)",
            "startedAt": "2026-12-07T11:59:58Z",
            "finishedAt": "2026-12-07T12:00:00Z",
            "operation": {"sync": {"revision": revision}},
            "syncResult": {"revision": revision},
        }
    return status


def expected_counts(size: int) -> dict[str, dict[str, int]]:
    """The fleet's apps by sync and by health (the Kubeflow apps come on top)."""
    counts: dict[str, dict[str, int]] = {"sync": {}, "health": {}}
    for index in range(size):
        sync, health = _slot(index)
        counts["sync"][sync] = counts["sync"].get(sync, 0) + 1
        counts["health"][health] = counts["health"].get(health, 0) + 1
    return counts


async def run(workdir: pathlib.Path) -> dict[str, Any]:
    """Measure S8 on a control plane of its own."""
    size = env.scaled(SIZE)
    results: dict[str, Any] = {"apps": size, "rounds": ROUNDS}
    if not env.CORPUS.is_dir():
        return {"skipped": f"{env.CORPUS} is missing (the Kubeflow tree needs it)"}
    with env.dev_cluster("full") as cluster:
        await env.install_crds(cluster.kubeconfig)
        kube = env.client(cluster.kubeconfig)
        try:
            env.log("S8: the Kubeflow root, its 27 children and their objects")
            started = time.perf_counter()
            tree = await kubeflowtree.create(kube)
            results["kubeflow_children"] = len(tree.children)
            results["kubeflow_objects"] = tree.objects
            results["kubeflow_create_s"] = round(time.perf_counter() - started, 1)
            env.log(f"S8: creating {size} Applications with statuses")
            created_s = await fleet.create_fleet(kube, size, fleet_status)
            results["create_s"] = round(created_s, 1)
            await kubeflowtree.write_statuses(kube, tree)
            settings = Settings(
                app_namespaces=(env.APP_NAMESPACE,),
                leader_election=False,
                cache_dir=str(workdir / "cache-s8"),
            )
            rt = await bootstrap.runtime(settings, kubeconfig=cluster.kubeconfig, start_cache=True)
            try:
                started = time.perf_counter()
                await rt.live.wait_synced(CACHE_SYNC_TIMEOUT_S)
                results["live_cache_synced_s"] = round(time.perf_counter() - started, 1)
                # Applications the live cache holds: the fleet and the Kubeflow apps.
                results["live_cache_applications"] = len(rt.live.keys_of(GROUP_KIND))
                async with fleet.serve(rt) as served:
                    await _measure(served, kube, tree, workdir, results)
            finally:
                await rt.close()
        finally:
            await kube.aclose()
    env.log(
        f"S8: first page p50 {results.get('list_page_p50_ms')} ms (Argo CD-style"
        f" {results.get('argo_page_p50_ms')} ms), filter p50"
        f" {results.get('filter_p50_ms')} ms, tree {results.get('tree_root_p50_ms')} ms"
    )
    return results


async def _measure(
    served: fleet.Served,
    kube: KubeClient,
    tree: kubeflowtree.KubeflowTree,
    workdir: pathlib.Path,
    results: dict[str, Any],
) -> None:
    size = results["apps"]
    index: AppIndex = served.app.state.app_index
    await index.wait_synced(120)
    total = size + 1 + len(tree.children)
    await env.eventually(lambda: fleet.true(len(index) >= total), 120, "the index", 0.1)
    results["rss_before_browser_mib"] = round(fleet.rss_mib(), 1)
    biggest = tree.biggest()
    plan = {
        "url": served.url,
        "username": "admin",
        "password": await fleet.admin_password(kube),
        "warmup": WARMUP,
        "rounds": ROUNDS,
        "apps": total,
        "filters": [list(f) for f in FILTERS],
        "search": SEARCH,
        "trees": [
            {"label": "root", "path": f"/applications/{env.APP_NAMESPACE}/{kubeflowtree.ROOT}"},
            {"label": "biggest", "path": f"/applications/{env.APP_NAMESPACE}/{biggest.name}"},
        ],
    }
    results["tree_root_managed"] = 1 + len(tree.children)
    results["tree_biggest_app"] = biggest.name
    results["tree_biggest_managed"] = len(biggest.objects)
    client = await fleet.Child.start("bench.uiclient")
    try:
        env.log("S8: measuring in Chromium")
        with fleet.profiled(workdir / "s8-ui.prof"):
            await client.send(plan)
            answer = await client.receive(1800)
    finally:
        await client.stop()
    if "error" in answer:
        raise RuntimeError(f"the browser client failed: {answer['error']}")
    results.update(summarize(answer))
    results["counts_expected"] = expected_counts(size)
    results["rss_peak_mib"] = round(env.proc_stats(os.getpid()).peak_rss_mib, 1)


SPREADS = (
    ("list_page", "list_page_ms"),
    ("argo_page", "argo_page_ms"),
    ("argo_all", "argo_all_ms"),
    ("filter", "filter_ms"),
    ("search", "search_ms"),
    ("search_typed", "search_typed_ms"),
    ("argo_filter", "argo_filter_ms"),
)
"""(result prefix, the client's list of milliseconds) for each timing S8 reports as p50/p95/max."""


def summarize(answer: Mapping[str, Any]) -> dict[str, Any]:
    """The browser client's raw timings as S8's metrics (lists of timings become spreads)."""
    out: dict[str, Any] = {}
    for prefix, key in SPREADS:
        if answer.get(key):
            out.update(report.spread(answer[key], prefix))
    for key in ("list_page_server_ms", "list_page_fcp_ms"):
        if answer.get(key):
            out.update(report.spread(answer[key], key.removesuffix("_ms")))
    out.update({k: v for k, v in answer.items() if not isinstance(v, (list, dict))})
    for label, tree in (answer.get("trees") or {}).items():
        for key, value in tree.items():
            if isinstance(value, list):
                if value:  # "ms" is the tree page's own timing; the rest are its parts
                    part = "" if key == "ms" else "_" + key.removesuffix("_ms")
                    out.update(report.spread(value, f"tree_{label}{part}"))
            else:
                out[f"tree_{label}_{key}"] = value
    return out
