"""What one sync task needs done to it: its write action, its refreshed result, the messages.

Helpers of ``syncstate``; each is a small pure function over ``plan.Task``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from tether.core.sync import actions as act, hooks, ordering
from tether.core.sync.clientside import KUBECTL_MANAGER
from tether.core.sync.options import PruneMode
from tether.core.sync.plan import Task
from tether.core.sync.results import Results, put
from tether.model import resources
from tether.model.operation import ResourceResult
from tether.model.resources import ResourceKey
from tether.model.status import Health, HealthStatus, HookPhase, ResultCode

HOOK_PHASE_BY_HEALTH: dict[HealthStatus, HookPhase] = {
    # Argo's getOperationPhase: a hook is done when healthy, failed when degraded or unknown.
    HealthStatus.HEALTHY: HookPhase.SUCCEEDED,
    HealthStatus.PROGRESSING: HookPhase.RUNNING,  # a Job still running
    HealthStatus.SUSPENDED: HookPhase.RUNNING,  # e.g. a suspended Workflow: not finished
    HealthStatus.DEGRADED: HookPhase.FAILED,
    HealthStatus.UNKNOWN: HookPhase.FAILED,  # a hook nobody can judge must not pass
    # Missing is not listed: Argo then treats the hook like one without a health check.
}

STILL_RUNNING = frozenset(
    # Termination deletes a hook in these states: it has not finished.
    {HealthStatus.PROGRESSING, HealthStatus.SUSPENDED}
)

RESOURCE_PHASE_BY_HEALTH: dict[HealthStatus, HookPhase] = {
    # Non-hooks in a multi-step sync: only Healthy and Degraded end the wait.
    HealthStatus.HEALTHY: HookPhase.SUCCEEDED,
    HealthStatus.DEGRADED: HookPhase.FAILED,
}


def result_of(task: Task) -> ResourceResult:
    """The task's result, or an empty one naming it."""
    if task.result is not None:
        return task.result
    return ResourceResult(
        task.key,
        task.phase,
        hook_type=task.phase if task.is_hook else None,
        version=resources.version_of(task.obj),
    )


def set_result(
    results: Results,
    task: Task,
    *,
    status: ResultCode | None,
    hook_phase: HookPhase | None,
    message: str = "",
) -> Results:
    """Record a task's result, keeping the previous message when the new one is empty."""
    current = result_of(task)
    updated = dataclasses.replace(
        current, status=status, hook_phase=hook_phase, message=message or current.message
    )
    return put(results, updated)


def refresh(task: Task, health: Mapping[ResourceKey, Health | None], results: Results) -> Results:
    """Update a running task from its live object's health (Argo's step 3)."""
    if task.live is None:
        return results
    verdict = health.get(task.key)
    status = task.result.status if task.result else None
    if task.is_hook:
        phase = HOOK_PHASE_BY_HEALTH.get(verdict.status) if verdict else None
        if verdict is None or phase is None:
            name = resources.name_of(task.live)
            return set_result(
                results,
                task,
                status=status,
                hook_phase=HookPhase.SUCCEEDED,
                message=f"{name} created",
            )
        return set_result(results, task, status=status, hook_phase=phase, message=verdict.message)
    if verdict is None:
        # Objects without a health check (a Secret) are done once applied.
        return set_result(results, task, status=status, hook_phase=HookPhase.SUCCEEDED)
    resource_phase = RESOURCE_PHASE_BY_HEALTH.get(verdict.status)
    if resource_phase is None:
        return results
    return set_result(
        results, task, status=status, hook_phase=resource_phase, message=verdict.message
    )


def waiting_message(tasks: Sequence[Task], *, deletion: bool = False) -> str:
    """Argo's "waiting for ..." message: hooks named first, the rest counted."""
    hook_tasks = [t for t in tasks if t.is_hook]
    first = hook_tasks[0] if hook_tasks else tasks[0]
    reason = "completion of hook" if hook_tasks else "healthy state of"
    if deletion:
        reason = "deletion of hook" if hook_tasks else "deletion of"
    more = "hooks" if len(hook_tasks) == len(tasks) else "resources"
    message = f"waiting for {reason} {first.describe()}"
    if len(tasks) > 1:
        message += f" and {len(tasks) - 1} more {more}"
    return message


def failure_message(reason: str, tasks: Sequence[Task]) -> str:
    """``<reason>, reason: <messages>``, from the tasks that failed to apply, as Argo words it.

    Tasks that only turned out unhealthy are not quoted: Argo lists ``SyncFailed`` ones.
    """
    messages = list(
        dict.fromkeys(  # each message once, as Argo does, but in task order to stay stable
            task.result.message
            for task in tasks
            if task.result and task.result.status is ResultCode.SYNC_FAILED and task.result.message
        )
    )
    return f"{reason}, reason: {','.join(messages)}" if messages else reason


