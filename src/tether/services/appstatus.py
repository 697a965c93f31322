"""Turn a comparison into the Application status Argo CD writes, and only what changed.

Statuses are bounded: resource lists and messages are capped, so one huge app cannot push its
Application past etcd's object size limit.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

import orjson

from tether.core import redact
from tether.core.app import autosync, refresh
from tether.core.diff import diff
from tether.model import revisions, timestamps
from tether.model.app_status import SYNC_WINDOW_WARNING, ApplicationCondition, set_conditions
from tether.model.application import Application
from tether.model.status import SyncStatus
from tether.services import compare
from tether.services.compare import Comparison

RESOURCES_BUDGET_BYTES = 256 * 1024
"""``status.resources`` as JSON: about 2,000 entries. With the sync results (960 KiB at most)
and the history (128 KiB) the Application stays under etcd's 1.5 MiB object limit; entries past
the budget are left out and a ``StatusTruncatedWarning`` says how many."""

TRUNCATED = "StatusTruncatedWarning"

MAX_MESSAGE_CHARS = 4_000
"""Long enough for a render error with context; short enough to keep statuses small."""

COMPARISON_CONDITIONS = frozenset(
    {
        # The condition types a comparison evaluates: each refresh replaces exactly these.
        "ComparisonError",
        "InvalidSpecError",
        "RepeatedResourceWarning",
        "ExcludedResourceWarning",
        "SharedResourceWarning",
        "OrphanedResourceWarning",
        compare.UNSUPPORTED_FIELD_WARNING,
        TRUNCATED,
        # A reconcile that raised (controller/loop.py): the next good comparison clears it.
        "UnknownError",
    }
)


def bounded(message: str) -> str:
    """A message fit for a status or an Event: scrubbed of credentials, cut to a bound."""
    message = redact.text(message)
    if len(message) <= MAX_MESSAGE_CHARS:
        return message
    return message[: MAX_MESSAGE_CHARS - 20] + " ... (truncated)"


def status_patch(
    app: Application,
    comparison: Comparison,
    last_good: Comparison | None,
    *,
    level: refresh.Level,
    now: datetime.datetime,
    control_plane_namespace: str,
    held_by_windows: str | None = None,
) -> dict[str, Any] | None:
    """A merge patch for ``status`` after a comparison, or ``None`` when nothing changed.

    When the desired state is unknown (Git or rendering failed), the last good comparison's
    sync, health and resources stay as they are; only the conditions say what went wrong.
    ``held_by_windows`` is the automated sync's ``SyncWindowWarning`` ("" for none); ``None``
    when no automated sync was considered, which leaves that condition as it is.
    """
    old = app.status.to_manifest() if app.status else {}
    existing = list(app.status.conditions or []) if app.status else []
    entries, left_out = _resource_entries(comparison)
    errors = list(comparison.errors)
    evaluated = set(COMPARISON_CONDITIONS)
    if held_by_windows is not None:
        evaluated.add(SYNC_WINDOW_WARNING)
        if held_by_windows:
            errors.append((SYNC_WINDOW_WARNING, held_by_windows))
    if left_out and comparison.desired_known:
        errors.append(
            (
                TRUNCATED,
                f"status.resources lists {len(entries)} of {len(entries) + left_out} resources; "
                "the rest are left out to keep the Application under etcd's size limit",
            )
        )
    new_conditions = [
        ApplicationCondition(type=kind, message=bounded(message)) for kind, message in errors
    ]
    conditions = set_conditions(existing, new_conditions, evaluated, now)
    status: dict[str, Any] = {
        "conditions": [c.to_manifest() for c in conditions] or None,
        "controllerNamespace": control_plane_namespace,
    }
    if comparison.desired_known:
        status.update(_compared(app, comparison, old, now, entries))
    elif last_good is None and not old.get("sync"):
        status["sync"] = {"status": SyncStatus.UNKNOWN.value}
        status["health"] = {"status": comparison.health.status.value}
    if comparison.desired_known and (level >= refresh.Level.LATEST or not old.get("reconciledAt")):
        status["reconciledAt"] = timestamps.format_time(now)
    # Compared without nulls: a null in the patch removes a field (a stale health message),
    # and a removed field must not look like a change on the next pass.
    changed = {
        k: v
        for k, v in status.items()
        if _without_nulls(old.get(k)) != _without_nulls(v) and not (v is None and k not in old)
    }
    # A resync that finds nothing new writes nothing (the steady state costs no API writes),
    # so reconciledAt moves only together with a real change.
    if not changed or (set(changed) <= {"reconciledAt"} and old.get("reconciledAt")):
        return None
    return {"status": changed}


def _resource_entries(comparison: Comparison) -> tuple[list[dict[str, Any]], int]:
    """``status.resources`` within ``RESOURCES_BUDGET_BYTES``, and how many were left out."""
    entries = diff.status_entries([r.status for r in comparison.resources])
    used = 0
    for index, entry in enumerate(entries):
        used += len(orjson.dumps(entry)) + 1
        if used > RESOURCES_BUDGET_BYTES:
            return entries[:index], len(entries) - index
    return entries, 0


def _compared(
    app: Application,
    comparison: Comparison,
    old: Mapping[str, Any],
    now: datetime.datetime,
    entries: list[dict[str, Any]],
) -> dict[str, Any]:
    sync: dict[str, Any] = {"status": comparison.sync_status.value}
    compared_to: dict[str, Any] = {"destination": app.spec.destination.to_manifest()}
    sync.update(revisions.fields(comparison.revisions, multiple_sources=app.has_multiple_sources))
    if app.has_multiple_sources:
        compared_to["sources"] = [s.to_manifest() for s in app.spec.sources or []]
    elif app.spec.source is not None:
        compared_to["source"] = app.spec.source.to_manifest()
    if app.spec.ignore_differences:
        compared_to["ignoreDifferences"] = [i.to_manifest() for i in app.spec.ignore_differences]
    sync["comparedTo"] = compared_to
    health: dict[str, Any] = {
        "status": comparison.health.status.value,
        "message": bounded(comparison.health.message) if comparison.health.message else None,
    }
    old_health = old.get("health") or {}
    if old_health.get("status") == health["status"] and old_health.get("lastTransitionTime"):
        health["lastTransitionTime"] = old_health["lastTransitionTime"]
    else:
        health["lastTransitionTime"] = timestamps.format_time(now)
    return {"sync": sync, "health": health, "resources": entries}


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def condition_patch(
    app: Application, kind: str, message: str, now: datetime.datetime
) -> dict[str, Any]:
    """A status patch setting one condition (e.g. ``SyncError``), keeping the others.

    An empty ``message`` removes the condition instead.
    """
    existing = list(app.status.conditions or []) if app.status else []
    new = [ApplicationCondition(type=kind, message=bounded(message))] if message else []
    conditions = set_conditions(existing, new, {kind}, now)
    return {"status": {"conditions": [c.to_manifest() for c in conditions] or None}}


def invalid_spec_patch(message: str, now: datetime.datetime) -> dict[str, Any]:
    """The status of an Application tether cannot even read: Unknown, with the reason."""
    return {
        "status": {
            "sync": {"status": SyncStatus.UNKNOWN.value},
            "health": {"status": "Unknown"},
            "conditions": [
                {
                    "type": "InvalidSpecError",
                    "message": bounded(message),
                    "lastTransitionTime": timestamps.format_time(now),
                }
            ],
        }
    }


def autosync_view(comparison: Comparison) -> autosync.Comparison:
    """The part of a comparison the automated-sync decision reads."""
    out = tuple(
        autosync.OutOfSyncResource(
            r.key.group,
            r.key.kind,
            r.key.namespace,
            r.key.name,
            requires_pruning=r.status.requires_pruning,
        )
        for r in comparison.resources
        if r.counts
    )
    desired = sum(1 for r in comparison.resources if r.desired is not None and not r.status.hook)
    live = sum(1 for r in comparison.resources if r.live is not None and not r.status.hook)
    return autosync.Comparison(comparison.sync_status, comparison.revisions, out, desired, live)
