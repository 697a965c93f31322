"""Terminating an operation: hook cleanup, then Failed (or Error when cleanup failed)."""

from __future__ import annotations

from typing import Any

from tether.core.sync import actions as act, hooks, machine
from tether.model.operation import ResourceResult
from tether.model.status import (
    Health,
    HealthStatus,
    HookPhase,
    OperationPhase,
    ResultCode,
    SyncPhase,
)

from .factories import PROGRESSING, World, key, obj, observed, request


def running_hook(name: str, policy: str | None = None) -> tuple[dict[str, Any], ResourceResult]:
    notes = {"argocd.argoproj.io/hook-delete-policy": policy} if policy else None
    manifest = hooks.with_name_and_finalizer(
        obj("Job", name, hook="PreSync", annotations=notes), name
    )
    result = ResourceResult(
        key(manifest),
        SyncPhase.PRE_SYNC,
        ResultCode.SYNCED,
        HookPhase.RUNNING,
        hook_type=SyncPhase.PRE_SYNC,
    )
    return dict(manifest), result


def test_termination_stops_running_hooks_then_fails_the_operation() -> None:
    job, result = running_hook("migrate")
    world = World(live={key(job): job}, health={key(job): PROGRESSING}, results=(result,))
    desired = (obj("Job", "migrate", hook="PreSync"),)
    step = machine.advance(request(), world.observe(desired, terminating=True))
    assert step.phase is OperationPhase.TERMINATING
    assert step.actions == (
        act.RemoveHookFinalizer(key(job), SyncPhase.PRE_SYNC),
        act.DeleteHook(key(job), SyncPhase.PRE_SYNC, act.DeleteReason.TERMINATE),
    )
    world.results = step.results
    for action in step.actions:
        world.perform(action)
    done = machine.advance(request(), world.observe(desired, terminating=True))
    assert done.phase is OperationPhase.FAILED
    assert done.message == "Operation terminated"
    assert done.results[0].hook_phase is HookPhase.FAILED
    assert done.results[0].message == "Terminated"


def test_a_finished_hook_is_recorded_not_deleted() -> None:
    job, result = running_hook("migrate")
    healthy = Health(HealthStatus.HEALTHY, "complete")
    step = machine.advance(
        request(),
        observed(
            [obj("Job", "migrate", hook="PreSync")],
            live={key(job): job},
            health={key(job): healthy},
            results=(result,),
            terminating=True,
        ),
    )
    assert step.actions == (act.RemoveHookFinalizer(key(job), SyncPhase.PRE_SYNC),)
    assert step.results[0].hook_phase is HookPhase.SUCCEEDED


def test_a_finished_hook_with_the_hook_failed_policy_is_deleted_and_unknown_is_a_failure() -> None:
    unknown, r1 = running_hook("a")
    failing, r2 = running_hook("b", "HookFailed")
    unknown["metadata"]["finalizers"] = []
    failing["metadata"]["finalizers"] = []
    step = machine.advance(
        request(),
        observed(
            [
                obj("Job", "a", hook="PreSync"),
                obj(
                    "Job",
                    "b",
                    hook="PreSync",
                    annotations={"argocd.argoproj.io/hook-delete-policy": "HookFailed"},
                ),
            ],
            live={key(unknown): unknown, key(failing): failing},
            health={
                key(unknown): Health(HealthStatus.UNKNOWN),
                key(failing): Health(HealthStatus.HEALTHY),
            },
            results=(r1, r2),
            terminating=True,
        ),
    )
    assert step.actions == (
        act.DeleteHook(key(failing), SyncPhase.PRE_SYNC, act.DeleteReason.TERMINATE),
    )
    phases = {r.key.name: r.hook_phase for r in step.results}
    assert phases == {"a": HookPhase.FAILED, "b": HookPhase.SUCCEEDED}


def test_a_running_hook_already_gone_is_recorded_as_terminated() -> None:
    _, result = running_hook("gone")
    step = machine.advance(
        request(),
        observed([obj("Job", "gone", hook="PreSync")], results=(result,), terminating=True),
    )
    assert step.phase is OperationPhase.FAILED
    assert (step.results[0].hook_phase, step.results[0].message) == (
        HookPhase.SUCCEEDED,
        "Terminated",
    )


def test_a_hook_already_being_deleted_is_left_alone() -> None:
    job, result = running_hook("migrate")
    job["metadata"]["finalizers"] = []
    job["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    step = machine.advance(
        request(),
        observed(
            [obj("Job", "migrate", hook="PreSync")],
            live={key(job): job},
            health={key(job): PROGRESSING},
            results=(result,),
            terminating=True,
        ),
    )
    assert step.phase is OperationPhase.FAILED and step.actions == ()


def test_failed_cleanup_ends_the_operation_in_error() -> None:
    job, result = running_hook("migrate")
    world = World(
        live={key(job): job},
        health={key(job): PROGRESSING},
        results=(result,),
        fail=lambda a: "forbidden",
    )
    desired = (obj("Job", "migrate", hook="PreSync"),)
    step = machine.advance(request(), world.observe(desired, terminating=True))
    world.results = step.results
    for action in step.actions:
        world.perform(action)
    done = machine.advance(request(), world.observe(desired, terminating=True))
    assert done.phase is OperationPhase.ERROR
    assert done.message == "Operation termination had errors"


def test_resources_are_not_touched_by_termination() -> None:
    step = machine.advance(request(), observed([obj("ConfigMap", "a")], terminating=True))
    assert (step.phase, step.actions) == (OperationPhase.FAILED, ())


def test_a_completed_hook_only_loses_its_finalizer() -> None:
    job, result = running_hook("done")
    finished = ResourceResult(result.key, result.sync_phase, ResultCode.SYNCED, HookPhase.SUCCEEDED)
    step = machine.advance(
        request(),
        observed(
            [obj("Job", "done", hook="PreSync")],
            live={key(job): job},
            results=(finished,),
            terminating=True,
        ),
    )
    assert step.actions == (act.RemoveHookFinalizer(key(job), SyncPhase.PRE_SYNC),)
    assert step.results == (finished,)
