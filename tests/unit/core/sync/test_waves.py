"""Waves: health gating, the ungated final wave, failures, and how objects are written."""

from __future__ import annotations

from tether.core.sync import actions as act, machine
from tether.core.sync.options import SyncOptions
from tether.model.operation import ResourceResult
from tether.model.status import (
    Health,
    HealthStatus,
    HookPhase,
    OperationPhase,
    ResultCode,
    SyncPhase,
)

from .factories import DEGRADED, PROGRESSING, World, crd, drive, key, obj, observed, request


def names(step: machine.Step) -> list[str]:
    return [a.key.name for a in step.actions if not isinstance(a, act.Wait)]


def test_a_single_wave_succeeds_once_applied_without_waiting_for_health() -> None:
    run = drive(request(), [obj("ConfigMap", "a"), obj("Deployment", "d")], World(ticks=5))
    assert [names(s) for s in run.steps] == [["a", "d"], []]
    assert run.final.phase is OperationPhase.SUCCEEDED
    assert run.final.message == "successfully synced (all tasks run)"
    assert machine.advance(request(), observed([])).message == "successfully synced (no more tasks)"


def test_the_next_wave_starts_once_the_previous_one_is_healthy() -> None:
    desired = [obj("ConfigMap", "a"), obj("Deployment", "d", wave=1), obj("Service", "s", wave=1)]
    run = drive(request(), desired, World(ticks=2))
    assert [names(s) for s in run.steps] == [["a"], [], ["s", "d"], []]
    assert run.steps[1].message == "waiting for healthy state of /ConfigMap/a"
    assert run.steps[1].actions == (act.Wait("waiting for healthy state of /ConfigMap/a"),)
    assert run.steps[0].delay == machine.WAVE_DELAY
    assert run.steps[2].delay.total_seconds() == 0  # the final wave
    assert run.final.phase is OperationPhase.SUCCEEDED


def test_the_final_wave_is_not_health_gated_even_if_it_degrades() -> None:
    desired = [obj("ConfigMap", "a"), obj("Deployment", "d", wave=1)]
    world = World()
    run = drive(request(), desired, world)
    assert run.final.phase is OperationPhase.SUCCEEDED
    # Replay the last step with the deployment degraded: still a success, as in Argo CD.
    last = run.worlds[-1]
    last.health[key(desired[1])] = DEGRADED
    step = machine.advance(request(), last.observe(tuple(desired)))
    assert step.phase is OperationPhase.SUCCEEDED


def test_the_final_wave_is_gated_when_it_has_hooks() -> None:
    desired = [
        obj("ConfigMap", "a"),
        obj("Deployment", "d", wave=1),
        obj("Job", "j", wave=1, hook="Sync"),
    ]
    run = drive(request(), desired, World(ticks=2))
    assert run.steps[-2].message == (
        "waiting for completion of hook batch/Job/j and 1 more resources"
    )
    assert run.final.message == "successfully synced (no more tasks)"
    assert run.final.phase is OperationPhase.SUCCEEDED


def test_a_degraded_resource_in_an_earlier_wave_fails_the_sync() -> None:
    desired = [obj("Deployment", "d"), obj("ConfigMap", "later", wave=1)]
    world = World(ticks=1)
    step1 = machine.advance(request(), world.observe(tuple(desired)))
    for action in step1.actions:
        world.results = step1.results
        world.perform(action)
    world.health[key(desired[0])] = DEGRADED
    step2 = machine.advance(request(), world.observe(tuple(desired)))
    assert step2.phase is OperationPhase.FAILED
    assert (
        step2.message
        == "one or more synchronization tasks completed unsuccessfully"  # unhealthy: not quoted
    )


def test_suspended_or_progressing_resources_block_the_next_wave() -> None:
    desired = [obj("Deployment", "d"), obj("ConfigMap", "later", wave=1)]
    d = key(desired[0])
    running = (ResourceResult(d, SyncPhase.SYNC, ResultCode.SYNCED, HookPhase.RUNNING),)
    for verdict in (Health(HealthStatus.SUSPENDED), PROGRESSING, Health(HealthStatus.MISSING)):
        step = machine.advance(
            request(), observed(desired, live={d: desired[0]}, health={d: verdict}, results=running)
        )
        assert step.phase is OperationPhase.RUNNING
        assert isinstance(step.actions[0], act.Wait)


def test_an_object_without_health_check_succeeds_once_applied() -> None:
    desired = [obj("Secret", "s"), obj("ConfigMap", "later", wave=1)]
    s = key(desired[0])
    running = (ResourceResult(s, SyncPhase.SYNC, ResultCode.SYNCED, HookPhase.RUNNING, "created"),)
    step = machine.advance(request(), observed(desired, live={s: desired[0]}, results=running))
    assert names(step) == ["later"]
    assert step.results[0].hook_phase is HookPhase.SUCCEEDED
    assert step.results[0].message == "created"


def test_a_running_resource_that_vanished_fails_the_sync() -> None:
    desired = [obj("Deployment", "d"), obj("ConfigMap", "later", wave=1)]
    d = key(desired[0])
    running = (ResourceResult(d, SyncPhase.SYNC, ResultCode.SYNCED, HookPhase.RUNNING),)
    step = machine.advance(request(), observed(desired, results=running))
    assert step.phase is OperationPhase.FAILED
    assert "Deployment/d is missing, it might have been deleted" in step.message
    assert step.results[0].hook_phase is HookPhase.ERROR