def is_deleting(obj: Mapping[str, object] | None) -> bool:
    """Whether a live object is already going away."""
    return obj is not None and resources.is_being_deleted(obj)


def needs_confirmation(task: Task, prune: bool) -> bool:
    """A prune that will really delete and was marked ``Prune=confirm``."""
    return prune and task.options.prune is PruneMode.CONFIRM


def prune_skip(task: Task, prune: bool) -> tuple[ResultCode, str] | None:
    """Why a prune does not delete, as Argo words it; ``None`` when it does."""
    if not prune:
        return (ResultCode.PRUNE_SKIPPED, "ignored (requires pruning)")
    if task.options.prune is PruneMode.DISABLED:
        return (ResultCode.PRUNE_SKIPPED, "ignored (no prune)")
    return None


def dry_run(task: Task) -> act.DryRun:
    """The dry run that validates a task before the operation starts."""
    assert task.target is not None
    options = task.options
    return act.DryRun(
        task.key,
        task.phase,
        task.target,
        strict=options.validate,
        replace=options.replace,
        server_side=options.server_side_apply,
    )


def write(task: Task, *, dry_run: bool, migrating: str = "") -> act.Write:
    """How to write a task's target: apply, create, replace, or a plain update.

    ``migrating`` names the client-side manager to migrate (``""``: kubectl's).
    """
    target = task.target
    assert target is not None
    options = task.options
    common: dict[str, Any] = {"dry_run": dry_run, "hook": task.is_hook, "strict": options.validate}
    if not options.replace:
        return act.Apply(
            task.key,
            task.phase,
            target,
            force=options.force,
            server_side=options.server_side_apply,
            migrate=(migrating or KUBECTL_MANAGER) if options.client_side_apply_migration else "",
            **common,
        )
    if task.live is None:
        return act.Create(task.key, task.phase, target, **common)
    if ordering.is_crd(target) or (task.key.group == "" and task.key.kind == "Namespace"):
        version = resources.metadata_of(task.live).get("resourceVersion", "")
        metadata = {**resources.metadata_of(target), "resourceVersion": version}
        return act.Update(task.key, task.phase, {**target, "metadata": metadata}, **common)
    return act.Apply(task.key, task.phase, target, force=options.force, replace=True, **common)


def finalizer_removals(tasks: Sequence[Task]) -> list[act.Action]:
    """Remove the hook finalizer from completed hooks that still carry it."""
    return [
        act.RemoveHookFinalizer(t.key, t.phase)
        for t in tasks
        if t.is_hook and t.completed and t.live is not None and hooks.has_finalizer(t.live)
    ]


def policy_deletions(tasks: Sequence[Task], policy: hooks.DeletePolicy) -> list[act.Action]:
    """Delete finished hooks whose delete policy matches how the operation ended."""
    return [
        act.DeleteHook(t.key, t.phase, act.DeleteReason.POLICY, t.options.prune_propagation)
        for t in tasks
        if t.hook is not None
        and policy in t.hook.delete_policies
        and t.live is not None
        and not t.running
        and not is_deleting(t.live)
    ]


def stop_hook(
    task: Task, health: Mapping[ResourceKey, Health | None], results: Results
) -> tuple[list[act.Action], Results]:
    """What terminating does to one hook (Argo's terminateHooksPreemptively).

    Completed hooks only lose their finalizer. A running hook loses it too, is deleted while
    it still runs (or anyway with the HookFailed policy), and records its real phase if it had
    in fact finished, else ``Failed: Terminated``.
    """
    if task.hook is None or not (task.running or task.completed):
        return [], results
    status = task.result.status if task.result else None
    if task.live is None:
        if task.running:
            results = set_result(
                results, task, status=status, hook_phase=HookPhase.SUCCEEDED, message="Terminated"
            )
        return [], results
    actions: list[act.Action] = []
    if hooks.has_finalizer(task.live):
        actions.append(act.RemoveHookFinalizer(task.key, task.phase))
    if task.completed:
        return actions, results
    verdict = health.get(task.key)
    still_running = verdict is not None and verdict.status in STILL_RUNNING
    on_failure = hooks.DeletePolicy.HOOK_FAILED in task.hook.delete_policies
    if (still_running or on_failure) and not is_deleting(task.live):
        reason = act.DeleteReason.TERMINATE
        actions.append(act.DeleteHook(task.key, task.phase, reason, task.options.prune_propagation))
    if still_running:
        results = set_result(
            results, task, status=status, hook_phase=HookPhase.FAILED, message="Terminated"
        )
        return actions, results
    return actions, refresh(task, health, results)
