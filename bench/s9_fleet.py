"""S9 10,000 Applications: 10,000 apps of one ConfigMap and 100 apps of 50, auto-synced, created
at once on one controller with leader election on; time until all are Synced, the controller's
peak RSS and requests by verb; then a fresh controller (the same Lease) with a short resync period:
CPU per app per resync with nothing to write.

Baselines on the same control plane, after tether's phases: the floor (a bare lightkube client
creating each Application, server-side applying each of its objects and writing one status, 20 at
a time like tether's 20 workers) and ``kubectl apply --server-side`` once per app directory, run
over every ``KUBECTL_EVERY``-th app (the whole loop would take a quarter of an hour) and scaled to
the fleet: ``kubectl_sampled_every`` and ``kubectl_sampled_s`` say so.
"""

from __future__ import annotations

import asyncio
import json
import os
import pathlib
import time
from typing import Any

from bench import env, manyapps, report
from tether.adapters.kube.client import KubeClient

SMALL, LARGE, OBJECTS_PER_LARGE = 10_000, 100, 50
KUBECTL_EVERY = 50 if env.QUICK else 10
"""The kubectl loop runs over every tenth app (every fiftieth in a quick run: it is the slowest
part of S9 and the quick run has minutes), small and large alike, then is scaled."""
DEST, FLOOR_APPS, FLOOR_DEST, KUBECTL_DEST = "s9-dest", "s9-floor", "s9-floor-dest", "s9-kubectl"
RESYNC_S, JITTER_S = 180.0, 30.0
"""While syncing: Argo CD's defaults (a resync must not fall inside the measured sync)."""
STEADY_RESYNC_S = 5.0 if env.QUICK else 40.0
"""The steady phase's resync period: long enough that every app's turn comes once a period
even at 10,000 apps and a few ms each (else the window measures a queue that never empties)."""
STEADY_JITTER_S = STEADY_RESYNC_S / 10
LEADER_ELECTION = os.environ.get("BENCH_S9_LEADER_ELECTION", "1") != "0"
"""On by default, as issue 16 asks; ``BENCH_S9_LEADER_ELECTION=0`` measures the rest when a
leader cannot keep its Lease (its event loop saturated at 10,000 apps on a loaded machine)."""
RECONCILES = "tether_app_reconcile_count"
LEASE = "s9-bench"


def layout() -> manyapps.Layout:
    """S9's fleet (a tenth of it in a quick run; the large apps keep their 50 objects)."""
    return manyapps.Layout(
        small=env.scaled(SMALL),
        large=env.scaled(LARGE),
        objects_per_large=OBJECTS_PER_LARGE,
        prefix="s9",
        dest=DEST,
    )


async def run(workdir: pathlib.Path) -> dict[str, Any]:
    """Measure S9 on a control plane of its own."""
    with env.dev_cluster("full") as cluster:
        await env.install_crds(cluster.kubeconfig)
        return await _measure(cluster.kubeconfig, workdir / "s9")


async def _measure(kubeconfig: pathlib.Path, workdir: pathlib.Path) -> dict[str, Any]:
    fleet = layout()
    kube = env.client(kubeconfig)
    repo, sha = manyapps.serve(fleet, workdir / "git")
    results: dict[str, Any] = {
        "apps": fleet.size,
        "small_apps": fleet.small,
        "large_apps": fleet.large,
        "objects": fleet.objects,
        "leader_election": LEADER_ELECTION,
    }
    try:
        await env.ensure_namespaces(kube, DEST, FLOOR_APPS, FLOOR_DEST, KUBECTL_DEST)
        # tether first, the baselines after: at full size on a loaded machine the baselines
        # take longer than tether, and a run cut short should still have tether's numbers.
        results |= await _sync_phase(kubeconfig, workdir, kube, fleet, repo.url, sha)
        env.log(f"S9 so far: {json.dumps(results)}")
        results |= await _steady_phase(kubeconfig, workdir, fleet)
        env.log(f"S9 so far: {json.dumps(results)}")
        env.log(f"S9 floor: {fleet.size} apps, {fleet.objects} objects")
        floor_s = await manyapps.floor(kubeconfig, fleet, repo.url, sha, FLOOR_APPS, FLOOR_DEST)
        results |= {"floor_s": floor_s, "floor_ratio": results["tether_s"] / floor_s}
        env.log(f"S9 floor: {floor_s:.1f} s; kubectl loop over every {KUBECTL_EVERY}th app")
        sampled = manyapps.kubectl_sampled(
            kubeconfig, repo.work, fleet, KUBECTL_EVERY, KUBECTL_DEST
        )
        env.log(f"S9 kubectl: {sampled.seconds:.1f} s sampled, {sampled.scaled_s:.0f} s scaled")
        results |= {
            "kubectl_s": sampled.scaled_s,
            "kubectl_sampled_every": sampled.every,
            "kubectl_sampled_apps": sampled.apps,
            "kubectl_sampled_s": sampled.seconds,
            "kubectl_ratio": results["tether_s"] / sampled.scaled_s,
        }
    finally:
        await kube.aclose()
        repo.stop()
    return results


