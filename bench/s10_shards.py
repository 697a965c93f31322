"""S10 sharding: S9's fleet (10,000 one-ConfigMap apps and 100 apps of 50) on three sharded
controller replicas; each replica's RSS once all are Synced, then the takeover after ``kill -9``
of one replica: from the kill (and a commit changing every app) until every app the killed
replica owned is Synced at the new commit, reconciled by the survivors.

The survivors' own apps at the new commit are timed from the same moment: they need only the
resync to see the commit, so the difference is what the takeover costs (the Lease's expiry,
15 s, and the re-queueing).
"""

from __future__ import annotations

import asyncio
import os
import pathlib
import signal
import time
from typing import Any

from bench import env, manyapps, s9_fleet
from tether.core.cluster import sharding

REPLICAS = ("s10-0", "s10-1", "s10-2")
VICTIM = "s10-2"
DEST = "s10-dest"
RESYNC_S = 10.0 if env.QUICK else 40.0
"""As S9's steady phase: every app's turn comes once a period; the new commit is seen then."""
JITTER_S = RESYNC_S / 10


async def run(workdir: pathlib.Path) -> dict[str, Any]:
    """Measure S10 on a control plane of its own."""
    with env.dev_cluster("full") as cluster:
        await env.install_crds(cluster.kubeconfig)
        return await _measure(cluster.kubeconfig, workdir / "s10")


async def _measure(kubeconfig: pathlib.Path, workdir: pathlib.Path) -> dict[str, Any]:
    fleet = s9_fleet.layout(prefix="s10", dest=DEST)
    kube = env.client(kubeconfig)
    repo, sha = manyapps.serve(fleet, workdir / "git")
    members = frozenset(REPLICAS)
    owner = {
        name: sharding.owner(sharding.app_id(fleet.namespace, name), members)
        for name in fleet.names()
    }
    replicas: dict[str, env.ControllerProcess] = {}
    results: dict[str, Any] = {"apps": fleet.size, "objects": fleet.objects, "replicas": 3}
    try:
        await env.ensure_namespaces(kube, DEST)
        for name in REPLICAS:
            replicas[name] = await env.ControllerProcess.start(
                kubeconfig,
                workdir / name,
                resync_s=RESYNC_S,
                jitter_s=JITTER_S,
                cache_dir=workdir / f"cache-{name}",
                settings={"sharding": "true", "replica_name": name},
            )
        waiter, _ = await manyapps.wait_logged(kube, fleet, manyapps.synced_at(sha), "S10 Synced")
        started = time.perf_counter()
        await manyapps.create(kube, fleet, repo.url)
        synced_s = await asyncio.wait_for(waiter, timeout=max(900.0, fleet.size * 0.3)) - started
        rss = {name: replicas[name].stats().rss_mib for name in REPLICAS}
        peak = {name: replicas[name].stats().peak_rss_mib for name in REPLICAS}
        env.log(f"S10: all Synced in {synced_s:.1f} s on 3 replicas; RSS {rss}")
        results |= {
            "synced_s": synced_s,
            "apps_by_replica": {n: sum(1 for o in owner.values() if o == n) for n in REPLICAS},
            "rss_mib_by_replica": rss,
            "peak_rss_mib_by_replica": peak,
        }
        results |= await _takeover(kube, fleet, repo, owner, replicas[VICTIM])
    finally:
        for process in replicas.values():
            process.stop()
        await kube.aclose()
        repo.stop()
    return results


async def _takeover(
    kube: Any,
    fleet: manyapps.Layout,
    repo: env.ServedRepo,
    owner: dict[str, str | None],
    victim: env.ControllerProcess,
) -> dict[str, Any]:
    """Kill the victim, commit a change to every app; until each side's apps are at it."""
    theirs = {name for name in fleet.names() if owner[name] == VICTIM}
    files = {f"{fleet.path(i)}/cms.yaml": fleet.manifest(i, "v1") for i in range(fleet.size)}
    os.kill(victim.popen.pid, signal.SIGKILL)
    killed = time.perf_counter()
    new_sha = repo.commit(files, "s10 takeover")
    at_new = manyapps.synced_at(new_sha)

    def taken(obj: dict[str, Any]) -> bool:  # the others' apps count as done here
        return obj["metadata"]["name"] not in theirs or at_new(obj)

    def own(obj: dict[str, Any]) -> bool:
        return obj["metadata"]["name"] in theirs or at_new(obj)

    victims_wait, _ = await manyapps.wait_logged(kube, fleet, taken, "S10 victim's apps")
    others_wait, _ = await manyapps.wait_logged(kube, fleet, own, "S10 survivors' apps")
    timeout = max(900.0, fleet.size * 0.3)
    takeover_s = await asyncio.wait_for(victims_wait, timeout) - killed
    survivors_s = await asyncio.wait_for(others_wait, timeout) - killed
    env.log(f"S10 takeover: {takeover_s:.1f} s (survivors' own apps: {survivors_s:.1f} s)")
    return {
        "victim_apps": len(theirs),
        "takeover_s": takeover_s,
        "survivors_own_apps_s": survivors_s,
        "resync_s": RESYNC_S,
    }
