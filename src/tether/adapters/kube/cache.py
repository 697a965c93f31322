"""The watch-based cluster cache: one reflector per watchable type, CRDs followed at run time.

Discovery picks the types (preferred versions, list+watch, minus ``cachepolicy`` exclusions);
``index.Index`` holds the objects; subscribers hear ``cachepolicy.Change`` for real changes.
A namespaced type the client may not list across the cluster is watched in one namespace
instead (a namespaced install's controller, whose Role covers only its own namespace).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import gc
import logging
import random
import time
from collections.abc import Callable, Sequence
from typing import Any

import msgspec

from tether.adapters.kube import errors
from tether.adapters.kube.client import KubeClient
from tether.adapters.kube.discovery import ApiResource
from tether.adapters.kube.index import HealthFingerprint, Index, Record
from tether.adapters.kube.reflector import Reflector, SlimObject, cancel
from tether.core.cluster import cachepolicy, reflection
from tether.core.diff import tracking
from tether.model.resources import GroupKind, ResourceKey

log = logging.getLogger(__name__)

MAX_CONCURRENT_LISTS = 50
"""Argo CD's semaphore on initial lists: bounds memory and API load on a cold start."""

REDISCOVERY_DELAYS_S = tuple(0.5 * 1.5**i for i in range(9))
"""After a CRD change, discovery is retried (500 ms x 1.5, 9 steps, as Argo CD) until it agrees."""

PRUNE_INTERVAL_S = 600.0
"""How often manifests of objects that left every tree (or arrived before untracked owners)
are dropped; Argo CD's watch resync period."""

APISERVICE = GroupKind("apiregistration.k8s.io", "APIService")

Subscriber = Callable[[cachepolicy.Change], None]


class _CrdNames(msgspec.Struct):
    kind: str = ""


class _CrdSpec(msgspec.Struct):
    group: str = ""
    names: _CrdNames = msgspec.field(default_factory=_CrdNames)


class _Crd(msgspec.Struct):
    spec: _CrdSpec = msgspec.field(default_factory=_CrdSpec)


FORBIDDEN = 403
"""The status that moves a namespaced type's watch into the fallback namespace."""


