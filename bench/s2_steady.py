"""S2 steady state: S1's apps with nothing changed, and 10 x N live objects in the cluster.

A fresh controller with a short resync period reconciles every app at start, then once per
period. After every app has been seen twice, a window of two periods is measured; requests and
CPU are scaled to one full resync (N reconciles) by the reconcile counter.
"""

from __future__ import annotations

import asyncio
from typing import Any

from bench import env, report
from bench.s1_throughput import Fleet

RESYNC_S = 10.0
JITTER_S = 1.0
EXTRA_NAMESPACE = "s2-extra"
LIVE_PER_APP = 10
RECONCILES = "tether_app_reconcile_count"
CACHED = "tether_cluster_cache_objects"


async def add_unmanaged(fleet: Fleet, count: int) -> None:
    """``count`` small ConfigMaps no app manages (the rest of a busy cluster)."""
    kube = env.client(fleet.kubeconfig)
    try:
        await env.ensure_namespaces(kube, EXTRA_NAMESPACE)
        await env.bounded(
            50,
            [
                kube.create(
                    {
                        "apiVersion": "v1",
                        "kind": "ConfigMap",
                        "metadata": {"name": f"extra-{i:05d}", "namespace": EXTRA_NAMESPACE},
                        "data": {"value": str(i)},
                    },
                    field_manager="bench",
                )
                for i in range(count)
            ],
        )
    finally:
        await kube.aclose()


async def run(fleet: Fleet) -> dict[str, Any]:
    """Measure S2 with a controller of its own (S1's must be stopped)."""
    extra = (LIVE_PER_APP - 1) * fleet.size
    env.log(f"S2: adding {extra} unmanaged objects")
    await add_unmanaged(fleet, extra)
    controller = await env.ControllerProcess.start(
        fleet.kubeconfig,
        fleet.workdir / "controller-s2",
        resync_s=RESYNC_S,
        jitter_s=JITTER_S,
        cache_dir=fleet.workdir / "cache-s2",
        profile=fleet.workdir / "s2.prof" if env.PROFILE else None,
    )
    try:
        started_cpu = controller.stats().cpu_s

        async def seen_twice() -> bool:
            return controller.metrics().get(RECONCILES, 0) >= 2 * fleet.size

        await env.eventually(seen_twice, 900, "every app reconciled twice", interval=2.0)
        warmup_cpu = controller.stats().cpu_s - started_cpu
        env.log("S2: steady; measuring two resync periods")
        first = controller.metrics()
        cpu_first = controller.stats().cpu_s
        await asyncio.sleep(2 * (RESYNC_S + JITTER_S / 2))
        stats = controller.stats()
        last = controller.metrics()
    finally:
        controller.stop()
    reconciles, per_resync, writes, reads = report.resync_window(
        first, last, fleet.size, RECONCILES
    )
    by_verb = report.delta(report.requests_by_verb(last), report.requests_by_verb(first))
    return {
        "apps": fleet.size,
        "live_objects": int(last.get(CACHED, 0)),
        "resync_s": RESYNC_S,
        "writes_per_resync": writes,
        "reads_per_resync": reads,
        "cpu_s_per_resync": (stats.cpu_s - cpu_first) * per_resync,
        "rss_mib": stats.rss_mib,
        "peak_rss_mib": stats.peak_rss_mib,
        "cpu_s_until_steady": warmup_cpu,
        "reconciles_in_window": int(reconciles),
        "requests_by_verb_per_resync": {
            k: round(v * per_resync, 2) for k, v in by_verb.items() if v
        },
    }
