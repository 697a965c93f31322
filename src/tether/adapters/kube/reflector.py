"""One list+watch loop per resource type, driven by the pure ``core.reflection`` state machine.

Watch lines decode into a slim msgspec struct that keeps the object's raw bytes; the cache
decides what to decode fully. Objects reach a ``Sink``; this module keeps no objects itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from typing import Protocol

import httpx2
import msgspec

from tether.adapters.kube import errors
from tether.adapters.kube.discovery import ApiResource
from tether.adapters.kube.transport import WATCH_READ_SLACK_S, Transport, decode_status
from tether.core.cluster import reflection

log = logging.getLogger(__name__)

BACKOFF_JITTER = 0.2
"""Up to 20 % added to each backoff so that many reflectors failing together spread out."""

INITIAL_LIST_ATTEMPTS = 3
"""After this many failed first lists a type stops holding up the cache's initial sync (it keeps
retrying): one CRD with a broken conversion webhook must not stall every Application."""


class OwnerRef(msgspec.Struct, frozen=True, gc=False):
    """An owner reference (the fields a resource tree needs)."""

    apiVersion: str = ""
    kind: str = ""
    name: str = ""
    uid: str = ""
    controller: bool = False


class SlimMeta(msgspec.Struct, gc=False):
    """The metadata the cache indexes on."""

    name: str = ""
    namespace: str = ""
    uid: str = ""
    resourceVersion: str = ""
    deletionTimestamp: str | None = None
    ownerReferences: tuple[OwnerRef, ...] = ()
    labels: dict[str, str] = msgspec.field(default_factory=dict)
    annotations: dict[str, str] = msgspec.field(default_factory=dict)


class SlimObject(msgspec.Struct, gc=False):
    """An object decoded only as far as the cache's indexes need."""

    apiVersion: str = ""
    kind: str = ""
    metadata: SlimMeta = msgspec.field(default_factory=SlimMeta)


class _Line(msgspec.Struct):
    type: str
    object: msgspec.Raw


class _ListMeta(msgspec.Struct):
    resourceVersion: str = ""
    # "continue" is a Python keyword.
    continue_: str = msgspec.field(default="", name="continue")


class _ListPage(msgspec.Struct):
    metadata: _ListMeta = msgspec.field(default_factory=_ListMeta)
    items: list[msgspec.Raw] = msgspec.field(default_factory=list)


_slim = msgspec.json.Decoder(SlimObject)
_line = msgspec.json.Decoder(_Line)
_page = msgspec.json.Decoder(_ListPage)


class Sink(Protocol):
    """Where a reflector delivers objects: the cache."""

    def replace(
        self, resource: ApiResource, items: list[tuple[SlimObject, bytes]], resource_version: str
    ) -> None:
        """A full list: the type's objects are now exactly ``items``."""
        ...

    def event(self, resource: ApiResource, event_type: str, obj: SlimObject, raw: bytes) -> None:
        """One ADDED, MODIFIED or DELETED event."""
        ...

    def stopped(self, resource: ApiResource, reason: str) -> None:
        """The reflector stopped for good (type gone, forbidden)."""
        ...


