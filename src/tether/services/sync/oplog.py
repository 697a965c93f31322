"""The info lines of a sync operation: started, each (phase, wave) started, finished.

One line each, with the app, its namespace and what an operator reads first as structured
fields; messages pass through the process's scrubbing like any other line.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Sequence

from tether.core.sync import actions as act, ordering
from tether.model import timestamps
from tether.model.application import Application
from tether.model.operation import Operation, OperationState

log = logging.getLogger("tether.operation")

Slot = tuple[str, int]
"""(sync phase, wave)."""


def _initiator(operation: Operation) -> str:
    who = operation.initiated_by
    if who is None:
        return ""
    return "automated" if who.automated else (who.username or "")


class OperationLog:
    """Logs operations as they go; remembers each app's last (phase, wave) logged."""

    def __init__(self) -> None:
        self._slots: dict[tuple[str, str], Slot] = {}

    def started(self, app: Application, operation: Operation, state: OperationState) -> None:
        """An operation began (or was restarted for a retry)."""
        self._slots.pop((app.namespace, app.name), None)
        revision = (state.sync_result.revision if state.sync_result else None) or ""
        sync = operation.sync
        log.info(
            "sync started: %s/%s at %s",
            app.namespace,
            app.name,
            revision or "(unresolved)",
            extra={
                "app": app.name,
                "namespace": app.namespace,
                "project": app.spec.project,
                "revision": revision,
                "initiator": _initiator(operation),
                "dry_run": bool(sync and sync.dry_run),
                "retry": state.retry_count or 0,
            },
        )

    def actions(self, app: Application, actions: Sequence[act.Action]) -> None:
        """A step's writes: a line when they begin a (phase, wave) not logged yet."""
        slots = sorted(
            {
                (a.phase.value, ordering.wave_of(a.manifest))
                for a in actions
                if isinstance(a, act.Apply | act.Create | act.Update)
            }
        )
        if not slots:
            return
        key = (app.namespace, app.name)
        slot = slots[0]
        if self._slots.get(key) == slot:
            return
        self._slots[key] = slot
        log.info(
            "sync %s/%s: phase %s wave %d started (%d writes)",
            app.namespace,
            app.name,
            slot[0],
            slot[1],
            len(actions),
            extra={"app": app.name, "namespace": app.namespace, "phase": slot[0], "wave": slot[1]},
        )

    def retrying(self, app: Application, message: str, attempt: int) -> None:
        """An attempt failed and another will follow (``message`` says when)."""
        self._slots.pop((app.namespace, app.name), None)
        log.warning(
            "sync attempt failed: %s/%s: %s",
            app.namespace,
            app.name,
            message,
            extra={
                "app": app.name,
                "namespace": app.namespace,
                "detail": message,
                "retry": attempt,
            },
        )

    def finished(
        self,
        app: Application,
        state: OperationState,
        phase: str,
        message: str,
        now: datetime.datetime,
    ) -> None:
        """The operation ended (``phase``: Succeeded, Failed, Error)."""
        self._slots.pop((app.namespace, app.name), None)
        started = timestamps.parse(state.started_at)
        seconds = round((now - started).total_seconds(), 3) if started else None
        log.log(
            logging.INFO if phase == "Succeeded" else logging.WARNING,
            "sync finished: %s/%s %s: %s",
            app.namespace,
            app.name,
            phase,
            message,
            extra={
                "app": app.name,
                "namespace": app.namespace,
                "phase": phase,
                "detail": message,
                "duration_s": seconds,
            },
        )
