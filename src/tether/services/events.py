"""Kubernetes Events on Applications for sync and health transitions, as Argo CD records them.

Events are best effort: a failure to record one is logged, never fails a reconcile. Messages are
tether's own words about the app, never object contents, so no secret can reach them. The
controller's events go through a bounded background queue (as client-go's broadcaster does for
Argo CD), so a reconcile never waits for one; :meth:`EventRecorder.record` writes at once.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import uuid
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
A 1,000-app burst queues about 6,000."""

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

    async def sync_started(self, app: Application, reason: str, *, automated: bool) -> None:
        """An operation was requested."""
        who = "automated sync" if automated else "sync"
        self.enqueue(app, "OperationStarted", f"Initiated {who}: {reason}")

    async def operation_completed(self, app: Application, phase: str, message: str) -> None:
        """An operation ended."""
        self.enqueue(
            app,
            "OperationCompleted",
            f"Sync operation {phase}: {message}",
            warning=phase != "Succeeded",
        )

    async def status_changed(self, app: Application, comparison: Comparison) -> None:
        """Sync or health status moved."""
        old_sync = app.status.sync.status if app.status and app.status.sync else None
        old_health = app.status.health.status if app.status and app.status.health else None
        new_sync = comparison.sync_status.value
        new_health = comparison.health.status.value
        if comparison.desired_known and old_sync != new_sync:
            self.enqueue(
                app, "ResourceUpdated", f"Updated sync status: {old_sync or '(none)'} -> {new_sync}"
            )
        if comparison.desired_known and old_health != new_health:
            self.enqueue(
                app,
                "ResourceUpdated",
                f"Updated health status: {old_health or '(none)'} -> {new_health}",
                warning=new_health == "Degraded",
            )


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
