"""A sharded controller replica's membership: its own Lease, renewed, and every replica's, watched.

Each replica holds ``<prefix>-<replica>`` (labelled :data:`REPLICA_LABEL`) with the leader
election machinery of ``lease``; one list+watch over the labelled Leases feeds
``core.sharding.view``, which decides who counts. This module reads the clock; core decides.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import logging
from collections.abc import Callable
from typing import Any

from tether.adapters.kube import errors
from tether.adapters.kube.client import KubeClient
from tether.adapters.kube.lease import (
    LEASE_DURATION_S,
    RENEW_DEADLINE_S,
    RETRY_PERIOD_S,
    LeaderElector,
    state_of,
)
from tether.core.cluster import leasing, sharding

log = logging.getLogger(__name__)

REPLICA_LABEL = "tether.dev/controller-replica"
"""On each membership Lease, the replica's name: replicas list and watch Leases by it."""

RELIST_BACKOFF_S = 1.0
"""After a failed list or a broken watch: the view goes stale, and the fence stops writes."""


def _utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


class Membership:
    """This replica's Lease and the view of every replica's.

    Attributes:
        current: The replicas that count now (``core.sharding.View``).
    """

    def __init__(
        self,
        client: KubeClient,
        namespace: str,
        prefix: str,
        replica: str,
        identity: str,
        *,
        lease_duration_s: int = LEASE_DURATION_S,
        renew_deadline_s: float = RENEW_DEADLINE_S,
        retry_period_s: float = RETRY_PERIOD_S,
        clock: Callable[[], datetime.datetime] = _utcnow,
        connect: Callable[[], KubeClient] | None = None,
    ) -> None:
        self.replica = replica
        self.identity = identity
        self.namespace = namespace
        self._client = client
        self._clock = clock
        self._grace = datetime.timedelta(seconds=lease_duration_s)
        self._renew_deadline = datetime.timedelta(seconds=renew_deadline_s)
        self._elector = LeaderElector(
            client,
            f"{prefix}-{replica}",
            namespace,
            identity,
            lease_duration_s=lease_duration_s,
            renew_deadline_s=renew_deadline_s,
            retry_period_s=retry_period_s,
            clock=clock,
            labels={REPLICA_LABEL: replica},
            connect=connect,  # renewals on their own thread; the watch stays on this loop
        )
        self._leases: dict[str, leasing.LeaseState] = {}
        self._own_seen: datetime.datetime | None = None
        """The renewTime of our own Lease as the watch last showed it held by us."""
        self._listeners: list[Callable[[sharding.View], None]] = []
        self._woken = asyncio.Event()
        self.current = sharding.View(frozenset(), frozenset(), replica)

    def subscribe(self, listener: Callable[[sharding.View], None]) -> None:
        """Call ``listener`` with the new view each time it changes."""
        self._listeners.append(listener)

    async def run(self) -> None:
        """Hold this replica's Lease and follow everyone's until cancelled (then release it)."""
        async with asyncio.TaskGroup() as group:
            group.create_task(self._elector.run())
            group.create_task(self._follow())
            group.create_task(self._tick())

    def may_write(self) -> bool:
        """Whether this replica may write at all: it holds its Lease and its view is fresh.

        Fresh: the watch showed our own renewal within the renew deadline, so every Lease
        written before then (a newcomer's) is in the view. A replica whose renewals or watch
        stall stops before the grace after which others take its apps. The watch runs on the
        main loop even when the renewals have a thread of their own: a main loop lagging past
        the deadline fences this replica's writes until the watch catches up, which is safe (a
        lagging loop may have missed a newcomer) and costs only writes the lag delays anyway.
        """
        if not self._elector.may_write() or self._own_seen is None:
            return False
        return self._clock() - self._own_seen < self._renew_deadline

    async def _follow(self) -> None:
        selector = REPLICA_LABEL
        while True:
            try:
                items, version = await self._client.list(
                    "coordination.k8s.io/v1", "Lease", self.namespace, label_selector=selector
                )
                self._leases = {}
                for item in items:
                    self._seen("ADDED", item)
                self._recompute()
                async for kind, obj in self._client.watch(
                    "coordination.k8s.io/v1",
                    "Lease",
                    self.namespace,
                    resource_version=version,
                    label_selector=selector,
                ):
                    if kind == "BOOKMARK":
                        continue
                    self._seen(kind, obj)
                    self._recompute()
            except (errors.ClusterError, TimeoutError) as exc:
                log.info("membership Leases in %s: %s", self.namespace, exc or "timed out")
            await asyncio.sleep(RELIST_BACKOFF_S)

    def _seen(self, kind: str, obj: dict[str, Any]) -> None:
        replica = str(((obj.get("metadata") or {}).get("labels") or {}).get(REPLICA_LABEL) or "")
        if not replica:
            return
        if kind == "DELETED":
            self._leases.pop(replica, None)
            return
        state = state_of(obj)
        self._leases[replica] = state
        if replica == self.replica and state.holder == self.identity:
            self._own_seen = state.renewed

    async def _tick(self) -> None:
        """Recompute when an expiry or a grace ends: a dead replica writes nothing to wake us."""
        while True:
            now = self._clock()
            moment = sharding.next_change(self._leases, now, self._grace)
            wait = (moment - now).total_seconds() + 0.05 if moment else None
            self._woken.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await self._woken.wait()
            self._recompute()

    def _recompute(self) -> None:
        self._woken.set()  # the next change may now be sooner
        view = sharding.view(self._leases, self.replica, self.identity, self._clock(), self._grace)
        if view == self.current:
            return
        self.current = view
        log.info(
            "replicas: %s seen, %s settled%s",
            ", ".join(sorted(view.seen)) or "none",
            ", ".join(sorted(view.settled)) or "none",
            "" if view.active else f" ({self.replica} not active yet)",
            extra={"seen": sorted(view.seen), "settled": sorted(view.settled)},
        )
        for listener in list(self._listeners):
            listener(view)