class Reflector:
    """Keeps a ``Sink`` in step with one resource type across watch timeouts, drops and 410s.

    Attributes:
        resource: The type reflected.
        state: The pure state machine's state (for tests and diagnostics).
        synced: Set once the first list completed, the first lists failed
            ``INITIAL_LIST_ATTEMPTS`` times, or the reflector stopped; ``state.synced`` tells
            whether the type was really listed.
        lists: LISTs started (the first one plus every re-list).
    """

    def __init__(
        self,
        transport: Transport,
        resource: ApiResource,
        sink: Sink,
        *,
        namespace: str = "",
        list_slots: asyncio.Semaphore | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.resource = resource
        self.state = reflection.State()
        self.synced = asyncio.Event()
        self.lists = 0
        self._transport = transport
        self._sink = sink
        self._namespace = namespace
        self._list_slots = list_slots or asyncio.Semaphore(1)
        self._rng = rng or random.Random()
        self._what = f"{resource.kind} (watch {resource.api_version})"

    def _feed(self, observed: reflection.Input) -> reflection.Action:
        self.state, action = reflection.step(self.state, observed)
        if self.state.synced or self.state.failures >= INITIAL_LIST_ATTEMPTS:
            self.synced.set()
        return action

    async def run(self, resume_from: str = "") -> None:
        """Reflect until stopped for good (or cancelled).

        Args:
            resume_from: Watch from this resourceVersion instead of listing first; used after
                a restart that kept the sink's objects. A 410 turns it into a re-list.
        """
        self.state, action = reflection.resume(resume_from) if resume_from else reflection.start()
        try:
            while True:
                match action:
                    case reflection.List():
                        self.lists += 1
                        action = self._feed(await self._list())
                    case reflection.Watch(resource_version=rv):
                        action = self._feed(await self._watch(rv))
                    case reflection.Sleep(seconds=seconds):
                        jitter = 1 + self._rng.random() * BACKOFF_JITTER
                        await asyncio.sleep(seconds * jitter)
                        action = self._feed(reflection.Waited())
                    case reflection.Stop(reason=reason):
                        log.info("stopped reflecting %s: %s", self._what, reason)
                        self._sink.stopped(self.resource, reason)
                        return
                    case reflection.Apply():  # pragma: no cover - consumed inside _watch
                        raise AssertionError("Apply outside a watch")
        finally:
            # Nobody waiting for the sync should hang on a reflector that ended.
            self.synced.set()

    async def _list(self) -> reflection.Input:
        items: list[tuple[SlimObject, bytes]] = []
        params = {"limit": str(reflection.LIST_PAGE_SIZE)}
        url = self.resource.collection_url(self._namespace)
        try:
            async with self._list_slots:
                while True:
                    response = await self._transport.request(
                        "list",
                        "GET",
                        url,
                        what=self._what,
                        params=params,
                        kind=self.resource.kind,
                        namespace=self._namespace,
                    )
                    page = _page.decode(response.content)
                    for raw in page.items:
                        data = bytes(raw)  # a copy: a Raw would keep the whole page alive
                        items.append((_slim.decode(data), data))
                    if not page.metadata.continue_:
                        break
                    params = {**params, "continue": page.metadata.continue_}
        except errors.KubeApiError as exc:
            return reflection.Failed(exc.code, exc.reason)
        except (errors.ClusterError, msgspec.DecodeError) as exc:
            log.warning("listing %s failed: %s", self._what, exc)
            return reflection.Failed()
        self._sink.replace(self.resource, items, page.metadata.resourceVersion)
        return reflection.Listed(page.metadata.resourceVersion)

    async def _watch(self, resource_version: str) -> reflection.Input:
        timeout_s = self._rng.randint(*reflection.WATCH_TIMEOUT_RANGE_S)
        params = {
            "watch": "true",
            "allowWatchBookmarks": "true",
            "resourceVersion": resource_version,
            "timeoutSeconds": str(timeout_s),
        }
        url = self.resource.collection_url(self._namespace)
        read_timeout = timeout_s + WATCH_READ_SLACK_S
        try:
            async with self._transport.stream(
                url,
                params=params,
                what=self._what,
                read_timeout_s=read_timeout,
                kind=self.resource.kind,
                namespace=self._namespace,
            ) as response:
                pending = b""
                async for chunk in response.aiter_bytes():
                    pending += chunk
                    while (end := pending.find(b"\n")) >= 0:
                        line, pending = pending[:end], pending[end + 1 :]
                        outcome = self._on_line(line) if line.strip() else None
                        if outcome is not None:
                            return outcome
                if pending.strip():
                    # The stream ended inside an event: drop it and resume before it.
                    return reflection.Failed()
        except errors.KubeApiError as exc:
            return reflection.Failed(exc.code, exc.reason)
        except (errors.ClusterError, httpx2.HTTPError, msgspec.DecodeError) as exc:
            # A dropped connection or a line cut mid-event: the partial event was not applied.
            log.info("watch of %s broke: %s", self._what, type(exc).__name__)
            return reflection.Failed()
        return reflection.Closed()

    def _on_line(self, line: bytes) -> reflection.Input | None:
        event = _line.decode(line)
        data = bytes(event.object)
        if event.type == "ERROR":
            status = decode_status(data)
            return reflection.Failed(status.code, status.reason)
        obj = _slim.decode(data)
        if event.type != "BOOKMARK":
            self._sink.event(self.resource, event.type, obj, data)
        self._feed(reflection.Event(event.type, obj.metadata.resourceVersion))
        return None


async def cancel(task: asyncio.Task[None]) -> None:
    """Cancel a reflector task and wait for it to finish."""
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