def test_an_apply_error_fails_the_sync_with_its_message() -> None:
    desired = [obj("ConfigMap", "a"), obj("ConfigMap", "b"), obj("ConfigMap", "c", wave=1)]
    world = World(
        fail=lambda a: (
            "immutable field" if isinstance(a, act.Apply) and a.key == key(desired[0]) else None
        )
    )
    run = drive(request(), desired, world)
    assert run.final.phase is OperationPhase.FAILED
    assert run.final.message == "one or more objects failed to apply, reason: immutable field"
    assert "c" not in [a.key.name for a in run.work()]  # type: ignore[union-attr]
    assert key(desired[1]) in world.live  # the rest of the wave was still applied


def test_the_same_failure_is_quoted_once() -> None:
    desired = [obj("ConfigMap", "a"), obj("ConfigMap", "b"), obj("ConfigMap", "c")]
    world = World(
        fail=lambda a: "quota exceeded" if isinstance(a, act.Apply) and a.key.name != "b" else None
    )
    run = drive(request(), desired, world)
    assert run.final.message == "one or more objects failed to apply, reason: quota exceeded"


def test_objects_are_written_as_their_options_say() -> None:
    ns = obj("Namespace", "team", "", options="Replace=true")
    live_ns = {**ns, "metadata": {**ns["metadata"], "resourceVersion": "42"}}
    the_crd = crd("x.io", "Foo", options="Replace=true")
    replaced = obj("ConfigMap", "r", options="Replace=true")
    created = obj("ConfigMap", "new", options="Replace=true")
    client_side = obj("ConfigMap", "csa", options="ServerSideApply=false,Validate=false")
    live = {key(ns): live_ns, key(the_crd): the_crd, key(replaced): replaced}
    step = machine.advance(
        request(force=True),
        observed(
            [ns, the_crd, replaced, created, client_side],
            live=live,
            results=(
                ResourceResult(
                    key(obj("Pod", "started")),
                    SyncPhase.SYNC,
                    ResultCode.SYNCED,
                    HookPhase.SUCCEEDED,
                ),
            ),
        ),
    )
    by_name = {a.key.name: a for a in step.actions if not isinstance(a, act.Wait)}
    update = by_name["team"]
    assert isinstance(update, act.Update)
    assert update.manifest["metadata"]["resourceVersion"] == "42"
    assert isinstance(by_name["foos.x.io"], act.Update)
    assert by_name["r"] == act.Apply(
        key(replaced), SyncPhase.SYNC, replaced, force=True, replace=True
    )
    assert isinstance(by_name["new"], act.Create)
    assert by_name["csa"] == act.Apply(
        key(client_side), SyncPhase.SYNC, client_side, force=True, strict=False, server_side=False
    )
    assert all(a.strict for name, a in by_name.items() if name != "csa")  # type: ignore[union-attr]


def test_a_lone_object_is_applied_and_its_apply_stands_in_for_its_dry_run() -> None:
    step = machine.advance(request(), observed([obj("ConfigMap", "a")]))
    assert step.actions == (
        act.Apply(
            key(obj("ConfigMap", "a")), SyncPhase.SYNC, obj("ConfigMap", "a"), validates=True
        ),
    )


def test_a_server_side_apply_migrates_the_named_client_side_manager_unless_told_not_to() -> None:
    cm = obj("ConfigMap", "a")
    [default] = machine.advance(request(), observed([cm])).actions
    off = request(options=SyncOptions(client_side_apply_migration=False))
    [disabled] = machine.advance(off, observed([cm])).actions
    named = request(migration_manager="old-operator")
    [renamed] = machine.advance(named, observed([cm])).actions
    assert isinstance(default, act.Apply) and default.server_side
    assert default.migrate == "kubectl-client-side-apply"
    assert isinstance(renamed, act.Apply) and renamed.migrate == "old-operator"
    assert isinstance(disabled, act.Apply) and disabled.migrate == "" and disabled.server_side


def test_server_side_apply_false_on_an_object_makes_its_check_and_its_write_client_side() -> None:
    client_side = obj("ConfigMap", "a", options="ServerSideApply=false")
    both = [client_side, obj("ConfigMap", "b")]
    checks = machine.advance(request(), observed(both)).actions
    assert [(a.key.name, a.server_side) for a in checks] == [("a", False), ("b", True)]  # type: ignore[union-attr]


def test_a_timeout_terminates_the_operation() -> None:
    from datetime import timedelta

    from .factories import START

    req = request(timeout=timedelta(seconds=30))
    late = observed([obj("ConfigMap", "a")], now=START + timedelta(seconds=31))
    step = machine.advance(req, late)
    assert step.phase is OperationPhase.FAILED
    assert step.message == "Operation terminated: the sync ran longer than its timeout of 30s"


def test_fail_on_shared_resource_refuses_objects_another_app_tracks() -> None:
    a, b = obj("ConfigMap", "a"), obj("ConfigMap", "b")
    req = request(options=SyncOptions(fail_on_shared_resource=True), app_instance="web")
    step = machine.advance(req, observed([a, b], shared={key(b): "other"}))
    assert step.phase is OperationPhase.FAILED
    expected = "Shared resource found: ConfigMap/b is part of applications other and web"
    assert step.message == expected
    assert machine.advance(req, observed([a])).phase is OperationPhase.RUNNING
    lenient = machine.advance(request(), observed([a, b], shared={key(b): "other"}))
    assert lenient.phase is OperationPhase.RUNNING
