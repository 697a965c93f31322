"""The DEPENDENCIES section of ``tether app get``: what an app waits for, what waits for it.

Built from the app and the Applications the caller can list (``tether.dev/depends-on``); the
readiness shown is the one the controller applies (``core/app/dependencies.py``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from tether.cli import output
from tether.core.app import dependencies
from tether.core.app.dependencies import Neighbour
from tether.model.application import Application, parse_application
from tether.model.errors import InvalidInputError
from tether.model.status import OperationPhase

HEADERS = ("", "APP", "SYNC", "HEALTH", "STATE")


def section(obj: Mapping[str, Any], others: Iterable[Mapping[str, Any]]) -> str:
    """``DEPENDENCIES:`` and a table, or ``""`` when the app has no neighbour either way."""
    app = _parsed(obj)
    if app is None:
        return ""
    apps = [a for a in map(_parsed, others) if a is not None]
    waits_for, needed_by = dependencies.neighbours(app, apps)
    rows = [_row("waits for", n, app.namespace, _readiness(n)) for n in waits_for]
    rows += [_row("needed by", n, app.namespace, _held(n)) for n in needed_by]
    if not rows:
        return ""
    lines = output.table(HEADERS, rows).splitlines()
    return "DEPENDENCIES:\n" + "\n".join(f"  {line}".rstrip() for line in lines)


def _parsed(obj: Mapping[str, Any]) -> Application | None:
    try:
        return parse_application(obj)
    except InvalidInputError:
        return None


def _row(direction: str, n: Neighbour, namespace: str, state: str) -> tuple[str, ...]:
    status = n.app.status if n.app is not None else None
    sync = (status.sync.status if status and status.sync else None) or "-"
    health = (status.health.status if status and status.health else None) or "-"
    return (direction, dependencies.label(n.ref, namespace), sync, health, state)


def _readiness(n: Neighbour) -> str:
    return f"not ready: {n.waiting}" if n.waiting else "ready"


def _held(n: Neighbour) -> str:
    """A dependent's operation, when one is waiting or was refused for its dependencies."""
    state = n.app.status.operation_state if n.app is not None and n.app.status else None
    if state is None:
        return ""
    message = state.message or ""
    if state.phase == OperationPhase.RUNNING.value and message.startswith("Waiting for "):
        return "waiting"
    return "refused" if message.startswith("dependency cycle:") else ""