async def _sync_phase(
    kubeconfig: pathlib.Path,
    workdir: pathlib.Path,
    kube: KubeClient,
    fleet: manyapps.Layout,
    repo_url: str,
    sha: str,
) -> dict[str, Any]:
    """Create every Application at once; until all are Synced at ``sha``."""
    controller = await env.ControllerProcess.start(
        kubeconfig,
        workdir / "controller-sync",
        resync_s=RESYNC_S,
        jitter_s=JITTER_S,
        cache_dir=workdir / "cache",
        profile=workdir / "s9-sync.prof" if env.PROFILE else None,
        leader_election=LEADER_ELECTION,
        settings={"lease_name": LEASE},
    )
    try:
        waiter, progress = await manyapps.wait_logged(
            kube, fleet, manyapps.synced_at(sha), "S9 Synced"
        )
        before = controller.requests()
        cpu_before = controller.stats().cpu_s
        started = time.perf_counter()
        created_s = await manyapps.create(kube, fleet, repo_url)
        env.log(f"S9: {fleet.size} Applications created in {created_s:.1f} s")
        finished = await _unless_it_ends(controller, waiter, timeout=max(900.0, fleet.size * 0.3))
        tether_s = finished - started
        stats = controller.stats()  # before the scrape: /metrics walks every app, at a cost
        at_synced = report.delta(controller.requests(), before)
        env.log(f"S9 tether: {tether_s:.1f} s, peak RSS {stats.peak_rss_mib:.0f} MiB")
        requests = report.delta(await _settled(controller), before)
        cpu_s = controller.stats().cpu_s - cpu_before
        peak = controller.stats().peak_rss_mib
    finally:
        controller.stop()
    return {
        "tether_s": tether_s,
        "created_s": created_s,
        "apps_per_s": fleet.size / tether_s,
        "synced": progress.done,
        "peak_rss_mib": peak,
        "rss_mib_at_synced": stats.rss_mib,
        "controller_cpu_s": cpu_s,
        "controller_cpu_s_at_synced": stats.cpu_s - cpu_before,
        "controller_cpu_ms_per_app": 1000 * cpu_s / fleet.size,
        "requests_per_app": sum(requests.values()) / fleet.size,
        "requests_by_verb": {k: int(v) for k, v in requests.items() if v},
        "requests_at_synced": {k: int(v) for k, v in at_synced.items() if v},
    }


async def _unless_it_ends(
    controller: env.ControllerProcess, waiter: asyncio.Task[float], timeout: float
) -> float:
    """``waiter``'s result, or an error with the log's end as soon as the controller exits (a
    leader that lost its Lease stops), instead of waiting out the timeout."""
    deadline = time.monotonic() + timeout
    while not waiter.done():
        if controller.popen.poll() is not None:
            waiter.cancel()
            raise RuntimeError(f"the controller exited: {controller.log_tail()[-600:]}")
        if time.monotonic() > deadline:
            waiter.cancel()
            raise TimeoutError(f"not every app was Synced within {timeout:.0f} s")
        await asyncio.wait([waiter], timeout=1.0)
    return waiter.result()


POLL_S = 2.0 if env.QUICK else 10.0
"""How often the bench reads the controller's /metrics while waiting: each read parses every
Application in the controller (seconds of its CPU at 10,000 apps), so not every second."""


async def _settled(controller: env.ControllerProcess) -> dict[str, float]:
    """The controller's request counts once they stop moving for ``POLL_S`` (events go out
    late)."""
    deadline = time.monotonic() + 180
    last = controller.requests()
    while time.monotonic() < deadline:
        await asyncio.sleep(POLL_S)
        now = controller.requests()
        if now == last:
            break
        last = now
    return last


async def _steady_phase(
    kubeconfig: pathlib.Path, workdir: pathlib.Path, fleet: manyapps.Layout
) -> dict[str, Any]:
    """A fresh controller (taking over the released Lease) with a short resync period: once every
    app has been reconciled, one resync period measured and scaled to one resync of every app by
    the reconcile counter."""
    started = time.perf_counter()
    controller = await env.ControllerProcess.start(
        kubeconfig,
        workdir / "controller-steady",
        resync_s=STEADY_RESYNC_S,
        jitter_s=STEADY_JITTER_S,
        cache_dir=workdir / "cache",
        profile=workdir / "s9-steady.prof" if env.PROFILE else None,
        leader_election=LEADER_ELECTION,
        settings={"lease_name": LEASE},
    )
    try:
        ready_s = time.perf_counter() - started

        async def first_pass() -> bool:
            return controller.metrics().get(RECONCILES, 0) >= fleet.size

        await env.eventually(first_pass, 900, "every app reconciled once", interval=POLL_S)
        first_pass_s = time.perf_counter() - started
        env.log(f"S9 steady: ready in {ready_s:.1f} s, first pass {first_pass_s:.1f} s; measuring")
        first = controller.metrics()
        cpu_first = controller.stats().cpu_s
        await asyncio.sleep(STEADY_RESYNC_S + STEADY_JITTER_S)
        stats = controller.stats()
        last = controller.metrics()
    finally:
        controller.stop()
    reconciles = last.get(RECONCILES, 0) - first.get(RECONCILES, 0)
    per_resync = fleet.size / reconciles if reconciles else 0.0
    by_verb = report.delta(report.requests_by_verb(last), report.requests_by_verb(first))
    writes, reads = report.writes_and_reads(by_verb)
    cpu_s = stats.cpu_s - cpu_first
    return {
        "restart_ready_s": ready_s,
        "restart_first_pass_s": first_pass_s,
        "steady_resync_s": STEADY_RESYNC_S,
        "steady_reconciles": int(reconciles),
        "resync_cpu_ms_per_app": 1000 * cpu_s / reconciles if reconciles else None,
        "resync_writes": writes * per_resync,
        "resync_reads": reads * per_resync,
        "steady_rss_mib": stats.rss_mib,
        "steady_peak_rss_mib": stats.peak_rss_mib,
    }
