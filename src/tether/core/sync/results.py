"""Folding what a sync did into its per-resource results (``syncResult.resources[]``).

``record`` folds one performed action's outcome into the results, with Argo CD's mapping from
action result to ``status`` and ``hookPhase``. ``ResourceResult`` itself is the model's.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

import orjson

from tether.core.sync import actions as act
from tether.model import resources
from tether.model.operation import ResourceResult, result_key
from tether.model.resources import ResourceKey
from tether.model.status import HookPhase, ResultCode, SyncPhase

TERMINATION_FAILED = "failed to terminate: "
"""Prefix of a hook's message when cleaning it up during termination failed."""

FINALIZER_FAILED = "failed to remove hook finalizer: "
"""Prefix of a hook's message when its finalizer could not be removed."""


Results = tuple[ResourceResult, ...]


def index(results: Iterable[ResourceResult]) -> dict[str, ResourceResult]:
    """Results by result key; a later entry replaces an earlier one."""
    return {result.result_key: result for result in results}


def put(results: Results, updated: ResourceResult) -> Results:
    """Replace the entry with the same result key, or append a new one (Argo keeps order)."""
    keys = [result.result_key for result in results]
    if updated.result_key in keys:
        i = keys.index(updated.result_key)
        return (*results[:i], updated, *results[i + 1 :])
    return (*results, updated)


def _set(
    results: Results,
    key: ResourceKey,
    phase: SyncPhase,
    *,
    status: ResultCode | None,
    hook_phase: HookPhase | None,
    message: str,
    **extra: Any,
) -> Results:
    existing = index(results).get(result_key(key, phase)) or ResourceResult(key, phase)
    # Argo keeps the latest non-empty message.
    updated = dataclasses.replace(
        existing,
        status=status,
        hook_phase=hook_phase,
        message=message or existing.message,
        **extra,
    )
    return put(results, updated)


def _current(results: Results, key: ResourceKey, phase: SyncPhase) -> ResourceResult:
    return index(results).get(result_key(key, phase)) or ResourceResult(key, phase)


def record(results: Results, action: act.Action, outcome: act.Outcome) -> Results:
    """Fold the outcome of one performed action into the results."""
    if isinstance(action, act.Wait):
        return results
    if isinstance(action, act.DryRun):
        # A passing dry run leaves no trace, as in Argo; a failing one refuses the task.
        if outcome.ok:
            return results
        return _set(
            results,
            action.key,
            action.phase,
            status=ResultCode.SYNC_FAILED,
            hook_phase=None,
            message=outcome.message,
            version=resources.version_of(action.manifest),
        )
    if isinstance(action, act.Apply | act.Create | act.Update):
        return _record_write(results, action, outcome)
    if isinstance(action, act.Prune):
        if outcome.ok:
            return _set(
                results,
                action.key,
                action.phase,
                status=ResultCode.PRUNED,
                hook_phase=HookPhase.SUCCEEDED,
                message=outcome.message or "pruned",
            )
        return _set(
            results,
            action.key,
            action.phase,
            status=ResultCode.SYNC_FAILED,
            hook_phase=HookPhase.FAILED,
            message=outcome.message,
        )
    current = _current(results, action.key, action.phase)
    if isinstance(action, act.RemoveHookFinalizer):
        if outcome.ok:
            return results
        return _set(
            results,
            action.key,
            action.phase,
            status=current.status,
            hook_phase=HookPhase.ERROR,
            message=f"{FINALIZER_FAILED}{outcome.message}",
        )
    return _record_hook_delete(results, action, outcome, current)


def _record_write(results: Results, action: act.Write, outcome: act.Outcome) -> Results:
    hook_type = action.phase if action.hook else None
    if not outcome.ok and isinstance(action, act.Apply | act.Create) and action.validates:
        # Nothing was written, exactly as after a failed dry run: record it as one.
        return record(results, act.DryRun(action.key, action.phase, action.manifest), outcome)
    if not outcome.ok:
        return _set(
            results,
            action.key,
            action.phase,
            status=ResultCode.SYNC_FAILED,
            hook_phase=HookPhase.FAILED,
            message=outcome.message,
            hook_type=hook_type,
            version=resources.version_of(action.manifest),
        )
    # Nothing is created by a dry run: its success completes the task at once.
    phase = HookPhase.SUCCEEDED if action.dry_run else HookPhase.RUNNING
    return _set(
        results,
        action.key,
        action.phase,
        status=ResultCode.SYNCED,
        hook_phase=phase,
        message=outcome.message,
        hook_type=hook_type,
        version=resources.version_of(action.manifest),
    )


def _record_hook_delete(
    results: Results, action: act.DeleteHook, outcome: act.Outcome, current: ResourceResult
) -> Results:
    if action.reason is act.DeleteReason.TERMINATE:
        if outcome.ok:
            return results  # the step already recorded the hook as terminated
        return _set(
            results,
            action.key,
            action.phase,
            status=current.status,
            hook_phase=HookPhase.FAILED,
            message=f"{TERMINATION_FAILED}{outcome.message}",
        )
    if outcome.ok:
        # BeforeHookCreation: the hook stays pending and is created on a later step.
        return results
    return _set(
        results,
        action.key,
        action.phase,
        status=current.status,
        hook_phase=HookPhase.ERROR,
        message=f"failed to delete resource: {outcome.message}",
    )


RESULTS_BUDGET_BYTES = 960 * 1024
"""``syncResult.resources`` as JSON. With ``status.resources`` (``appstatus``) and the history
it keeps the Application under etcd's 1.5 MiB object limit: Argo CD apps of ~3,000 resources
could not write their status at all (argo-cd#14486)."""


def fit(results: Results) -> Results | None:
    """The results as they can be persisted; ``None`` when they cannot.

    Whole when they fit ``RESULTS_BUDGET_BYTES``; else with the messages of plain successful
    applies left out; ``None`` when even that does not fit.

    Nothing the state machine reads is dropped (messages are for people), so a sync resumed
    from the compacted results takes the same next step.
    """
    if len(results) < 1_000 or _size(results) <= RESULTS_BUDGET_BYTES:
        return results
    compacted = tuple(
        dataclasses.replace(result, message="") if _routine(result) else result
        for result in results
    )
    return compacted if _size(compacted) <= RESULTS_BUDGET_BYTES else None


def _routine(result: ResourceResult) -> bool:
    """A plain resource applied without trouble: its message (``configured``) says nothing new."""
    return (
        result.hook_type is None
        and result.status is ResultCode.SYNCED
        and result.hook_phase in (HookPhase.RUNNING, HookPhase.SUCCEEDED)
    )


def _size(results: Results) -> int:
    return len(orjson.dumps([result.to_json() for result in results]))
