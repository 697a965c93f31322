"""An operation's dependencies: read from the control plane's cache, and the status they show.

The core decides (``core/app/dependencies.py``); this reads the Applications it needs from the
watch-fed cache (no requests) and builds the status patches a held or refused operation writes:
``status.operationState`` and one of two conditions, ``DependencyWarning`` while it waits and
``DependencyError`` when a cycle or a bad annotation refuses it.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Collection
from typing import Any

from tether import ports
from tether.core.app import dependencies
from tether.core.app.dependencies import AppRef, Verdict
from tether.model import application, timestamps
from tether.model.app_status import ApplicationCondition, set_conditions
from tether.model.application import Application, parse_application
from tether.model.errors import TetherError
from tether.model.operation import Operation, OperationState
from tether.model.resources import ResourceKey
from tether.model.status import OperationPhase

DEPENDENCY_ERROR = "DependencyError"
"""The condition of an operation refused for a dependency cycle or a bad annotation."""

CONDITIONS = frozenset({dependencies.DEPENDENCY_WARNING, DEPENDENCY_ERROR})


class Dependencies:
    """Reads the Applications an app depends on from the control plane's cache."""

    def __init__(
        self, applications: ports.LiveState, namespaces: Callable[[], Collection[str]]
    ) -> None:
        """Read from ``applications``, in ``namespaces`` only.

        Other namespaces read as missing: tether reconciles no Application there, so its status
        is nobody's word, and anyone allowed to write there could forge it.
        """
        self._applications = applications
        self._namespaces = namespaces

    def read(self, ref: AppRef) -> Application | None:
        """The Application ``ref`` names as the cache holds it; ``None`` if absent or invalid."""
        if ref[0] not in self._namespaces():
            return None
        group_kind = application.GROUP_KIND
        obj = self._applications.manifest(
            ResourceKey(group_kind.group, group_kind.kind, ref[0], ref[1])
        )
        if obj is None:
            return None
        try:
            return parse_application(obj)
        except TetherError:
            return None

    def check(self, app: Application) -> Verdict:
        """Whether ``app``'s operation may go on now."""
        return dependencies.check(app, self.read)


def conditions_patch(
    app: Application, kind: str | None, message: str, now: datetime.datetime
) -> dict[str, Any] | None:
    """``status.conditions`` with ``kind`` set, or ``None`` when they already say so.

    ``kind`` ``None``: neither dependency condition.
    """
    existing = list(app.status.conditions or []) if app.status else []
    new = [ApplicationCondition(type=kind, message=message)] if kind else []
    updated = set_conditions(existing, new, CONDITIONS, now)
    if _shown(updated) == _shown(existing):
        return None
    return {"conditions": [c.to_manifest() for c in updated] or None}


def _shown(conditions: list[ApplicationCondition]) -> list[tuple[str, str]]:
    return sorted((c.type, c.message or "") for c in conditions if c.type in CONDITIONS)


def held_state(
    operation: Operation, state: OperationState | None, message: str, now: datetime.datetime
) -> OperationState:
    """The operation's state while it waits: Running, nothing applied, saying for what."""
    if state is None:
        state = OperationState(
            operation=operation,
            phase=OperationPhase.RUNNING.value,
            started_at=timestamps.format_time(now),
        )
    return state.model_copy(update={"message": message})


def is_waiting_message(message: str | None) -> bool:
    """Whether an operation's message is a dependency wait's (so it has applied nothing)."""
    return bool(message) and str(message).startswith("Waiting for ")
