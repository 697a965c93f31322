"""Hooks during a sync: phases, delete policies, SyncFail, and finalizers."""

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

from .factories import DEGRADED, PROGRESSING, World, drive, key, obj, observed, request


def job(name: str, hook: str, policy: str | None = None, **kw: Any) -> dict[str, Any]:
    notes = {"argocd.argoproj.io/hook-delete-policy": policy} if policy else None
    return obj("Job", name, hook=hook, annotations=notes, **kw)


def kinds(run: Any) -> list[str]:
    return [
        f"{type(a).__name__}:{a.key.name}"
        for s in run.steps
        for a in s.actions
        if not isinstance(a, act.Wait)
    ]


def with_finalizer(manifest: dict[str, Any]) -> dict[str, Any]:
    return hooks.with_name_and_finalizer(manifest, manifest["metadata"]["name"])


def test_phases_run_in_order_and_post_sync_waits_for_healthy_resources() -> None:
    desired = [job("post", "PostSync"), obj("Deployment", "d"), job("pre", "PreSync")]
    run = drive(request(), desired, World(ticks=2))
    order = [a.key.name for a in run.work()]  # type: ignore[union-attr]
    assert order == ["pre", "d", "post"]
    assert run.final.phase is OperationPhase.SUCCEEDED
    messages = [s.message for s in run.steps]
    assert "waiting for completion of hook batch/Job/pre" in messages
    assert "waiting for healthy state of apps/Deployment/d" in messages


def test_completed_hooks_lose_their_finalizer_and_hook_succeeded_ones_are_deleted() -> None:
    desired = [job("pre", "PreSync", "HookSucceeded"), obj("ConfigMap", "a")]
    world = World()
    run = drive(request(), desired, world)
    assert kinds(run) == [
        "Apply:pre",
        "RemoveHookFinalizer:pre",
        "Apply:a",
        "DeleteHook:pre",
    ]
    assert run.final.phase is OperationPhase.SUCCEEDED
    assert key(desired[0]) not in world.live


def test_a_failed_hook_fails_the_sync_and_hook_failed_hooks_are_deleted() -> None:
    desired = [job("pre", "PreSync", "HookFailed"), obj("ConfigMap", "a")]
    pre = key(desired[0])
    live = {pre: with_finalizer(desired[0])}
    results = (
        ResourceResult(
            pre,
            SyncPhase.PRE_SYNC,
            ResultCode.SYNCED,
            HookPhase.RUNNING,
            hook_type=SyncPhase.PRE_SYNC,
        ),
    )
    step = machine.advance(
        request(), observed(desired, live=live, health={pre: DEGRADED}, results=results)
    )
    assert step.phase is OperationPhase.FAILED
    assert (
        step.message
        == "one or more synchronization tasks completed unsuccessfully"  # unhealthy: not quoted
    )
    assert step.actions == (
        act.RemoveHookFinalizer(pre, SyncPhase.PRE_SYNC),
        act.DeleteHook(pre, SyncPhase.PRE_SYNC, act.DeleteReason.POLICY),
    )


def test_sync_fail_hooks_run_after_a_failure_then_the_sync_fails() -> None:
    desired = [obj("ConfigMap", "a"), obj("ConfigMap", "b", wave=1), job("cleanup", "SyncFail")]
    world = World(
        fail=lambda a: "denied" if isinstance(a, act.Apply) and a.key.name == "a" else None
    )
    run = drive(request(), desired, world)
    assert [a.key.name for a in run.work()] == ["a", "cleanup"]  # type: ignore[union-attr]
    assert run.final.phase is OperationPhase.FAILED
    assert run.final.message == "one or more objects failed to apply, reason: denied"
    running = [s for s in run.steps if s.phase is OperationPhase.RUNNING]
    assert running[-1].message == "one or more objects failed to apply, reason: denied"


