"""Restart: N kustomize apps Synced, the controller stopped; time for a new one to compare them all.

A restart is not a cold start: the new controller finds the Git mirrors, trees and rendered
manifests the last one left under its cache directory, and runs no tool for a commit already
rendered. Measured on a control plane of its own, in one run, against the same restart with
only the rendered manifests removed (Git warm: what a restart cost before the render cache went
to disk) and with an empty cache directory (a new replica on a new node).
"""

from __future__ import annotations

import asyncio
import os
import pathlib
import shutil
import time
from typing import Any

from bench import env, report, s1_throughput as s1

SIZE = 1000
DEST = "restart"
KUSTOMIZATION = "resources: [cm.yaml]\n"
"""Every app is a kustomization: a render spawns kustomize, as most real apps spawn a tool."""


def files(size: int) -> dict[str, str]:
    """The repository: one kustomization and one ConfigMap per app."""
    tree: dict[str, str] = {}
    for index in range(size):
        tree[s1.cm_path(index)] = s1.cm_yaml(index)
        tree[f"apps/{s1.app_name(index)}/kustomization.yaml"] = KUSTOMIZATION
    return tree


def reconciles(controller: env.ControllerProcess) -> float:
    """Reconciles the controller has finished since it started (``argocd_app_reconcile``)."""
    samples = controller.metrics()
    return sum(v for k, v in samples.items() if k.startswith("argocd_app_reconcile_count"))


async def restarted(
    kubeconfig: pathlib.Path, workdir: pathlib.Path, name: str, cache_dir: pathlib.Path, size: int
) -> dict[str, Any]:
    """Start a controller on ``cache_dir``; seconds until it has compared ``size`` apps."""
    load = os.getloadavg()[0]
    started = time.perf_counter()
    controller = await env.ControllerProcess.start(
        kubeconfig, workdir / f"controller-{name}", resync_s=600, jitter_s=30, cache_dir=cache_dir
    )
    try:
        ready_s = time.perf_counter() - started
        deadline = started + max(600.0, size * 2.0)
        while (done := reconciles(controller)) < size:
            if time.perf_counter() > deadline:
                raise TimeoutError(f"{name}: {done:.0f} of {size} apps compared")
            await asyncio.sleep(0.25)
        compared_s = time.perf_counter() - started
        cpu_s = controller.stats().cpu_s
    finally:
        controller.stop()
    env.log(f"restart {name}: {compared_s:.1f} s (ready after {ready_s:.1f} s), load {load:.1f}")
    return {
        "s": compared_s,
        "ready_s": ready_s,
        "after_ready_s": compared_s - ready_s,
        "cpu_s": cpu_s,
        "loadavg_1m": round(load, 2),
    }


async def run(workdir: pathlib.Path) -> dict[str, Any]:
    """Measure the restart on a control plane of its own."""
    size = env.scaled(SIZE)
    with env.dev_cluster("full") as cluster:
        await env.install_crds(cluster.kubeconfig)
        return await _measure(cluster.kubeconfig, workdir / "restart", size)


async def _measure(kubeconfig: pathlib.Path, workdir: pathlib.Path, size: int) -> dict[str, Any]:
    kube = env.client(kubeconfig)
    repo = env.ServedRepo.create(workdir / "git", files(size))
    warm = workdir / "cache"
    try:
        await env.ensure_namespaces(kube, DEST)
        sha = env.git("rev-parse", "HEAD", cwd=repo.work)
        first = await env.ControllerProcess.start(
            kubeconfig, workdir / "controller-first", resync_s=600, jitter_s=30, cache_dir=warm
        )
        try:
            names = {s1.app_name(i) for i in range(size)}
            watching = asyncio.Event()
            waiter = asyncio.create_task(
                s1.wait_all(
                    kube, env.APP_NAMESPACE, names, lambda o: s1.is_synced(o, sha), started=watching
                )
            )
            await watching.wait()
            started = time.perf_counter()
            await env.bounded(
                50,
                [
                    kube.create(
                        s1.application(i, repo.url, DEST, env.APP_NAMESPACE), field_manager="bench"
                    )
                    for i in range(size)
                ],
            )
            await asyncio.wait_for(waiter, timeout=max(600.0, size * 2.0))
            first_s = time.perf_counter() - started
            env.log(f"restart: {size} kustomize apps Synced in {first_s:.1f} s; stopping")
        finally:
            first.stop()
        rendered = warm / "manifests"
        entries = sum(1 for p in rendered.rglob("*") if p.is_file())
        disk_bytes = sum(p.stat().st_size for p in rendered.rglob("*") if p.is_file())

        arms: dict[str, dict[str, Any]] = {}
        arms["warm"] = await restarted(kubeconfig, workdir, "warm", warm, size)
        # The same restart without the rendered manifests: Git's caches warm, every app rendered.
        shutil.rmtree(rendered)
        arms["git_only"] = await restarted(kubeconfig, workdir, "git-only", warm, size)
        arms["empty"] = await restarted(kubeconfig, workdir, "empty", workdir / "empty", size)
        # Once more at the end: the load of a shared machine moves within a run.
        arms["warm_again"] = await restarted(kubeconfig, workdir, "warm-again", warm, size)
    finally:
        repo.stop()
        await kube.aclose()
    results: dict[str, Any] = {
        "apps": size,
        "first_sync_s": first_s,
        "disk_entries": entries,
        "disk_kib": disk_bytes // 1024,
    }
    for arm, outcome in arms.items():
        for key, value in outcome.items():
            results[f"{arm}_{key}"] = value
    warm_s = min(arms["warm"]["s"], arms["warm_again"]["s"])
    results["empty_ratio"] = report.ratio(arms["empty"]["s"], warm_s)
    results["git_only_ratio"] = report.ratio(arms["git_only"]["s"], warm_s)
    # Start-up (Python, the watch cache's first lists) is the same in every arm; after it, the
    # comparisons alone: what the render cache on disk saves.
    after = min(arms["warm"]["after_ready_s"], arms["warm_again"]["after_ready_s"])
    results["empty_ratio_after_ready"] = report.ratio(arms["empty"]["after_ready_s"], after)
    results["git_only_ratio_after_ready"] = report.ratio(arms["git_only"]["after_ready_s"], after)
    return results
