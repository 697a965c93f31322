"""A controller child over a ``manyapps`` fleet: every Application created at once and timed until
all are Synced (CPU, requests, RSS), then a fresh controller's steady resync (CPU per app with
nothing to write). What a scale scenario measures per fleet, shared so each one does it alike.
"""

from __future__ import annotations

import asyncio
import dataclasses
import pathlib
import time
from collections.abc import Mapping
from typing import Any

from bench import env, manyapps, report, s1_throughput as s1
from tether.adapters.kube.client import KubeClient

SYNC_RESYNC_S, SYNC_JITTER_S = 180.0, 30.0
"""While syncing: Argo CD's defaults (a resync must not fall inside the measured sync)."""
RECONCILES = "tether_app_reconcile_count"
QUIET_S = 1.0 if env.QUICK else 2.0
"""How long the request counters must stand still before the work of a sync counts as done."""


@dataclasses.dataclass(frozen=True)
class Controllers:
    """How a scenario starts its controller children: where, and with which settings."""

    kubeconfig: pathlib.Path
    workdir: pathlib.Path
    name: str
    """Prefix of the children's directories and profiles."""
    leader_election: bool = False
    settings: Mapping[str, str] = dataclasses.field(default_factory=dict)
    poll_s: float = 0.5
    """How often the bench reads a child's /metrics while waiting: each read parses every
    Application in the controller (seconds of its CPU at 10,000 apps)."""

    async def start(self, phase: str, resync_s: float, jitter_s: float) -> env.ControllerProcess:
        """A controller child for ``phase``, ready (its cache synced, reconciling)."""
        return await env.ControllerProcess.start(
            self.kubeconfig,
            self.workdir / f"controller-{phase}",
            resync_s=resync_s,
            jitter_s=jitter_s,
            cache_dir=self.workdir / "cache",
            profile=self.workdir / f"{self.name}-{phase}.prof" if env.PROFILE else None,
            leader_election=self.leader_election,
            settings=self.settings,
        )


async def sync_phase(
    controllers: Controllers,
    kube: KubeClient,
    fleet: manyapps.Layout,
    repo_url: str,
    sha: str,
) -> dict[str, Any]:
    """Create every Application at once; until all are Synced at ``sha``, and until the
    controller has gone quiet (Events go out late) for the requests and CPU."""
    controller = await controllers.start("sync", SYNC_RESYNC_S, SYNC_JITTER_S)
    try:
        waiter, progress = await manyapps.wait_logged(
            kube, fleet, manyapps.synced_at(sha), f"{controllers.name} Synced"
        )
        before = controller.requests()
        cpu_before = controller.stats().cpu_s
        started = time.perf_counter()
        created_s = await manyapps.create(kube, fleet, repo_url)
        env.log(f"{controllers.name}: {fleet.size} Applications created in {created_s:.1f} s")
        finished = await unless_it_ends(controller, waiter, timeout=max(900.0, fleet.size * 0.3))
        tether_s = finished - started
        stats = controller.stats()  # before the scrape: /metrics walks every app, at a cost
        at_synced = report.delta(controller.requests(), before)
        env.log(f"{controllers.name}: {tether_s:.1f} s, peak RSS {stats.peak_rss_mib:.0f} MiB")
        quiet_s = max(QUIET_S, controllers.poll_s)
        requests = report.delta(
            await s1.settled(controller, quiet_s=quiet_s, timeout_s=120.0), before
        )
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
        "controller_cpu_ms_per_object": 1000 * cpu_s / fleet.objects,
        "requests_per_app": sum(requests.values()) / fleet.size,
        "requests_by_verb": {k: int(v) for k, v in requests.items() if v},
        "requests_at_synced": {k: int(v) for k, v in at_synced.items() if v},
    }


async def unless_it_ends(
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


async def steady_phase(
    controllers: Controllers, fleet: manyapps.Layout, resync_s: float, jitter_s: float
) -> dict[str, Any]:
    """A fresh controller with a short resync period: once every app has been reconciled, one
    resync period measured and scaled to one resync of every app by the reconcile counter.

    ``resync_s`` must be long enough for every app's turn to come once a period (else the window
    measures a queue that never empties)."""
    started = time.perf_counter()
    controller = await controllers.start("steady", resync_s, jitter_s)
    try:
        ready_s = time.perf_counter() - started

        async def first_pass() -> bool:
            return controller.metrics().get(RECONCILES, 0) >= fleet.size

        await env.eventually(
            first_pass, 900, "every app reconciled once", interval=controllers.poll_s
        )
        first_pass_s = time.perf_counter() - started
        env.log(
            f"{controllers.name} steady: ready in {ready_s:.1f} s, first pass "
            f"{first_pass_s:.1f} s; measuring {resync_s + jitter_s:.0f} s"
        )
        first = controller.metrics()
        cpu_first = controller.stats().cpu_s
        await asyncio.sleep(resync_s + jitter_s)
        stats = controller.stats()
        last = controller.metrics()
    finally:
        controller.stop()
    reconciles, _per_resync, writes, reads = report.resync_window(
        first, last, fleet.size, RECONCILES
    )
    cpu_s = stats.cpu_s - cpu_first
    return {
        "restart_ready_s": ready_s,
        "restart_first_pass_s": first_pass_s,
        "steady_resync_s": resync_s,
        "steady_reconciles": int(reconciles),
        "resync_cpu_ms_per_app": 1000 * cpu_s / reconciles if reconciles else None,
        "resync_writes": writes,
        "resync_reads": reads,
        "steady_rss_mib": stats.rss_mib,
        "steady_peak_rss_mib": stats.peak_rss_mib,
    }
