"""Whether an automated sync starts now: Argo CD's rules, with self-heal backoff.

The controller calls :func:`decide` after each comparison. It never starts a sync on unknown
state, never repeats a sync of a revision that already failed, refuses a sync that would
prune every resource unless ``allowEmpty`` says so, and holds one its project's sync windows
refuse until they change.
"""

from __future__ import annotations

import dataclasses
import datetime

from tether.core.app import syncwindows
from tether.core.sync import backoff
from tether.model import revisions, timestamps
from tether.model.application import Application
from tether.model.operation import (
    Operation,
    OperationInitiator,
    SyncOperation,
    SyncOperationResource,
    SyncOperationResult,
)
from tether.model.project import AppProject
from tether.model.status import OperationPhase, SyncStatus


@dataclasses.dataclass(frozen=True)
class OutOfSyncResource:
    """A resource the comparison found not Synced."""

    group: str
    kind: str
    namespace: str
    name: str
    requires_pruning: bool = False


@dataclasses.dataclass(frozen=True)
class Comparison:
    """What the latest comparison says, as much as the decision needs."""

    sync_status: SyncStatus
    revisions: tuple[str, ...]
    out_of_sync: tuple[OutOfSyncResource, ...]
    desired_count: int
    """How many resources Git describes now (0: an empty render)."""

    managed_live_count: int
    """How many live resources the app manages now."""


@dataclasses.dataclass(frozen=True)
class Decision:
    """The outcome: an operation to request, a SyncError to report, or a time to look again."""

    operation: Operation | None = None
    error: str = ""
    """A ``SyncError`` condition message, when the sync is refused."""

    recheck_at: datetime.datetime | None = None
    """Self-heal is backing off, or sync windows change: compare again at this time."""

    held: str = ""
    """A sync would start but the project's sync windows refuse it: why (a condition message)."""

    reason: str = ""


def decide(
    app: Application,
    comparison: Comparison,
    *,
    now: datetime.datetime,
    project: AppProject | None = None,
) -> Decision:
    """Whether to start an automated sync now, per Argo CD's rules (no ``project``: no windows).

    The windows are asked only when a sync would start, so an app with nothing to sync says
    nothing about them.
    """
    decision = _decide(app, comparison, now=now)
    if decision.operation is None or project is None:
        return decision
    verdict = syncwindows.check(project, app, now=now, manual=False)
    if verdict.allowed:
        return decision
    return Decision(
        held=f"automated sync held by sync windows: {verdict.reason()}",
        recheck_at=verdict.changes_at,
        reason=f"sync windows refuse it ({decision.reason})",
    )


def _decide(app: Application, comparison: Comparison, *, now: datetime.datetime) -> Decision:
    policy = app.spec.sync_policy
    automated = policy.automated if policy else None
    if automated is None or not app.spec.is_automated:
        return Decision(reason="automated sync is off")
    if app.operation is not None:
        return Decision(reason="an operation is already requested")
    if app.is_being_deleted:
        return Decision(reason="the application is being deleted")
    if comparison.sync_status is not SyncStatus.OUT_OF_SYNC:
        return Decision(reason=f"sync status is {comparison.sync_status.value}")
    prune = bool(automated.prune)
    if not prune and all(r.requires_pruning for r in comparison.out_of_sync):
        return Decision(reason="only resources that need pruning differ, and prune is off")
    if (
        prune
        and not automated.allow_empty
        and comparison.desired_count == 0
        and comparison.managed_live_count > 0
    ):
        return Decision(
            error="auto-sync would prune every resource and allowEmpty is false; "
            "refusing (set syncPolicy.automated.allowEmpty to allow it)"
        )
    sync = SyncOperation(
        prune=prune, sync_options=list(policy.sync_options or []) if policy else None
    )
    pinned = revisions.fields(comparison.revisions, multiple_sources=app.has_multiple_sources)
    sync = sync.model_copy(update=dict(pinned))
    last = app.status.operation_state if app.status else None
    if last is not None and _same_target(last.sync_result, comparison):
        phase = last.phase or ""
        if phase in (OperationPhase.FAILED.value, OperationPhase.ERROR.value):
            revision = ", ".join(comparison.revisions) or "the target revision"
            return Decision(
                error=f"Failed last sync attempt to {revision}: {last.message or phase}",
                reason="the same revision failed before; not retrying automatically",
            )
        if not automated.self_heal:
            return Decision(reason="already synced to this revision and selfHeal is off")
        return _self_heal(app, comparison, sync, last.finished_at, now)
    return Decision(
        operation=Operation(sync=sync, initiated_by=OperationInitiator(automated=True)),
        reason="out of sync with a new revision",
    )


def _same_target(result: SyncOperationResult | None, comparison: Comparison) -> bool:
    if result is None:
        return False
    revisions = result.all_revisions()
    return bool(revisions) and revisions == comparison.revisions


def _self_heal(
    app: Application,
    comparison: Comparison,
    sync: SyncOperation,
    finished_at: str | None,
    now: datetime.datetime,
) -> Decision:
    previous = app.status.operation_state if app.status else None
    previous_sync = previous.operation.sync if previous and previous.operation else None
    attempts = (previous_sync.auto_heal_attempts_count or 0) if previous_sync else 0
    finished = timestamps.parse(finished_at)
    if finished is not None:
        due = finished + backoff.self_heal_delay(attempts)
        if due > now:
            return Decision(recheck_at=due, reason=f"self-heal backing off until {due.isoformat()}")
    # Self-heal re-applies only what drifted: a partial sync, so no hooks and no history entry.
    resources = [
        SyncOperationResource(
            group=r.group, kind=r.kind, name=r.name, namespace=r.namespace or None
        )
        for r in comparison.out_of_sync
        if not r.requires_pruning or sync.prune
    ]
    healing = sync.model_copy(
        update={"resources": resources, "auto_heal_attempts_count": attempts + 1}
    )
    return Decision(
        operation=Operation(sync=healing, initiated_by=OperationInitiator(automated=True)),
        reason=f"self-heal attempt {attempts + 1}",
    )
