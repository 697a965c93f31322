"""Kubernetes Events on Applications for sync and health transitions, as Argo CD records them.

One Event per write that moves an app (an operation's start or end, a status change), not one per
sentence: Argo CD records "Initiated automated sync", "Updated sync status", "Updated health
status" and "Sync operation ... succeeded" as separate Events, six objects for one first sync.
tether keeps Argo CD's sentences and reasons but joins the sentences of one write into one
Event's message ("; " between them, so ``kubectl get events`` shows them on one line); its reason
is the operation's (``OperationStarted``, ``OperationCompleted``) when the write carries one, else
``ResourceUpdated``, and it is a Warning when any sentence is. A first automated sync of a
one-object app records two Events instead of six. (The events.k8s.io ``series`` counts repeats
of one Event; these sentences differ each time, so it would save nothing here, and tether sends
Events only on changes.)

Events are best effort: a failure to record one is logged, never fails a reconcile. Messages are
tether's own words about the app, never object contents, so no secret can reach them. The
controller's events go through a bounded background queue (as client-go's broadcaster does for
Argo CD), so a reconcile never waits for one; :meth:`EventRecorder.record` writes at once.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import logging
import uuid
from collections.abc import Sequence
from typing import Any

from tether import ports
from tether.model import application, timestamps
from tether.model.application import Application
from tether.model.errors import TetherError
from tether.services.appstatus import bounded
from tether.services.compare import Comparison

log = logging.getLogger(__name__)

REPORTING_COMPONENT = "tether-controller"

QUEUE_SIZE = 10_000
"""Events waiting to be sent; a full queue drops new ones (counted) rather than slow a sync.
A 1,000-app burst of first syncs queues about 2,000."""

SEPARATOR = "; "
"""Between the sentences of one Event: one line in ``kubectl get events``."""

RESOURCE_UPDATED = "ResourceUpdated"


@dataclasses.dataclass(frozen=True)
class Note:
    """One of Argo CD's Event sentences: its reason, its message, and whether it warns."""

    reason: str
    message: str
    warning: bool = False


SENDERS = 4
"""Concurrent Event writes from the queue: enough to keep up with a burst of first syncs."""


class EventRecorder:
    """Writes ``v1 Event`` objects about Applications.

    Attributes:
        dropped: Events not recorded because the background queue was full.
    """

    def __init__(
        self, cluster: ports.Cluster, field_manager: str, *, queue_size: int = QUEUE_SIZE
    ) -> None:
        self._cluster = cluster
        self._field_manager = field_manager
        self._queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(queue_size)
        self._senders: list[asyncio.Task[None]] = []
        self.dropped = 0

    async def record(
        self, app: Application, reason: str, message: str, *, warning: bool = False
    ) -> None:
        """Record one event on ``app`` now (the CLI's events: the process may exit next)."""
        await self._send(_event(app, reason, message, warning=warning))

    def enqueue(
        self, app: Application, reason: str, message: str, *, warning: bool = False
    ) -> None:
        """Record one event on ``app`` in the background; never waits, drops when full."""
        try:
            self._queue.put_nowait(_event(app, reason, message, warning=warning))
        except asyncio.QueueFull:
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 1000 == 0:
                log.warning("event queue full: %d events dropped so far", self.dropped)
            return
        self._senders = [task for task in self._senders if not task.done()]
        if len(self._senders) < SENDERS:
            self._senders.append(asyncio.create_task(self._drain()))

    async def flush(self) -> None:
        """Wait until every queued event has been sent (or failed)."""
        await self._queue.join()

    async def aclose(self) -> None:
        """Stop the background senders; events still queued are dropped."""
        for task in self._senders:
            task.cancel()
        await asyncio.gather(*self._senders, return_exceptions=True)
        self._senders = []

    async def _drain(self) -> None:
        # A sender ends once the queue is empty (the next event starts one), so no task
        # outlives the work: nothing is left sending when the controller stops idle.
        while not self._queue.empty():
            event = self._queue.get_nowait()
            try:
                await self._send(event)
            except Exception as err:
                # A sender must outlive any one event: the queue has no other consumers. (At
                # shutdown the client closes under queued events; that is no error worth more.)
                log.info("could not record event %s: %s", event["reason"], err)
            finally:
                self._queue.task_done()

    async def _send(self, event: dict[str, Any]) -> None:
        try:
            await self._cluster.create(event, field_manager=self._field_manager)
        except TetherError as err:
            involved = event["involvedObject"]
            log.info(
                "could not record event %s on %s/%s: %s",
                event["reason"],
                involved["namespace"],
                involved["name"],
                err,
            )

    def enqueue_notes(self, app: Application, notes: Sequence[Note]) -> None:
        """Record the sentences of one write as one Event in the background (none: nothing)."""
        if notes:
            message = SEPARATOR.join(note.message for note in notes)
            warning = any(note.warning for note in notes)
            self.enqueue(app, notes[0].reason, message, warning=warning)

    async def sync_started(
        self,
        app: Application,
        reason: str,
        *,
        automated: bool,
        comparison: Comparison | None = None,
    ) -> None:
        """An operation was requested; with ``comparison``: its write carried that status too."""
        self.enqueue_notes(
            app, [started_note(reason, automated=automated), *notes_of(app, comparison)]
        )

    async def operation_completed(
        self, app: Application, phase: str, message: str, comparison: Comparison | None = None
    ) -> None:
        """An operation ended; with ``comparison``: its final write carried that status too."""
        self.enqueue_notes(app, [completed_note(phase, message), *notes_of(app, comparison)])

    async def status_changed(self, app: Application, comparison: Comparison) -> None:
        """Sync or health status moved (``app``: as it was before the write)."""
        self.enqueue_notes(app, status_notes(app, comparison))


