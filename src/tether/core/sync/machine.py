"""Sync as a restartable, pure state machine: from the request and what is observed, the next step.

Argo CD's ``syncContext.Sync()`` without the I/O. All memory lives in the results passed in, so a
step computed after a crash is the step that would have come next anyway.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import timedelta

from tether.core.sync import actions as act, backoff, hooks, ordering, plan, taskops
from tether.core.sync.plan import Observed, Request, Task
from tether.core.sync.results import FINALIZER_FAILED, TERMINATION_FAILED, Results, put
from tether.model.resources import ResourceKey
from tether.model.status import HealthStatus, HookPhase, OperationPhase, ResultCode, SyncPhase

WAVE_DELAY = timedelta(seconds=2)
"""Argo's ``ARGOCD_SYNC_WAVE_DELAY``: lets controllers react to a wave before the next one."""

REFUSED_UNKNOWN_DESIRED = (
    "refusing to sync: the desired state could not be computed, and syncing it could prune "
    "every resource"
)


@dataclasses.dataclass(frozen=True)
class Step:
    """The operation's phase after this step, and what the driver must do.

    Perform ``checks`` first: if any fails, record the failures and skip ``actions`` (the next
    step then fails the operation). Otherwise perform ``actions`` in order, same-kind runs
    concurrently if you like, recording every outcome, then wait ``delay`` before the next step.
    Actions come with final phases too (hook cleanup); perform them before finishing.
    """

    phase: OperationPhase
    message: str
    actions: tuple[act.Action, ...] = ()
    results: Results = ()
    checks: tuple[act.DryRun, ...] = ()
    delay: timedelta = timedelta(0)


def advance(request: Request, observed: Observed) -> Step:
    """Decide the operation's next step."""
    results = observed.results
    if not observed.desired_known:
        reason = f": {observed.unknown_because}" if observed.unknown_because else ""
        return Step(OperationPhase.ERROR, REFUSED_UNKNOWN_DESIRED + reason, results=results)
    built = plan.build(request, observed)
    timed_out = backoff.timed_out(request.started_at, observed.now, request.timeout)
    if observed.terminating or timed_out:
        return _terminate(built.tasks, observed, request.timeout if timed_out else None)
    if built.invalid:
        for refused in built.invalid:
            results = put(results, refused)
        reasons = "; ".join(refused.message for refused in built.invalid)
        message = f"one or more synchronization tasks are not valid: {reasons}"
        return Step(OperationPhase.FAILED, message, results=results)
    refusal = _refuse_empty(request, built.tasks) or _refuse_shared(request, observed, built.tasks)
    if refusal:
        return Step(OperationPhase.FAILED, refusal, results=results)
    tasks = built.tasks
    refused_tasks = [t for t in tasks if t.result is not None and t.result.failed_validation]
    if refused_tasks:
        reason = "one or more objects failed to apply (dry run)"
        return Step(
            OperationPhase.FAILED, taskops.failure_message(reason, refused_tasks), (), results
        )
    namespace = [t for t in tasks if _creates_destination_namespace(t, request)]
    if any(t.hook_phase is HookPhase.FAILED for t in namespace):
        message = taskops.failure_message("the namespace failed to apply", namespace)
        return Step(OperationPhase.FAILED, message, results=results)
    if results or request.dry_run:
        return _progress(request, observed, tasks)
    # The first step validates everything with a dry run before anything is written.
    checks = tuple(
        taskops.dry_run(t)
        for t in _out_of_sync_only(request, observed, tasks)
        if not (t.is_prune or t.skip_dry_run or t in namespace)
    )
    if namespace:
        # The destination namespace first: nothing namespaced can be created without it.
        message = f"creating namespace {request.destination_namespace}"
        write = taskops.write(namespace[0], dry_run=False, migrating=request.migration_manager)
        return Step(OperationPhase.RUNNING, message, (write,), results, checks)
    return _lone_write(
        dataclasses.replace(_progress(request, observed, tasks), checks=checks), tasks
    )


