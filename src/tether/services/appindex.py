"""A watch-fed, in-memory index of the Applications of the served namespaces, for the API.

One list+watch per namespace, driven by the pure ``core.cluster.reflection`` state machine (resume
after a clean end, re-list after 410 Gone, back off on failures). Readers get entries sorted by
``(namespace, name)`` with no request to the API server; subscribers hear every change, a re-list
included (as the ADDED, MODIFIED and DELETED events it amounts to).
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import dataclasses
import gc
import hashlib
import logging
import random
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import orjson

from tether import ports
from tether.core.app import listing
from tether.core.cluster import reflection
from tether.model import application
from tether.model.errors import KubeApiError
from tether.model.resources import resource_version, version_number

log = logging.getLogger(__name__)

ADDED, MODIFIED, DELETED = "ADDED", "MODIFIED", "DELETED"

BACKOFF_JITTER = 0.2
"""Up to 20 % added to a backoff, as the controller's reflectors do."""


@dataclasses.dataclass(eq=False)
class Entry:
    """One Application as last seen, with what queries read of it."""

    obj: Mapping[str, Any]
    """The stored object; shared, never to be mutated."""
    summary: listing.Summary
    _encoded: bytes | None = dataclasses.field(default=None, repr=False)
    _digest: bytes | None = dataclasses.field(default=None, repr=False)

    @property
    def key(self) -> listing.Key:
        """``(namespace, name)``."""
        return self.summary.key

    @property
    def resource_version(self) -> str:
        """The object's ``metadata.resourceVersion``."""
        return resource_version(self.obj)

    @property
    def encoded(self) -> bytes:
        """The object as JSON, encoded once however many lists and streams send it."""
        if self._encoded is None:
            self._encoded = orjson.dumps(self.obj)
        return self._encoded

    @property
    def digest(self) -> bytes:
        """A digest of :attr:`encoded`: what a stream remembers to skip an unchanged resend."""
        if self._digest is None:
            self._digest = hashlib.blake2b(self.encoded, digest_size=16).digest()
        return self._digest


@dataclasses.dataclass(frozen=True)
class Event:
    """A change: ``type`` is ADDED, MODIFIED or DELETED; ``entry`` the app (as last seen)."""

    type: str
    entry: Entry


Subscriber = Callable[[Event], None]
"""Called in the event loop for every change; must not block (put it on a queue)."""


