"""Pruning: skips, confirmation, order, propagation and deletion waits."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tether.core.sync import actions as act, machine
from tether.core.sync.options import Propagation, PruneMode, SyncOptions
from tether.model.operation import ResourceResult
from tether.model.status import HookPhase, OperationPhase, ResultCode, SyncPhase

from .factories import START, World, drive, key, obj, observed, request


def live_of(*objs: dict[str, Any]) -> dict[Any, Any]:
    return {key(o): o for o in objs}


def outcome(run: Any, name: str) -> tuple[Any, ...]:
    result = next(r for r in run.final.results if r.key.name == name)
    return (result.status, result.hook_phase, result.message)


def test_without_prune_extra_objects_are_skipped_as_requiring_pruning() -> None:
    run = drive(
        request(prune=False), [obj("ConfigMap", "a")], World(live=live_of(obj("Secret", "old")))
    )
    assert outcome(run, "old") == (
        ResultCode.PRUNE_SKIPPED,
        HookPhase.SUCCEEDED,
        "ignored (requires pruning)",
    )
    assert run.final.phase is OperationPhase.SUCCEEDED
    assert key(obj("Secret", "old")) in run.worlds[-1].live


def test_prune_false_keeps_the_object_as_no_prune() -> None:
    keep = obj("Secret", "keep", options="Prune=false")
    run = drive(request(prune=True), [obj("ConfigMap", "a")], World(live=live_of(keep)))
    assert outcome(run, "keep") == (
        ResultCode.PRUNE_SKIPPED,
        HookPhase.SUCCEEDED,
        "ignored (no prune)",
    )
    op_default = drive(
        request(prune=True, options=SyncOptions(prune=PruneMode.DISABLED)),
        [obj("ConfigMap", "a")],
        World(live=live_of(obj("Secret", "old"))),
    )
    assert outcome(op_default, "old")[2] == "ignored (no prune)"


def test_pruned_objects_are_deleted_with_the_propagation_asked_for() -> None:
    old = obj("Secret", "old")
    run = drive(
        request(prune=True, options=SyncOptions(prune_propagation=Propagation.BACKGROUND)),
        [obj("ConfigMap", "a")],
        World(live=live_of(old)),
    )
    assert run.work()[0] == act.Prune(key(old), SyncPhase.SYNC, Propagation.BACKGROUND)
    assert outcome(run, "old") == (ResultCode.PRUNED, HookPhase.SUCCEEDED, "done")
    assert key(old) not in run.worlds[-1].live


def test_a_failed_prune_fails_the_sync() -> None:
    world = World(
        live=live_of(obj("Secret", "old")),
        fail=lambda a: "nope" if isinstance(a, act.Prune) else None,
    )
    run = drive(request(prune=True), [obj("ConfigMap", "a", wave=1)], world)
    assert run.final.phase is OperationPhase.FAILED
    assert outcome(run, "old") == (ResultCode.SYNC_FAILED, HookPhase.FAILED, "nope")


def test_prune_confirm_waits_for_an_approval_given_after_the_operation_started() -> None:
    careful = obj("Secret", "careful", options="Prune=confirm")
    other = obj("Secret", "other", options="Prune=confirm")
    req = request(prune=True)
    live = live_of(careful, other)
    step = machine.advance(req, observed([obj("ConfigMap", "a")], live=live, results=()))
    assert step.phase is OperationPhase.RUNNING
    assert (
        step.message == "Waiting for pruning confirmation of v1/Secret/careful and 1 more resources"
    )
    assert isinstance(step.actions[-1], act.Wait)
    stale = machine.advance(
        req,
        observed(
            [obj("ConfigMap", "a")], live=live, prune_approved_at=START - timedelta(seconds=1)
        ),
    )
    assert stale.message.startswith("Waiting for pruning confirmation")
    approved = machine.advance(
        req, observed([obj("ConfigMap", "a")], live=live, prune_approved_at=START)
    )
    assert [type(a).__name__ for a in approved.actions] == ["Prune", "Prune"]
    single = machine.advance(req, observed([obj("ConfigMap", "a")], live=live_of(careful)))
    assert single.message == "Waiting for pruning confirmation of v1/Secret/careful"


def test_a_confirm_default_on_the_operation_asks_for_confirmation_too() -> None:
    req = request(prune=True, options=SyncOptions(prune=PruneMode.CONFIRM))
    step = machine.advance(
        req, observed([obj("ConfigMap", "a")], live=live_of(obj("Secret", "old")))
    )
    assert step.message == "Waiting for pruning confirmation of v1/Secret/old"


def test_a_pruned_object_still_being_deleted_is_waited_for() -> None:
    old = obj("Secret", "old")
    going = {**old, "metadata": {**old["metadata"], "deletionTimestamp": "2026-01-01T00:00:00Z"}}
    results = (
        ResourceResult(key(old), SyncPhase.SYNC, ResultCode.PRUNED, HookPhase.SUCCEEDED, "pruned"),
    )
    step = machine.advance(
        request(prune=True), observed([obj("ConfigMap", "a")], live=live_of(going), results=results)
    )
    assert step.actions == (act.Wait("waiting for deletion of /Secret/old"),)


def test_an_object_already_being_deleted_is_not_deleted_again() -> None:
    old = obj("Secret", "old")
    going = {**old, "metadata": {**old["metadata"], "deletionTimestamp": "2026-01-01T00:00:00Z"}}
    started = (
        ResourceResult(
            key(obj("Pod", "x")), SyncPhase.SYNC, ResultCode.SYNCED, HookPhase.SUCCEEDED
        ),
    )
    step = machine.advance(
        request(prune=True), observed([obj("ConfigMap", "a")], live=live_of(going), results=started)
    )
    assert all(not isinstance(a, act.Prune) for a in step.actions)
    pruned = next(r for r in step.results if r.key.name == "old")
    assert (pruned.status, pruned.message) == (ResultCode.PRUNED, "pruned")


def test_prune_last_prunes_after_every_wave_is_applied() -> None:
    last = obj("Secret", "last", options="PruneLast=true")
    run = drive(
        request(prune=True),
        [obj("ConfigMap", "a"), obj("ConfigMap", "b", wave=2)],
        World(live=live_of(last)),
    )
    assert [a.key.name for a in run.work()] == ["a", "b", "last"]  # type: ignore[union-attr]


def test_higher_waves_are_pruned_first_and_workloads_before_their_namespace() -> None:
    gone = [
        obj("Namespace", "old", ""),
        obj("Deployment", "d", "old"),
        obj("ConfigMap", "w1", wave=1),
        obj("ConfigMap", "w3", wave=3),
    ]
    run = drive(request(prune=True), [obj("ConfigMap", "keep")], World(live=live_of(*gone)))
    prunes = [a.key.name for a in run.work() if isinstance(a, act.Prune)]
    assert prunes == ["w3", "w1", "d", "old"]