class ClusterCache:
    """All watchable objects of one cluster, indexed for the controller.

    Use ``start()``, then ``wait_synced()``; ``stop()`` ends every watch.
    """

    def __init__(
        self,
        client: KubeClient,
        *,
        exclusions: Sequence[cachepolicy.Exclusion] = cachepolicy.DEFAULT_EXCLUSIONS,
        tracking_config: tracking.Tracking | None = None,
        health: HealthFingerprint | None = None,
        ignored_paths: Sequence[str] = (),
        max_concurrent_lists: int = MAX_CONCURRENT_LISTS,
        freeze_gc: bool = False,
        fallback_namespace: str = "",
    ) -> None:
        """Create an idle cache.

        Args:
            client: The cluster's client (its discovery and transport are shared).
            exclusions: Kinds never watched.
            tracking_config: How Applications mark their objects.
            health: Returns a health fingerprint of an object; with it, status-only updates
                that keep health are dropped. Without it, any status change is reported.
            ignored_paths: JSON pointers ignored when deciding whether an update is a no-op.
            max_concurrent_lists: Bound on simultaneous LISTs.
            freeze_gc: ``gc.freeze()`` after the initial sync, so later collections skip
                the objects built while syncing.
            fallback_namespace: Where a namespaced type is watched when listing it across the
                cluster is forbidden; ``""``: such a type is not watched.
        """
        self._client = client
        self._exclusions = tuple(exclusions)
        self._inclusions: tuple[cachepolicy.Exclusion, ...] = ()
        self._server = ""
        self._index = Index(
            self._dispatch,
            tracking_config=tracking_config,
            health=health,
            ignored_paths=ignored_paths,
        )
        self._subscribers: list[Subscriber] = []
        self._reflectors: dict[GroupKind, tuple[Reflector, asyncio.Task[None]]] = {}
        self._list_slots = asyncio.Semaphore(max_concurrent_lists)
        self._freeze_gc = freeze_gc
        self._synced = asyncio.Event()
        self.synced_at: float | None = None
        """When the initial sync completed (seconds since the epoch)."""
        self._expected: dict[GroupKind, bool] = {}
        self._rediscover = asyncio.Event()
        self._background: set[asyncio.Task[None]] = set()
        self._rng = random.Random()
        self._stopping = False
        self._fallback_namespace = fallback_namespace
        self._scoped: set[GroupKind] = set()
        """Types watched only in ``fallback_namespace`` (the cluster-wide list was forbidden)."""
        self._started = False

    # Lifecycle.

    async def start(self) -> None:
        """Discover the API and start one reflector per watched type."""
        self._stopping = False
        self._started = True
        await self._client.discovery.refresh()
        self._reconcile()
        self._spawn(self._after_initial_sync())
        self._spawn(self._discovery_loop())

    async def wait_synced(self, timeout: float | None = None) -> None:
        """Wait until every type watched at start has been listed once."""
        await asyncio.wait_for(self._synced.wait(), timeout)

    @property
    def synced(self) -> bool:
        """Whether the initial sync is complete."""
        return self._synced.is_set()

    async def stop(self) -> None:
        """Stop every watch and background task.

        Until everything is gone: while one task is being cancelled, the discovery loop could
        otherwise start a reflector that would outlive the client it uses.
        """
        self._stopping = True
        while tasks := [task for _, task in self._reflectors.values()] + list(self._background):
            self._reflectors.clear()
            self._background.difference_update(tasks)
            for task in tasks:
                await cancel(task)

    async def __aenter__(self) -> ClusterCache:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # Queries.

    def get(self, key: ResourceKey) -> Record | None:
        """The record of one object (``record.manifest()`` is ``None`` for slim records)."""
        return self._index.get(key)

    def manifest(self, key: ResourceKey) -> dict[str, Any] | None:
        """The full object when cached in full; ``None`` when absent or slim (GET it then)."""
        record = self._index.get(key)
        return record.manifest() if record else None

    def managed_by(self, app: str) -> list[Record]:
        """The root objects an app instance tracks, sorted by key."""
        return self._index.managed_by(app)

    def children_of(self, uid: str) -> list[Record]:
        """The objects owned by the object with this UID, sorted by key."""
        return self._index.children_of(uid)

    def keys_of(self, group_kind: GroupKind) -> set[ResourceKey]:
        """Every cached object of one kind."""
        return self._index.keys_of(group_kind)

    def records_in(self, namespace: str) -> list[Record]:
        """Every cached object of one namespace (a scan: for orphan monitoring only)."""
        return [r for k, r in self._index.records.items() if k.namespace == namespace]

    def is_namespaced(self, group_kind: GroupKind) -> bool | None:
        """Whether a kind is namespaced; ``None`` when discovery does not know it."""
        res = self._client.discovery.catalog.preferred.get(group_kind)
        return res.namespaced if res else None

    def preferred_version(self, group_kind: GroupKind) -> str | None:
        """The ``apiVersion`` the cache reads a kind at; ``None`` when the kind is unknown."""
        res = self._client.discovery.catalog.preferred.get(group_kind)
        return res.api_version if res else None

    def unsynced(self) -> set[GroupKind]:
        """Watched types not listed yet (failing lists): their objects are unknown, not absent."""
        return {gk for gk, (r, _) in self._reflectors.items() if not r.state.synced}

    def watched(self) -> set[GroupKind]:
        """The types with a running reflector."""
        return set(self._reflectors)

    def __len__(self) -> int:
        return len(self._index.records)

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Call ``subscriber`` for every reported change; returns the unsubscribe function."""
        self._subscribers.append(subscriber)
        return lambda: self._subscribers.remove(subscriber)

    # The reflectors' sink.

    def replace(
        self, resource: ApiResource, items: list[tuple[SlimObject, bytes]], resource_version: str
    ) -> None:
        """A reflector listed its type."""
        if not self._current(resource):
            return
        log.debug("listed %s at resourceVersion %s", resource.group_kind, resource_version)
        self._index.replace(resource, items)
        if resource.group_kind == cachepolicy.CRD and self.synced:
            self._rediscover.set()

    def event(self, resource: ApiResource, event_type: str, obj: SlimObject, raw: bytes) -> None:
        """A reflector saw a watch event."""
        if not self._current(resource):
            return
        if event_type == "DELETED":
            self._index.delete(resource, obj)
        else:
            self._index.upsert(resource, obj, raw)
        if resource.group_kind == cachepolicy.CRD:
            self._expect_crd(event_type, obj, raw)
        elif resource.group_kind == APISERVICE and self.synced:
            # An aggregated API (metrics, custom API servers) came, went or changed
            # availability: its group appears in or vanishes from discovery.
            self._rediscover.set()

    def stopped(self, resource: ApiResource, reason: str) -> None:
        """A reflector stopped for good: its type is gone or forbidden."""
        if not self._current(resource):
            return
        group_kind = resource.group_kind
        narrower = (
            reason == reflection.TERMINAL_CODES[FORBIDDEN]
            and resource.namespaced
            and bool(self._fallback_namespace)
            and group_kind not in self._scoped
            and not self._stopping
        )
        if narrower:
            log.info("watching %s in %s only: %s", group_kind, self._fallback_namespace, reason)
            self._scoped.add(group_kind)
            self._start(resource)
            return
        log.info("no longer watching %s: %s", group_kind, reason)
        del self._reflectors[group_kind]
        self._index.drop_type(group_kind)

    # Internals.

    def _current(self, resource: ApiResource) -> bool:
        entry = self._reflectors.get(resource.group_kind)
        return entry is not None and entry[0].resource == resource

    def _dispatch(self, change: cachepolicy.Change) -> None:
        for subscriber in list(self._subscribers):
            try:
                subscriber(change)
            except Exception:
                # One broken subscriber must not stop the cache for the others.
                log.exception("cache subscriber failed on %s", change.key)

    def _spawn(self, work: Any) -> None:
        if self._stopping:
            work.close()  # a coroutine never awaited would warn
            return
        # A fresh context: the cache's requests are no app's, whichever app's reconcile first
        # connected the cluster (its app-attribution context would be copied otherwise).
        task: asyncio.Task[None] = asyncio.create_task(work, context=contextvars.Context())
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def refilter(
        self,
        exclusions: Sequence[cachepolicy.Exclusion],
        inclusions: Sequence[cachepolicy.Exclusion] = (),
        *,
        server: str = "",
    ) -> None:
        """Watch by new exclusions and inclusions (``server``: this cluster's, for ``clusters``).

        Types now out stop and their objects leave the cache; types now in start with a list.
        """
        filters = (tuple(exclusions), tuple(inclusions), server)
        if filters == (self._exclusions, self._inclusions, self._server):
            return
        self._exclusions, self._inclusions, self._server = filters
        if self._started:  # before start, the filters wait for its first discovery
            self._reconcile()

    def _wanted(self) -> dict[GroupKind, ApiResource]:
        wanted = {}
        for res in self._client.discovery.preferred():
            if res.watchable and not cachepolicy.watch_filtered_reason(
                res.group_kind, self._server, self._exclusions, self._inclusions
            ):
                wanted[res.group_kind] = res
        return wanted

    def _reconcile(self) -> None:
        """Start reflectors for newly served types; stop those no longer served."""
        if self._stopping:
            return
        wanted = self._wanted()
        for group_kind in set(self._reflectors) - set(wanted):
            _, task = self._reflectors.pop(group_kind)
            self._spawn(cancel(task))
            self._index.drop_type(group_kind)
        for group_kind, res in wanted.items():
            current = self._reflectors.get(group_kind)
            if current is not None and current[0].resource == res:
                continue
            if current is not None:  # the preferred version changed: reflect the new one
                self._spawn(cancel(current[1]))
            self._start(res)

    def _start(self, res: ApiResource) -> None:
        """Reflect ``res`` (in the fallback namespace once the cluster-wide list was refused)."""
        scoped = res.group_kind in self._scoped
        reflector = Reflector(
            self._client.transport,
            res,
            self,
            namespace=self._fallback_namespace if scoped else "",
            list_slots=self._list_slots,
            rng=random.Random(self._rng.random()),
        )
        task = asyncio.create_task(reflector.run(), context=contextvars.Context())
        self._reflectors[res.group_kind] = (reflector, task)

    async def _after_initial_sync(self) -> None:
        # Until every reflector has listed, those started meanwhile (a forbidden type's
        # namespaced successor) included.
        while waits := [
            r.synced.wait() for r, _ in self._reflectors.values() if not r.synced.is_set()
        ]:
            await asyncio.gather(*waits)
        dropped = self._index.prune()
        log.info("cache synced: %d objects (%d slimmed)", len(self), dropped)
        if self._freeze_gc:
            gc.collect()
            gc.freeze()
        self.synced_at = time.time()
        self._synced.set()
        while True:
            await asyncio.sleep(PRUNE_INTERVAL_S)
            self._index.prune()

    def _expect_crd(self, event_type: str, obj: SlimObject, raw: bytes) -> None:
        with contextlib.suppress(msgspec.DecodeError, msgspec.ValidationError):
            spec = msgspec.json.decode(raw, type=_Crd).spec
            present = event_type != "DELETED" and not obj.metadata.deletionTimestamp
            self._expected[GroupKind(spec.group, spec.names.kind)] = present
        if self.synced:
            self._rediscover.set()

    async def _discovery_loop(self) -> None:
        while True:
            await self._rediscover.wait()
            self._rediscover.clear()
            for delay in REDISCOVERY_DELAYS_S:
                if await self._rediscover_once():
                    break
                await asyncio.sleep(delay)
            self._expected.clear()  # unmet after all retries: the next CRD event tries again

    async def _rediscover_once(self) -> bool:
        try:
            await self._client.discovery.refresh()
        except errors.ClusterError as exc:
            log.warning("re-discovery failed: %s", exc)
            return False
        self._reconcile()
        served = set(self._client.discovery.catalog.preferred)
        unmet = {gk: want for gk, want in self._expected.items() if (gk in served) != want}
        self._expected = unmet
        return not unmet