class AppIndex:
    """Applications of ``namespaces``, kept in step with the API server by watches."""

    def __init__(
        self, cluster: ports.Cluster, namespaces: Sequence[str], *, freeze_gc: bool = False
    ) -> None:
        """Index ``namespaces``; with ``freeze_gc``, ``gc.freeze()`` once the first list is in.

        As the live cache does (``Settings.freeze_gc``): 10,000 indexed Applications are about
        500,000 objects, which every full collection walked again (S8 saw a resource-tree
        request take 150 ms or 500 ms depending on whether one ran).
        """
        self._freeze_gc = freeze_gc
        self._cluster = cluster
        self._namespaces = tuple(dict.fromkeys(namespaces))
        self._entries: dict[listing.Key, Entry] = {}
        self._keys: list[listing.Key] = []
        self._subscribers: list[Subscriber] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._listed: set[str] = set()
        self._synced = asyncio.Event()
        self._version = 0
        self._rng = random.Random()

    # ---- reading ------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._keys)

    def get(self, namespace: str, name: str) -> Entry | None:
        """The app ``namespace/name``, if it exists."""
        return self._entries.get((namespace, name))

    def entries(self, after: listing.Key | None = None) -> Iterator[Entry]:
        """Every app sorted by ``(namespace, name)``, from just after ``after`` when given.

        A snapshot: changes made while iterating are not seen.
        """
        start = 0 if after is None else bisect.bisect_right(self._keys, after)
        keys = self._keys[start:]
        entries = self._entries
        for key in keys:
            entry = entries.get(key)
            if entry is not None:
                yield entry

    @property
    def resource_version(self) -> str:
        """The newest resourceVersion seen (a list's ``metadata.resourceVersion``)."""
        return str(self._version) if self._version else ""

    @property
    def synced(self) -> bool:
        """Whether every namespace has been listed once."""
        return self._synced.is_set()

    async def wait_synced(self, timeout: float | None = None) -> None:
        """Wait until every namespace has been listed once.

        Raises:
            TimeoutError: Not within ``timeout`` seconds.
        """
        await asyncio.wait_for(self._synced.wait(), timeout)

    @property
    def subscribers(self) -> int:
        """How many subscribers listen now (open streams, for metrics and leak checks)."""
        return len(self._subscribers)

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Hear every change from now on; returns the function that stops it."""
        self._subscribers.append(subscriber)

        def unsubscribe() -> None:
            with contextlib.suppress(ValueError):
                self._subscribers.remove(subscriber)

        return unsubscribe

    # ---- life ---------------------------------------------------------------------------------

    def start(self) -> None:
        """Start one list+watch per namespace (in the running event loop)."""
        if self._tasks:
            return
        if not self._namespaces:
            self._synced.set()
        for namespace in self._namespaces:
            self._tasks.append(asyncio.create_task(self._reflect(namespace)))

    async def stop(self) -> None:
        """Stop watching; the entries stay as they were."""
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # ---- the reflector ------------------------------------------------------------------------

    async def _reflect(self, namespace: str) -> None:
        state, action = reflection.start()
        while True:
            observed: reflection.Input
            match action:
                case reflection.List():
                    observed = await self._list(namespace)
                case reflection.Watch(resource_version=rv):
                    state, observed = await self._watch(namespace, state, rv)
                case reflection.Sleep(seconds=seconds):
                    await asyncio.sleep(seconds * (1 + self._rng.random() * BACKOFF_JITTER))
                    observed = reflection.Waited()
                case reflection.Stop(reason=reason):
                    # Forbidden or the CRD gone: an operator must act; serve what we have.
                    log.warning("stopped watching Applications in %s: %s", namespace, reason)
                    self._mark_listed(namespace)
                    return
                case _:  # pragma: no cover - Apply is consumed inside _watch
                    raise AssertionError(action)
            state, action = reflection.step(state, observed)

    async def _list(self, namespace: str) -> reflection.Input:
        try:
            items, version = await self._cluster.list(
                application.API_VERSION, application.KIND, namespace
            )
        except KubeApiError as exc:
            return reflection.Failed(exc.code, exc.reason)
        except Exception as exc:  # a broken connection: retried with backoff
            log.info("listing Applications in %s failed: %s", namespace, type(exc).__name__)
            return reflection.Failed()
        self._replace(namespace, items)
        self._advance(version)
        self._mark_listed(namespace)
        return reflection.Listed(version)

    async def _watch(
        self, namespace: str, state: reflection.State, version: str
    ) -> tuple[reflection.State, reflection.Input]:
        try:
            async for kind, obj in self._cluster.watch(
                application.API_VERSION, application.KIND, namespace, resource_version=version
            ):
                rv = resource_version(obj)
                if kind in (ADDED, MODIFIED, DELETED):
                    self._apply(kind, obj)
                elif kind != "BOOKMARK":
                    continue
                self._advance(rv)
                state, _ = reflection.step(state, reflection.Event(kind, rv))
        except KubeApiError as exc:
            return state, reflection.Failed(exc.code, exc.reason)
        except Exception as exc:  # a dropped connection or a cut line: resume from the version
            log.info("watch of Applications in %s broke: %s", namespace, type(exc).__name__)
            return state, reflection.Failed()
        return state, reflection.Closed()

    # ---- applying changes ---------------------------------------------------------------------

    def _replace(self, namespace: str, items: Sequence[Mapping[str, Any]]) -> None:
        """A full list of ``namespace``: tell subscribers what it changed."""
        fresh = {e.key: e for e in (_entry(obj) for obj in items) if e.key[1]}
        for key in [k for k in self._entries if k[0] == namespace and k not in fresh]:
            self._remove(key)
        for key, entry in fresh.items():
            old = self._entries.get(key)
            if old is None or old.resource_version != entry.resource_version:
                self._put(entry, ADDED if old is None else MODIFIED)

    def _apply(self, kind: str, obj: Mapping[str, Any]) -> None:
        entry = _entry(obj)
        if not entry.key[1]:
            return
        if kind == DELETED:
            self._remove(entry.key, entry)
            return
        old = self._entries.get(entry.key)
        if old is not None and old.resource_version == entry.resource_version:
            return  # the same version again after a resumed watch
        self._put(entry, ADDED if old is None else MODIFIED)

    def _put(self, entry: Entry, kind: str) -> None:
        if entry.key not in self._entries:
            bisect.insort(self._keys, entry.key)
        self._entries[entry.key] = entry
        self._publish(Event(kind, entry))

    def _remove(self, key: listing.Key, last: Entry | None = None) -> None:
        old = self._entries.pop(key, None)
        if old is None:
            return
        index = bisect.bisect_left(self._keys, key)
        if index < len(self._keys) and self._keys[index] == key:
            del self._keys[index]
        self._publish(Event(DELETED, last or old))

    def _publish(self, event: Event) -> None:
        for subscriber in list(self._subscribers):
            try:
                subscriber(event)
            except Exception:  # one broken subscriber must not stop the index
                log.exception("an Application index subscriber failed")

    def _advance(self, version: str) -> None:
        self._version = max(self._version, version_number(version))

    def _mark_listed(self, namespace: str) -> None:
        self._listed.add(namespace)
        if self._listed >= set(self._namespaces) and not self._synced.is_set():
            if self._freeze_gc:
                gc.collect()
                gc.freeze()
            self._synced.set()


def _entry(obj: Mapping[str, Any]) -> Entry:
    return Entry(obj, listing.summarize(obj))
