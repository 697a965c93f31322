"""S3 change latency: push a commit, ask for a refresh as a webhook would, time until the object
changes in the cluster. Runs on S1's fleet, so the controller holds N apps while it answers.

Two series: ``normal`` refreshes (what Argo CD's webhook sends; the headline numbers) and
``hard`` ones. A normal refresh that has not applied the commit within ``MISS_S`` counts as a
miss (its real latency is up to the next periodic resync); a hard refresh then brings the app
up to date so the next commit starts clean.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from bench import env, report
from bench.s1_throughput import API, DEST, Fleet, app_name, cm_path, cm_yaml
from tether.adapters.kube.client import KubeClient

COMMITS = 50
MISS_S = 5.0
POLL_S = 0.02
REFRESH = "argocd.argoproj.io/refresh"


async def _applied(kube: KubeClient, index: int, value: str, timeout: float) -> bool:
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        cm = await kube.get("v1", "ConfigMap", f"cm-{index:04d}", DEST)
        if cm is not None and (cm.get("data") or {}).get("value") == value:
            return True
        await asyncio.sleep(POLL_S)
    return False


async def _refresh(kube: KubeClient, index: int, level: str) -> None:
    await kube.patch(
        API,
        "Application",
        app_name(index),
        env.APP_NAMESPACE,
        patch={"metadata": {"annotations": {REFRESH: level}}},
        field_manager="bench",
    )


async def _series(
    kube: KubeClient, fleet: Fleet, level: str, commits: int, first: int
) -> list[float | None]:
    """Latencies of ``commits`` pushes followed by a ``level`` refresh (None: a miss)."""
    latencies: list[float | None] = []
    for step in range(first, first + commits):
        index = step % min(fleet.size, 10)
        value = f"s3-{step}"
        fleet.repo.commit({cm_path(index): cm_yaml(index, value)}, f"S3 change {step}")
        started = time.perf_counter()
        await _refresh(kube, index, level)
        if await _applied(kube, index, value, MISS_S if level == "normal" else 120.0):
            latencies.append(time.perf_counter() - started)
            continue
        latencies.append(None)
        if level == "hard":
            raise TimeoutError(f"S3: commit {step} not applied within 120 s of a hard refresh")
        await _refresh(kube, index, "hard")
        if not await _applied(kube, index, value, 120.0):
            raise TimeoutError(f"S3: commit {step} not applied within 120 s of a hard refresh")
    return latencies


async def run(fleet: Fleet) -> dict[str, Any]:
    """Measure S3 against the fleet's controller."""
    commits = env.scaled(COMMITS)
    kube = env.client(fleet.kubeconfig)
    try:
        normal = await _series(kube, fleet, "normal", commits, 0)
        hard = await _series(kube, fleet, "hard", commits, commits)
    finally:
        await kube.aclose()
    misses = sum(1 for v in normal if v is None)
    env.log(f"S3: {commits} commits per series, {misses} normal refreshes missed")
    return {
        "commits": commits,
        "p50_s": report.percentile_with_misses(normal, 50),
        "p95_s": report.percentile_with_misses(normal, 95),
        "normal_missed": misses,
        "miss_after_s": MISS_S,
        "hard_p50_s": report.percentile_with_misses(hard, 50),
        "hard_p95_s": report.percentile_with_misses(hard, 95),
    }