def _lone_write(step: Step, tasks: Sequence[Task]) -> Step:
    """A sync of one object needs no separate dry run: its write validates it just as well.

    A failed write leaves nothing written, all a dry run guarantees, and is recorded as the
    failed dry run, so the operation fails the same way; a good one saves a request.
    """
    if len(tasks) != 1 or tasks[0].is_hook or len(step.checks) != 1 or len(step.actions) != 1:
        return step
    check, action = step.checks[0], step.actions[0]
    if (
        not isinstance(action, act.Apply | act.Create)
        or action.dry_run
        or action.key != check.key
        or action.manifest is not check.manifest
    ):
        return step
    return dataclasses.replace(
        step, checks=(), actions=(dataclasses.replace(action, validates=True),)
    )


def _creates_destination_namespace(task: Task, request: Request) -> bool:
    key = ResourceKey("", "Namespace", "", request.destination_namespace)
    return task.key == key and task.target is not None and task.live is None


def _refuse_empty(request: Request, tasks: Sequence[Task]) -> str | None:
    """Refuse a sync that would prune every resource, unless ``allowEmpty`` says so."""
    if not request.prune or request.allow_empty or request.resources is not None:
        return None
    prunes = [t for t in tasks if t.is_prune]
    kept = [t for t in tasks if not (t.is_prune or t.is_hook or t.synthetic)]
    if not prunes or kept:
        return None
    return (
        f"refusing to prune all {len(prunes)} live resources: the desired state is empty "
        "(set allowEmpty to sync an empty application)"
    )


def _refuse_shared(request: Request, observed: Observed, tasks: Sequence[Task]) -> str | None:
    """``FailOnSharedResource=true``: refuse to write objects another Application tracks."""
    if not request.options.fail_on_shared_resource:
        return None
    shared = [t.key for t in tasks if t.target is not None and t.key in observed.shared]
    if not shared:
        return None
    return "Shared resource found: " + "; ".join(
        f"{key.kind}/{key.name} is part of applications {observed.shared[key]} and "
        f"{request.app_instance or 'this one'}"
        for key in shared
    )


def _out_of_sync_only(request: Request, observed: Observed, tasks: Sequence[Task]) -> list[Task]:
    """Drop resources known to be in sync under ``ApplyOutOfSyncOnly``; hooks always run."""
    if not request.options.apply_out_of_sync_only:
        return list(tasks)
    return [
        t
        for t in tasks
        if t.is_hook or t.target is None or t.live is None or observed.out_of_sync.get(t.key, True)
    ]


def _progress(request: Request, observed: Observed, tasks: tuple[Task, ...]) -> Step:
    """Run passes until one yields a step; a pass that only records results goes again."""
    results = observed.results
    while True:
        outcome = _pass(request, observed, plan.attach(tasks, results), results)
        if isinstance(outcome, Step):
            return outcome
        results = outcome  # each such pass completes at least one more task, so this ends


def _slot_rank(task: Task) -> tuple[int, int]:
    return (ordering.PHASE_RANK[task.phase], task.wave)


def _final_wave_done(request: Request, observed: Observed, main: Sequence[Task]) -> bool:
    """Argo ends the sync right after applying the final wave when it had no hooks.

    So the final wave is not health gated; tether sees the same moment one step later, and
    decides before refreshing health so a resource degrading afterwards does not fail it.
    """
    if any(t.completed and not t.successful for t in main):
        return False
    if any(t.pending for t in _out_of_sync_only(request, observed, main)):
        return False
    running = [t for t in main if t.running]
    if not running:
        return False
    last = max(_slot_rank(t) for t in main if t.hook_phase is not None)
    final = [t for t in main if t.hook_phase is not None and _slot_rank(t) == last]
    return not any(t.is_hook for t in final) and all(_slot_rank(t) == last for t in running)


