"""An operation's first state and its last write: what lets a sync cost fewer writes.

An automated sync's request carries the Running state its first pass would write
(:func:`starting_state`), and a sync that succeeds asks its caller what status its final write
carries with the operation's end (``Settle``): each saved write is a request the API server
does not serve.
"""

from __future__ import annotations

import datetime
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from tether.core.app import compatibility
from tether.core.sync import request
from tether.model import timestamps
from tether.model.application import Application
from tether.model.operation import Operation, OperationState
from tether.model.status import OperationPhase
from tether.services.compare import Comparison

STARTING = "starting sync"
"""The message of an operation's state before its first pass did anything."""

Settle = Callable[[Application, Comparison], Awaitable[Mapping[str, Any] | None]]
"""Given the app and its comparison after a successful sync's writes, the status patch the
final write carries with the operation's end (``None``: the final write carries none)."""


def starting_state(
    app: Application, operation: Operation, revisions: Sequence[str], now: datetime.datetime
) -> OperationState | None:
    """The Running state an operation starts with at ``revisions`` (those a comparison resolved).

    ``None`` when the operation may not run at all: its first pass ends it with the reason.
    """
    if compatibility.operation_problems(app.model_copy(update={"operation": operation})):
        return None
    return running_state(app, operation, revisions, now)


def running_state(
    app: Application, operation: Operation, revisions: Sequence[str], now: datetime.datetime
) -> OperationState:
    """The Running state of an operation that may run, before anything was done."""
    return OperationState(
        operation=operation,
        phase=OperationPhase.RUNNING.value,
        message=STARTING,
        started_at=timestamps.format_time(now),
        retry_count=0,
        sync_result=request.result(app, revisions),
    )


def replacing(old: Any, new: Any) -> Any:
    """The JSON merge patch (RFC 7386) that turns ``old`` into ``new`` (``old``'s extra keys null).

    A state written over another must not keep the fields the new one leaves unset.
    """
    if not (isinstance(old, Mapping) and isinstance(new, Mapping)):
        return new
    patch: dict[str, Any] = {key: None for key in old if key not in new}
    for key, value in new.items():
        patch[key] = replacing(old.get(key), value)
    return patch


def request_patch(
    app: Application,
    operation: Operation,
    revisions: Sequence[str],
    now: datetime.datetime,
    status: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """An automated sync's request: the operation, its Running state, and ``status``'s patch.

    It carries the state the sync's first pass would write: one write fewer, and a watcher sees
    the operation Running as soon as it is requested. The last operation's state is replaced.
    """
    first = starting_state(app, operation, revisions, now)
    old = app.status.operation_state if app.status else None
    state = replacing(old.to_manifest() if old else None, first.to_manifest()) if first else None
    return {
        "operation": operation.to_manifest(),
        "status": {**(status or {}).get("status", {}), "operationState": state},
    }