def started_note(reason: str, *, automated: bool) -> Note:
    """Argo CD's sentence for an operation's start."""
    who = "automated sync" if automated else "sync"
    return Note("OperationStarted", f"Initiated {who}: {reason}")


def completed_note(phase: str, message: str) -> Note:
    """Argo CD's sentence for an operation's end: a Warning unless it succeeded."""
    return Note(
        "OperationCompleted", f"Sync operation {phase}: {message}", warning=phase != "Succeeded"
    )


def status_notes(app: Application, comparison: Comparison) -> list[Note]:
    """Argo CD's sentences for the sync and health moves from ``app``'s status to ``comparison``.

    None when the desired state is unknown: the status keeps the last good one then.
    """
    if not comparison.desired_known:
        return []
    old_sync = app.status.sync.status if app.status and app.status.sync else None
    old_health = app.status.health.status if app.status and app.status.health else None
    new_sync = comparison.sync_status.value
    new_health = comparison.health.status.value
    notes = []
    if old_sync != new_sync:
        notes.append(
            Note(RESOURCE_UPDATED, f"Updated sync status: {old_sync or '(none)'} -> {new_sync}")
        )
    if old_health != new_health:
        notes.append(
            Note(
                RESOURCE_UPDATED,
                f"Updated health status: {old_health or '(none)'} -> {new_health}",
                warning=new_health == "Degraded",
            )
        )
    return notes


def notes_of(app: Application, comparison: Comparison | None) -> list[Note]:
    """``status_notes``, or none without a comparison."""
    return status_notes(app, comparison) if comparison is not None else []


def _event(app: Application, reason: str, message: str, *, warning: bool) -> dict[str, Any]:
    now = timestamps.format_time(datetime.datetime.now(datetime.UTC))
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": f"{app.name}.{uuid.uuid4().hex[:12]}", "namespace": app.namespace},
        "involvedObject": {
            "apiVersion": application.API_VERSION,
            "kind": application.KIND,
            "name": app.name,
            "namespace": app.namespace,
            "uid": app.metadata.uid or "",
        },
        "reason": reason,
        "message": bounded(message),
        "type": "Warning" if warning else "Normal",
        "firstTimestamp": now,
        "lastTimestamp": now,
        "count": 1,
        "source": {"component": REPORTING_COMPONENT},
        "reportingComponent": REPORTING_COMPONENT,
    }