def _pass(
    request: Request, observed: Observed, tasks: tuple[Task, ...], results: Results
) -> Step | Results:
    main = [t for t in tasks if t.phase is not SyncPhase.SYNC_FAIL]
    if _final_wave_done(request, observed, main):
        cleanup = [
            *taskops.finalizer_removals(tasks),
            *taskops.policy_deletions(tasks, hooks.DeletePolicy.HOOK_SUCCEEDED),
        ]
        message = "successfully synced (all tasks run)"
        return Step(OperationPhase.SUCCEEDED, message, tuple(cleanup), results)
    for task in tasks:
        if task.running:
            results = taskops.refresh(task, observed.health, results)
    tasks = plan.attach(tasks, results)
    # Health gates waves only when there is more than one (phase, wave), SyncFail included.
    multi_step = bool(tasks) and tasks[0].slot != tasks[-1].slot
    running = [t for t in tasks if (multi_step or t.is_hook) and t.running]
    if running:
        missing = [t for t in running if t.live is None]
        for task in missing:
            message = f"Resource {task.describe()} is missing, it might have been deleted"
            results = taskops.set_result(
                results,
                task,
                status=ResultCode.SYNC_FAILED,
                hook_phase=HookPhase.ERROR,
                message=message,
            )
        if missing:
            return results
        message = taskops.waiting_message(running)
        return Step(OperationPhase.RUNNING, message, (act.Wait(message),), results)
    deleting = [t for t in tasks if t.pruned and taskops.is_deleting(t.live)]
    if deleting:
        message = taskops.waiting_message(deleting, deletion=True)
        return Step(OperationPhase.RUNNING, message, (act.Wait(message),), results)
    cleanup = taskops.finalizer_removals(tasks)
    main = [t for t in tasks if t.phase is not SyncPhase.SYNC_FAIL]
    if any(t.completed and not t.successful for t in main):
        return _fail(request, observed, tasks, cleanup, results)
    pending = _out_of_sync_only(request, observed, [t for t in main if t.pending])
    if not pending:
        cleanup += taskops.policy_deletions(tasks, hooks.DeletePolicy.HOOK_SUCCEEDED)
        message = "successfully synced (no more tasks)"
        return Step(OperationPhase.SUCCEEDED, message, tuple(cleanup), results)
    slot = pending[0].slot
    current = [t for t in pending if t.slot == slot]
    final = slot == pending[-1].slot
    return _run_wave(request, observed, current, cleanup, results, final=final)


def _fail(
    request: Request,
    observed: Observed,
    tasks: Sequence[Task],
    cleanup: list[act.Action],
    results: Results,
) -> Step | Results:
    """The failure path: delete HookFailed hooks, run SyncFail hooks, then fail."""
    main = [t for t in tasks if t.phase is not SyncPhase.SYNC_FAIL]
    sync_fail = [t for t in tasks if t.phase is SyncPhase.SYNC_FAIL]
    failed = [t for t in main if t.completed and not t.successful]
    applied_badly = any(
        t.result and t.result.status is ResultCode.SYNC_FAILED and t.hook_phase is HookPhase.FAILED
        for t in failed
    )
    reason = (
        "one or more objects failed to apply"
        if applied_badly
        else "one or more synchronization tasks completed unsuccessfully"
    )
    message = taskops.failure_message(reason, failed)
    cleanup = [*cleanup, *taskops.policy_deletions(tasks, hooks.DeletePolicy.HOOK_FAILED)]
    pending = [t for t in sync_fail if t.pending]
    if not pending:
        failed_hooks = [
            t for t in sync_fail if t.result and t.result.status is ResultCode.SYNC_FAILED
        ]
        if failed_hooks:
            hooks_failed = "one or more SyncFail hooks failed"
            message += "\n" + taskops.failure_message(hooks_failed, failed_hooks)
        return Step(OperationPhase.FAILED, message, tuple(cleanup), results)
    return _run_wave(request, observed, pending, cleanup, results, final=True, message=message)


