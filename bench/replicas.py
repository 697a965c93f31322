"""The replicas dimension of the scaling section: one fleet synced by 1, 2 and 3 sharded replicas.

S9's fleet at a tenth of its size (1,000 one-ConfigMap apps and 10 apps of 50; a tenth of that
with ``BENCH_QUICK=1``), created at once, on a fresh control plane per replica count: the time
until all are Synced, each replica's RSS, and the replicas' CPU together. S9 (one controller) and
S10 (three replicas) give the same comparison at full size.
"""

from __future__ import annotations

import asyncio
import pathlib
import time
from typing import Any

from bench import env, manyapps, s9_fleet

COUNTS = (1, 2, 3)
SIZE_DIVISOR = 10
"""The fleet is S9's divided by this: three control planes and fleets fit in minutes."""
RESYNC_S = 180.0
"""Long: the measurement is the first sync, not a resync."""


async def run(workdir: pathlib.Path) -> dict[str, Any]:
    """Measure each replica count on a control plane of its own."""
    points: dict[str, Any] = {}
    for count in COUNTS:
        with env.dev_cluster("full") as cluster:
            await env.install_crds(cluster.kubeconfig)
            points[str(count)] = got = await _measure(
                cluster.kubeconfig, workdir / f"replicas-{count}", count
            )
        env.log(
            f"replicas {count}: {got['synced_s']:.1f} s, RSS per replica "
            f"{got['rss_mib_per_replica']}, CPU {got['cpu_ms_per_app']:.1f} ms per app"
        )
    return {"apps": points["1"]["apps"], "points": points}


async def _measure(kubeconfig: pathlib.Path, workdir: pathlib.Path, count: int) -> dict[str, Any]:
    full = s9_fleet.layout(prefix=f"r{count}", dest=f"replicas-{count}")
    fleet = manyapps.Layout(
        small=max(1, full.small // SIZE_DIVISOR),
        large=max(1, full.large // SIZE_DIVISOR),
        objects_per_large=full.objects_per_large,
        prefix=full.prefix,
        dest=full.dest,
    )
    kube = env.client(kubeconfig)
    repo, sha = manyapps.serve(fleet, workdir / "git")
    replicas: list[env.ControllerProcess] = []
    try:
        await env.ensure_namespaces(kube, fleet.dest)
        for index in range(count):
            name = f"r{count}-{index}"
            settings = {"sharding": "true", "replica_name": name} if count > 1 else {}
            replicas.append(
                await env.ControllerProcess.start(
                    kubeconfig,
                    workdir / name,
                    resync_s=RESYNC_S,
                    jitter_s=RESYNC_S / 10,
                    cache_dir=workdir / f"cache-{name}",
                    settings=settings,
                )
            )
        cpu_before = sum(r.stats().cpu_s for r in replicas)
        waiter, _ = await manyapps.wait_logged(
            kube, fleet, manyapps.synced_at(sha), f"replicas {count} Synced"
        )
        started = time.perf_counter()
        await manyapps.create(kube, fleet, repo.url)
        synced_s = await asyncio.wait_for(waiter, timeout=max(600.0, fleet.size)) - started
        cpu_s = sum(r.stats().cpu_s for r in replicas) - cpu_before
        return {
            "apps": fleet.size,
            "objects": fleet.objects,
            "replicas": count,
            "synced_s": round(synced_s, 1),
            "rss_mib_per_replica": [round(r.stats().rss_mib) for r in replicas],
            "cpu_ms_per_app": round(1000 * cpu_s / fleet.size, 1),
        }
    finally:
        for process in replicas:
            process.stop()
        await kube.aclose()
        repo.stop()
