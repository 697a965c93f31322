"""The destination clusters: one connection, watch cache and set of services per cluster.

The cluster tether runs in is always connected (the runtime's own client and cache). Any other
is connected on first use from its cluster Secret, closed when that Secret changes or goes, and,
when it cannot be reached, tried again at most every ``RETRY_AFTER`` while its apps say why.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from typing import Any

from tether import ports
from tether.core import redact
from tether.core.app import destinations
from tether.core.cluster.cachepolicy import Change
from tether.model.application import Application
from tether.model.clusters import ClusterEntry, ClusterRegistry
from tether.model.errors import ClusterError, InvalidInputError, TetherError
from tether.services.compare import Comparer
from tether.services.deletion import Deleter
from tether.services.sync.runner import SyncRunner

log = logging.getLogger(__name__)

RETRY_AFTER = 30.0
"""Seconds between attempts to reach a cluster that could not be reached."""


@dataclasses.dataclass(frozen=True)
class Destination:
    """One connected cluster and the services that compare, sync and delete apps against it."""

    entry: ClusterEntry
    cluster: ports.Cluster
    live: ports.LiveState
    comparer: Comparer
    syncer: SyncRunner
    deleter: Deleter
    close: Callable[[], Awaitable[None]]
    renew_at: float | None = None
    """``time.monotonic()`` after which its credentials (a plugin's) must be fetched again."""


@dataclasses.dataclass(frozen=True)
class ClusterState:
    """One known cluster as metrics show it: connected (with its cache) or not, and failing."""

    entry: ClusterEntry
    live: ports.LiveState | None
    """Its watch cache, when connected."""
    failed: bool
    """The last attempt to connect failed."""


Connect = Callable[[ClusterEntry], Awaitable[Destination]]
"""Connects to a cluster and waits for its cache's first list; raises ``ClusterError``."""


class Destinations:
    """Every destination cluster, connected on demand; reloaded from the cluster Secrets.

    Built before the services it serves (their comparers read ``registry``), then ``wire``d.
    """

    def __init__(self) -> None:
        self._local: Destination | None = None
        self._connect: Connect | None = None
        self._registry = ClusterRegistry()
        self._connected: dict[str, Destination] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._failures: dict[str, tuple[float, str]] = {}
        self._subscribers: list[Callable[[Change], None]] = []
        self._unsubscribers: dict[str, list[Callable[[], None]]] = {}

    def wire(self, local: Destination, connect: Connect) -> None:
        """Give the cluster tether runs in, and how to connect to the others."""
        self._local, self._connect = local, connect

    @property
    def local(self) -> Destination:
        """The cluster tether runs in."""
        if self._local is None:
            raise TetherError("the destinations are not wired yet")
        return self._local

    def registry(self) -> ClusterRegistry:
        """The clusters as the Secrets said at the last load."""
        return self._registry

    def secret_values(self) -> frozenset[str]:
        """Every cluster credential held, for scrubbing messages."""
        return self._registry.secret_values()

    async def load(
        self, secrets: Sequence[Mapping[str, Any]], *, exec_commands: Collection[str] = ()
    ) -> list[str]:
        """Take the cluster Secrets among ``secrets``; returns why Secrets were skipped.

        A cluster whose entry changed or went is disconnected (its apps reconnect with the new
        entry, or say that their cluster is unknown); its objects are left as they are.
        ``exec_commands`` are the credential plugins an administrator allows.
        """
        registry = ClusterRegistry.from_secrets(secrets, exec_commands=exec_commands)
        kept = {e.server: e for e in registry.entries}
        self._registry = registry
        for server, destination in list(self._connected.items()):
            if kept.get(server) != destination.entry:
                await self._disconnect(server)
        self._failures = {s: f for s, f in self._failures.items() if s in kept}
        return list(registry.problems)

    def resolve(self, app: Application) -> ClusterEntry:
        """The cluster ``app`` deploys to (``InvalidInputError`` when it names none)."""
        return destinations.resolve(app.spec.destination, self._registry)

    def every(self) -> list[Destination]:
        """The cluster tether runs in and every other one connected now."""
        return [self.local, *self._connected.values()]

    def states(self) -> list[ClusterState]:
        """The cluster tether runs in, then every cluster Secret's, connected or not."""
        local = next((e for e in self._registry.entries if e.is_in_cluster), self.local.entry)
        states = [ClusterState(local, self.local.live, False)]
        connected, failures = dict(self._connected), dict(self._failures)
        for entry in self._registry.entries:
            if not entry.is_in_cluster:
                found = connected.get(entry.server)
                live = found.live if found is not None else None
                states.append(ClusterState(entry, live, entry.server in failures))
        return states

    async def for_app(self, app: Application) -> Destination:
        """The destination to compare and sync ``app`` with, connected if need be.

        An app whose destination names no known cluster gets the local one, whose comparison
        refuses it with an InvalidSpecError (nothing is applied anywhere).

        Raises:
            ClusterError: the cluster cannot be reached; the message names it.
        """
        try:
            entry = self.resolve(app)
        except InvalidInputError:
            return self.local
        return await self.connected(entry)

    async def connected(self, entry: ClusterEntry) -> Destination:
        """The connection to ``entry``'s cluster, made now if there is none.

        Raises:
            ClusterError: the cluster cannot be reached (now, or at the last attempt, less
                than ``RETRY_AFTER`` ago); the message names the cluster, never a credential.
        """
        if entry.is_in_cluster:
            return dataclasses.replace(self.local, entry=entry)
        lock = self._locks.setdefault(entry.server, asyncio.Lock())
        async with lock:
            found = self._connected.get(entry.server)
            renew_at = found.renew_at if found is not None else None
            if renew_at is not None and time.monotonic() >= renew_at:
                # A credential plugin's token is about to expire: connect afresh.
                await self._disconnect(entry.server)
                found = None
            if found is not None:
                return found
            failed = self._failures.get(entry.server)
            if failed is not None and time.monotonic() - failed[0] < RETRY_AFTER:
                raise ClusterError(failed[1])
            if self._connect is None:
                raise TetherError("the destinations are not wired yet")
            try:
                destination = await self._connect(entry)
            except (TetherError, OSError, TimeoutError) as err:
                message = redact.text(
                    f"cluster {entry.name!r} ({entry.server}) cannot be reached: "
                    f"{type(err).__name__}: {err}",
                    self.secret_values(),
                )
                self._failures[entry.server] = (time.monotonic(), message)
                raise ClusterError(message) from None
            self._failures.pop(entry.server, None)
            self._connected[entry.server] = destination
            self._unsubscribers[entry.server] = [
                destination.live.subscribe(subscriber) for subscriber in self._subscribers
            ]
            log.info("connected to cluster %r (%s)", entry.name, entry.server)
            return destination

    def subscribe(self, subscriber: Callable[[Change], None]) -> None:
        """Hear the changes of every other cluster connected from now on (not the local one)."""
        self._subscribers.append(subscriber)
        for server, destination in self._connected.items():
            self._unsubscribers.setdefault(server, []).append(
                destination.live.subscribe(subscriber)
            )

    async def _disconnect(self, server: str) -> None:
        destination = self._connected.pop(server)
        for unsubscribe in self._unsubscribers.pop(server, []):
            unsubscribe()
        log.info("disconnected from cluster %r (%s)", destination.entry.name, server)
        await destination.close()

    async def close(self) -> None:
        """Disconnect every other cluster (the local one belongs to the runtime)."""
        for server in list(self._connected):
            await self._disconnect(server)