def _run_wave(
    request: Request,
    observed: Observed,
    current: Sequence[Task],
    cleanup: list[act.Action],
    results: Results,
    *,
    final: bool,
    message: str = "one or more tasks are running",
) -> Step | Results:
    """One stage of a wave: confirm prunes, prune, delete stale hooks, then write.

    Each stage is one step, so a stage's actions never depend on an earlier one's outcome.
    """
    prunes = [t for t in current if t.is_prune]
    writes = [t for t in current if not t.is_prune]
    if not request.dry_run:
        # A previous run's finalizer would block the hook's deletion or linger on it.
        cleanup = [
            *cleanup,
            *(
                act.RemoveHookFinalizer(t.key, t.phase)
                for t in writes
                if t.is_hook and t.live is not None and hooks.has_finalizer(t.live)
            ),
        ]
    waiting = _unconfirmed_prunes(request, observed, prunes)
    if waiting:
        return Step(OperationPhase.RUNNING, waiting, (*cleanup, act.Wait(waiting)), results)
    deletes, recorded = _prune_stage(request, prunes, results)
    if deletes:
        # Within a wave, prune in the reverse of apply order (workloads before their namespace).
        return Step(OperationPhase.RUNNING, message, (*cleanup, *reversed(deletes)), recorded)
    if recorded != results:
        return recorded
    stale = [
        t
        for t in writes
        if t.hook is not None
        and t.live is not None
        and hooks.DeletePolicy.BEFORE_HOOK_CREATION in t.hook.delete_policies
    ]
    if stale and not request.dry_run:
        waiting = taskops.waiting_message(stale, deletion=True)
        removals: list[act.Action] = [
            act.DeleteHook(
                t.key, t.phase, act.DeleteReason.BEFORE_CREATION, t.options.prune_propagation
            )
            for t in stale
            if not taskops.is_deleting(t.live)
        ]
        actions = (*cleanup, *(removals or [act.Wait(waiting)]))
        return Step(OperationPhase.RUNNING, waiting, actions, results)
    awaiting = _awaiting_their_crd(request, observed, writes)
    if awaiting:
        writes = [t for t in writes if t.key not in awaiting]
        if not writes:
            crd = next(iter(awaiting.values()))
            waiting = f"waiting for {crd.kind}/{crd.name} to be established"
            return Step(OperationPhase.RUNNING, waiting, (*cleanup, act.Wait(waiting)), results)
    applies, results = _write_stage(request, writes, results)
    if not applies:
        return results
    # The wave is not over while custom resources wait for their CRD: no pause before them.
    delay = timedelta(0) if final or awaiting else WAVE_DELAY
    return Step(OperationPhase.RUNNING, message, (*cleanup, *applies), results, delay=delay)


def _awaiting_their_crd(
    request: Request, observed: Observed, writes: Sequence[Task]
) -> dict[ResourceKey, ResourceKey]:
    """Custom resources to hold back until the CRD this sync brings for them is served.

    Applied together, the CRD is written first but its kind is served only once the API server
    has established it, so its objects would fail ("no kind") and the whole sync retry with
    backoff: Argo CD's most common ordering failure. Held only while the CRD is on its way (in
    this write stage, or live and Progressing); a Degraded or Healthy CRD releases them, so a
    broken CRD fails the sync with the server's own error instead of waiting forever.

    Returns:
        Each held task's key mapped to the key of the CRD it waits for.
    """
    if request.dry_run or observed.server_kinds is None:
        return {}
    crds = {
        defined: ResourceKey.of(obj)
        for obj in observed.desired
        if (defined := ordering.crd_kind(obj)) is not None
    }
    written_now = {t.key for t in writes}
    held: dict[ResourceKey, ResourceKey] = {}
    for task in writes:
        kind = task.key.group_kind
        crd = crds.get(kind)
        if crd is None or kind in observed.server_kinds:
            continue
        verdict = observed.health.get(crd)
        on_its_way = (
            crd in written_now
            if observed.live.get(crd) is None
            else verdict is not None and verdict.status is HealthStatus.PROGRESSING
        )
        if on_its_way:
            held[task.key] = crd
    return held