def test_a_sync_fail_hook_that_failed_to_apply_is_named_in_the_message() -> None:
    desired = [obj("ConfigMap", "a"), job("cleanup", "SyncFail"), job("notify", "SyncFail")]
    a, cleanup, notify = (key(d) for d in desired)
    hook = SyncPhase.SYNC_FAIL
    results = (
        ResourceResult(a, SyncPhase.SYNC, ResultCode.SYNC_FAILED, HookPhase.FAILED, "denied"),
        ResourceResult(cleanup, hook, ResultCode.SYNCED, HookPhase.FAILED, "job failed", hook),
        ResourceResult(notify, hook, ResultCode.SYNC_FAILED, HookPhase.FAILED, "forbidden", hook),
    )
    step = machine.advance(
        request(), observed(desired, live={cleanup: desired[1]}, results=results)
    )
    assert step.phase is OperationPhase.FAILED
    assert step.message == (
        "one or more objects failed to apply, reason: denied\n"
        "one or more SyncFail hooks failed, reason: forbidden"
    )


def test_a_previous_runs_hook_is_deleted_before_it_is_created_again() -> None:
    pre = job("pre", "PreSync")
    old = with_finalizer(pre)
    world = World(live={key(pre): old}, health={key(pre): Health(HealthStatus.HEALTHY)})
    run = drive(request(), [pre, obj("ConfigMap", "a")], world)
    assert kinds(run)[:4] == [
        "RemoveHookFinalizer:pre",
        "DeleteHook:pre",
        "Apply:pre",
        "RemoveHookFinalizer:pre",
    ]
    assert run.steps[0].message == "waiting for deletion of hook batch/Job/pre"
    assert run.final.phase is OperationPhase.SUCCEEDED


def test_a_hook_still_being_deleted_is_waited_for() -> None:
    pre = job("pre", "PreSync")
    going = {**pre, "metadata": {**pre["metadata"], "deletionTimestamp": "2026-01-01T00:00:00Z"}}
    step = machine.advance(request(), observed([pre], live={key(pre): going}))
    assert step.actions == (act.Wait("waiting for deletion of hook batch/Job/pre"),)


def test_a_failed_before_creation_delete_fails_the_sync() -> None:
    pre = job("pre", "PreSync")
    world = World(
        live={key(pre): pre},
        fail=lambda a: "forbidden" if isinstance(a, act.DeleteHook) else None,
    )
    run = drive(request(), [pre], world)
    assert run.final.phase is OperationPhase.FAILED
    assert run.final.results[0].message == "failed to delete resource: forbidden"
    assert run.final.results[0].hook_phase is HookPhase.ERROR


def test_hook_health_maps_to_hook_phases_as_argo_does() -> None:
    pre = job("pre", "PreSync")
    later = obj("ConfigMap", "a")
    k = key(pre)
    running = (
        ResourceResult(
            k,
            SyncPhase.PRE_SYNC,
            ResultCode.SYNCED,
            HookPhase.RUNNING,
            hook_type=SyncPhase.PRE_SYNC,
        ),
    )
    table = {
        Health(HealthStatus.HEALTHY, "done"): (HookPhase.SUCCEEDED, "done"),
        PROGRESSING: (HookPhase.RUNNING, "rolling out"),
        Health(HealthStatus.SUSPENDED, "paused"): (HookPhase.RUNNING, "paused"),
        DEGRADED: (HookPhase.FAILED, "crash loop"),
        Health(HealthStatus.UNKNOWN, "??"): (HookPhase.FAILED, "??"),
        Health(HealthStatus.MISSING): (HookPhase.SUCCEEDED, "pre created"),
        None: (HookPhase.SUCCEEDED, "pre created"),
    }
    for verdict, (phase, message) in table.items():
        step = machine.advance(
            request(), observed([pre, later], live={k: pre}, health={k: verdict}, results=running)
        )
        result = step.results[0]
        assert (result.hook_phase, result.message) == (phase, message), verdict


def test_a_failed_finalizer_removal_fails_the_sync() -> None:
    pre = job("pre", "PreSync")
    world = World(fail=lambda a: "conflict" if isinstance(a, act.RemoveHookFinalizer) else None)
    run = drive(request(), [pre, obj("ConfigMap", "a", wave=1)], world)
    assert run.final.phase is OperationPhase.FAILED
    assert run.final.results[0].message == "failed to remove hook finalizer: conflict"


def test_a_hook_and_a_resource_in_one_wave_wait_only_for_the_hook() -> None:
    desired = [obj("Deployment", "d"), job("j", "Sync")]
    run = drive(request(), desired, World(ticks=2))
    assert run.steps[1].message == "waiting for completion of hook batch/Job/j"
    assert run.final.phase is OperationPhase.SUCCEEDED
