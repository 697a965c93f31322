"""Kubernetes Events on Applications for sync and health transitions, as Argo CD records them.

Events are best effort: a failure to record one is logged, never fails a reconcile. Messages are
tether's own words about the app, never object contents, so no secret can reach them.
"""

from __future__ import annotations

import datetime
import logging
import uuid
from typing import Any

from tether import ports
from tether.model.app_status import format_time
from tether.model.application import Application
from tether.model.errors import TetherError
from tether.services.appstatus import bounded
from tether.services.compare import Comparison

log = logging.getLogger(__name__)

REPORTING_COMPONENT = "tether-controller"


class EventRecorder:
    """Writes ``v1 Event`` objects about Applications."""

    def __init__(self, cluster: ports.Cluster, field_manager: str) -> None:
        self._cluster = cluster
        self._field_manager = field_manager

    async def record(
        self, app: Application, reason: str, message: str, *, warning: bool = False
    ) -> None:
        """Record one event on ``app``."""
        now = format_time(datetime.datetime.now(datetime.UTC))
        event: dict[str, Any] = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": f"{app.name}.{uuid.uuid4().hex[:12]}", "namespace": app.namespace},
            "involvedObject": {
                "apiVersion": "argoproj.io/v1alpha1",
                "kind": "Application",
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
        try:
            await self._cluster.create(event, field_manager=self._field_manager)
        except TetherError as err:
            log.info("could not record event %s on %s: %s", reason, app.qualified_name, err)

    async def sync_started(self, app: Application, reason: str, *, automated: bool) -> None:
        """An operation was requested."""
        who = "automated sync" if automated else "sync"
        await self.record(app, "OperationStarted", f"Initiated {who}: {reason}")

    async def operation_completed(self, app: Application, phase: str, message: str) -> None:
        """An operation ended."""
        await self.record(
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
            await self.record(
                app, "ResourceUpdated", f"Updated sync status: {old_sync or '(none)'} -> {new_sync}"
            )
        if comparison.desired_known and old_health != new_health:
            await self.record(
                app,
                "ResourceUpdated",
                f"Updated health status: {old_health or '(none)'} -> {new_health}",
                warning=new_health == "Degraded",
            )