def _unconfirmed_prunes(request: Request, observed: Observed, prunes: Sequence[Task]) -> str:
    """Argo's wait for ``Prune=confirm``: an approval given after the operation started."""
    approved_at = observed.prune_approved_at
    if approved_at is not None and approved_at >= request.started_at:
        return ""
    unconfirmed = [
        t
        for t in prunes
        if taskops.needs_confirmation(t, request.prune)
        and taskops.prune_skip(t, request.prune) is None
    ]
    if not unconfirmed:
        return ""
    first = unconfirmed[0]
    waiting = "Waiting for pruning confirmation of "
    waiting += f"{first.obj.get('apiVersion', '')}/{first.key.kind}/{first.key.name}"
    if len(unconfirmed) > 1:
        waiting += f" and {len(unconfirmed) - 1} more resources"
    return waiting


def _prune_stage(
    request: Request, prunes: Sequence[Task], results: Results
) -> tuple[list[act.Action], Results]:
    """DELETE calls for the wave's prunes; skips are recorded at once, needing no call."""
    deletes: list[act.Action] = []
    for task in prunes:
        skip = taskops.prune_skip(task, request.prune)
        if skip is not None:
            results = taskops.set_result(
                results, task, status=skip[0], hook_phase=HookPhase.SUCCEEDED, message=skip[1]
            )
        elif request.dry_run or taskops.is_deleting(task.live):
            # Nothing to call: a dry run deletes nothing, and a second DELETE would only
            # re-trigger the finalizers Argo is careful not to hot-loop on.
            text = "pruned (dry run)" if request.dry_run else "pruned"
            results = taskops.set_result(
                results,
                task,
                status=ResultCode.PRUNED,
                hook_phase=HookPhase.SUCCEEDED,
                message=text,
            )
        else:
            deletes.append(act.Prune(task.key, task.phase, task.options.prune_propagation))
    return deletes, results


def _write_stage(
    request: Request, writes: Sequence[Task], results: Results
) -> tuple[list[act.Action], Results]:
    """The wave's writes, in order; a dry run skips kinds the server cannot validate yet."""
    applies: list[act.Action] = []
    for task in writes:
        if request.dry_run and task.skip_dry_run:
            text = "skipped: the server does not know this kind yet (dry run)"
            results = taskops.set_result(
                results,
                task,
                status=ResultCode.SYNCED,
                hook_phase=HookPhase.SUCCEEDED,
                message=text,
            )
        else:
            write = taskops.write(
                task, dry_run=request.dry_run, migrating=request.migration_manager
            )
            applies.append(write)
    return applies, results


def _terminate(tasks: Sequence[Task], observed: Observed, timeout: timedelta | None) -> Step:
    """Stop running hooks (remove finalizers, delete the running ones), then fail."""
    results = observed.results
    errors = [r for r in results if r.message.startswith((TERMINATION_FAILED, FINALIZER_FAILED))]
    if errors:
        return Step(OperationPhase.ERROR, "Operation termination had errors", results=results)
    actions: list[act.Action] = []
    for task in tasks:
        cleanup, results = taskops.stop_hook(task, observed.health, results)
        actions += cleanup
    if actions:
        message = "terminating: stopping running hooks"
        return Step(OperationPhase.TERMINATING, message, tuple(actions), results)
    message = "Operation terminated"
    if timeout is not None:
        message += f": the sync ran longer than its timeout of {int(timeout.total_seconds())}s"
    return Step(OperationPhase.FAILED, message, results=results)
