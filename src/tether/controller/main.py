"""The controller process: check the CRDs, win the Lease, start the cache, reconcile, serve metrics.

``tether run`` calls :func:`run`; it returns when the process is asked to stop (SIGTERM/SIGINT),
after releasing the Lease so a standby replica takes over at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from typing import Any

from tether import bootstrap, ports
from tether.controller import appsetting, metrics, notifying
from tether.controller.loop import APPLICATION, Controller
from tether.controller.sharding import Shards
from tether.model.errors import TetherError
from tether.services import diskcache
from tether.settings import Settings

log = logging.getLogger(__name__)

CACHE_SYNC_TIMEOUT_S = 300.0
"""The initial list of every type: seconds on a small cluster, minutes on a very large one."""


class StartupError(TetherError):
    """The controller refuses to start, and says why."""


Beside = Callable[[bootstrap.Runtime, asyncio.Event], Coroutine[Any, Any, None]]
"""A job hosted in the controller's process over its runtime (the API server in ``tether
run``); it runs on every replica, leading or not, and ends when the event is set."""


async def run(
    settings: Settings,
    *,
    kubeconfig: str | None = None,
    ready: asyncio.Event | None = None,
    beside: Sequence[Beside] = (),
    api_address: str = "",
    configured: Callable[[Settings], None] | None = None,
) -> None:
    """Run the controller (and the ``beside`` jobs) until SIGTERM or SIGINT.

    ``api_address`` is where the hosted API server listens (for the startup line; empty: none).
    ``configured`` is called with the settings once Argo CD's ConfigMaps are read into them
    (the CLI applies their log format and level).
    """
    stop = bootstrap.stop_on_signals()
    rt = await bootstrap.runtime(
        settings, kubeconfig=kubeconfig, start_cache=False, system_config=True
    )
    settings = rt.settings  # with what Argo CD's ConfigMaps set at start
    if configured is not None:
        configured(settings)
    _announce(settings, api_address)
    probes = metrics.Probes()
    heart = asyncio.create_task(_beat(probes))
    try:
        problems = await rt.installer.problems()
        if problems:
            raise StartupError("refusing to start: " + "; ".join(problems))
        controller = Controller(rt)
        server = metrics.serve(settings.metrics_address, controller, rt, probes)
        host = settings.metrics_address.rpartition(":")[0] or "127.0.0.1"
        url = f"http://{host}:{server.port}"
        log.info("serving /metrics, /healthz and /readyz on %s", url, extra={"metrics": url})
        # Every replica prunes its own disk, leading or not (a repo-server prunes its own).
        pruning = (
            asyncio.create_task(diskcache.prune_periodically(rt.disk, settings.disk_prune_period))
            if rt.disk is not None
            else None
        )
        hosted = [asyncio.create_task(job(rt, stop)) for job in beside]
        try:
            await _lead_and_reconcile(rt, controller, stop, ready, hosted, probes)
        finally:
            probes.phase = metrics.Phase.STOPPING
            stop.set()
            ended = await asyncio.gather(*hosted, return_exceptions=True)
            if pruning is not None:
                pruning.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await pruning
            server.close()
        failed = [err for err in ended if isinstance(err, Exception)]
        if failed:
            raise failed[0]  # a hosted job that failed (the API's port taken) fails the process
    finally:
        heart.cancel()
        await rt.close()


def _announce(settings: Settings, api_address: str) -> None:
    """The startup line: what this process watches and where it answers."""
    rendering = f"repo-server {settings.repo_server}" if settings.repo_server else "in-process"
    log.info(
        "tether controller starting: Applications in %s, rendering %s",
        ", ".join(settings.app_namespaces),
        rendering,
        extra={
            "namespaces": list(settings.app_namespaces),
            "clusters": f"in-cluster and the cluster Secrets in {settings.control_plane_namespace}",
            "leader_election": settings.leader_election and not settings.sharding,
            "sharding": settings.replica_name if settings.sharding else "off",
            "rendering": rendering,
            "api": api_address or "off",
            "metrics": settings.metrics_address,
            "workers": settings.workers,
        },
    )


async def _beat(probes: metrics.Probes) -> None:
    """Tell ``/healthz`` the event loop runs."""
    while True:
        probes.beat()
        await asyncio.sleep(metrics.BEAT_EVERY_S)


async def _lead_and_reconcile(
    rt: bootstrap.Runtime,
    controller: Controller,
    stop: asyncio.Event,
    ready: asyncio.Event | None,
    hosted: Sequence[asyncio.Task[None]] = (),
    probes: metrics.Probes | None = None,
) -> None:
    probes = probes or metrics.Probes()
    identity = f"{socket.gethostname()}_{os.getpid()}"
    shards = Shards(rt) if rt.settings.sharding else None
    membership = shards.join(identity) if shards else None
    leading = rt.settings.leader_election and shards is None
    election = rt.leader_election(identity) if leading else None
    member = membership or election
    campaign = asyncio.create_task(member.run()) if member else None
    try:
        if election is not None:
            probes.phase = metrics.Phase.STANDBY
            log.info("waiting to lead (%s)", identity, extra={"identity": identity})
            if not await _first(election.leading.wait(), _any(stop, hosted)):
                return
            log.info("leading as %s", identity, extra={"identity": identity})
        probes.phase = metrics.Phase.SYNCING
        if shards is not None:
            controller.queue.admit = shards.owns  # before any event can queue an app
        controller.start_watching()
        rt.config.start()
        await rt.live_start()
        await rt.live.wait_synced(CACHE_SYNC_TIMEOUT_S)
        await controller.reload_credentials()
        controller.enqueue_all()
        if shards is not None and membership is not None:
            _follow_shards(rt, controller, shards, membership)
        _announce_ready(rt, len(controller.queue))
        probes.phase = metrics.Phase.RECONCILING
        if ready is not None:
            ready.set()
        workers = asyncio.create_task(controller.run_workers(rt.settings.workers))
        # Its own task: a failure there is logged by it and never stops reconciling.
        owns = shards.owns if shards else _everyone
        counts = controller.metrics.notifications
        notifier = asyncio.create_task(notifying.run(rt, owns, counts))
        # ApplicationSets write apps: only a leader (or the only replica) runs them.
        setter = asyncio.create_task(appsetting.run(rt)) if shards is None else None
        side = [notifier] + ([setter] if setter else [])
        lost = asyncio.create_task(election.stopped_leading.wait()) if election else None
        waits = [asyncio.create_task(stop.wait()), workers, *hosted] + ([lost] if lost else [])
        if membership is not None and campaign is not None:
            waits.append(campaign)  # a replica whose membership ends must stop reconciling
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            if lost is not None and lost.done():
                log.warning("lost the lease: stopping so a new leader starts from a clean state")
        finally:
            # Also when this task is cancelled: asyncio.wait leaves its tasks running, and
            # workers must not outlive the controller (or the client it is about to close).
            controller.stop()
            stop.set()  # a cancelled controller stops its hosted jobs too, as SIGTERM does
            for task in waits:
                if task not in hosted and task is not campaign:  # both end on their own below
                    task.cancel()
            for task in side:
                task.cancel()
            await asyncio.gather(
                *side, *(t for t in waits if t is not campaign), return_exceptions=True
            )
    finally:
        if campaign is not None:
            campaign.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await campaign


def _everyone(_key: tuple[str, str]) -> bool:
    """Without sharding, the leader (or the only replica) sends for every app."""
    return True


def _follow_shards(
    rt: bootstrap.Runtime, controller: Controller, shards: Shards, membership: ports.Membership
) -> None:
    """Queue the apps this replica gains and forget those it loses, at each membership change."""

    def rebalance(_view: object) -> None:
        keys = [
            (key.namespace, key.name)
            for key in rt.live.keys_of(APPLICATION)
            if key.namespace in rt.settings.app_namespaces
        ]
        controller.let_go(shards.rebalance(keys, controller.queue.add))

    membership.subscribe(rebalance)
    rebalance(membership.current)


def _announce_ready(rt: bootstrap.Runtime, queued: int) -> None:
    """The line saying reconciling has begun: how many apps, which clusters."""
    clusters = [f"{s.entry.name} ({s.entry.server})" for s in rt.destinations.states()]
    log.info(
        "reconciling %d Applications; clusters: %s",
        queued,
        ", ".join(clusters),
        extra={"applications": queued, "clusters": clusters, "cached": rt.cached_objects()},
    )


async def _any(stop: asyncio.Event, hosted: Sequence[asyncio.Task[None]]) -> None:
    """Until ``stop`` is set or a hosted job ends (a failed API server stops the process)."""
    waiter = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait([waiter, *hosted], return_when=asyncio.FIRST_COMPLETED)
    finally:
        waiter.cancel()


async def _first(wanted: Awaitable[object], stopper: Awaitable[object]) -> bool:
    """Wait for ``wanted`` or ``stopper``; True when ``wanted`` came first."""
    want = asyncio.ensure_future(wanted)
    halt = asyncio.ensure_future(stopper)
    done, pending = await asyncio.wait({want, halt}, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    return want in done
