"""The operation's first step: refusals, the dry run, and the destination namespace."""

from __future__ import annotations

from tether.core.sync import actions as act, machine
from tether.core.sync.options import SyncOptions
from tether.model.app_spec import ManagedNamespaceMetadata
from tether.model.resources import GroupKind
from tether.model.status import HookPhase, OperationPhase, ResultCode

from .factories import World, crd, drive, key, obj, observed, request


def test_nothing_is_done_when_the_desired_state_could_not_be_computed() -> None:
    live = {key(obj("ConfigMap", "a")): obj("ConfigMap", "a")}
    unknown = observed([], live=live, desired_known=False, unknown_because="Git is unreachable")
    step = machine.advance(request(prune=True), unknown)
    assert step.phase is OperationPhase.ERROR
    assert "could not be computed" in step.message
    assert step.message.endswith(": Git is unreachable")
    assert step.actions == () and step.checks == ()


def test_a_sync_that_would_prune_everything_is_refused_without_allow_empty() -> None:
    live = {key(obj("ConfigMap", "a")): obj("ConfigMap", "a")}
    step = machine.advance(
        request(prune=True), observed([obj("Job", "j", hook="PreSync")], live=live)
    )
    assert step.phase is OperationPhase.FAILED
    assert step.message.startswith("refusing to prune all 1 live resources")
    assert step.actions == ()
    allowed = drive(request(prune=True, allow_empty=True), [], World(live=dict(live)))
    assert allowed.final.phase is OperationPhase.SUCCEEDED
    assert allowed.work() == [act.Prune(key(obj("ConfigMap", "a")), allowed.work()[0].phase)]  # type: ignore[union-attr]


def test_pruning_disabled_or_a_selective_sync_is_not_refused() -> None:
    live = {key(obj("ConfigMap", "a")): obj("ConfigMap", "a")}
    assert (
        drive(request(prune=False), [], World(live=dict(live))).final.phase
        is OperationPhase.SUCCEEDED
    )
    selective = request(prune=True, resources=frozenset(live))
    assert drive(selective, [], World(live=dict(live))).final.phase is OperationPhase.SUCCEEDED


def test_invalid_tasks_fail_the_operation_with_their_reasons_recorded() -> None:
    desired = [obj("Foo", "f"), obj("ConfigMap", "a")]
    step = machine.advance(
        request(), observed(desired, server_kinds=frozenset({GroupKind("", "ConfigMap")}))
    )
    assert step.phase is OperationPhase.FAILED
    assert step.message == (
        "one or more synchronization tasks are not valid: "
        "the server could not find the requested resource example.com/Foo"
    )
    assert [(r.key.kind, r.status) for r in step.results] == [("Foo", ResultCode.SYNC_FAILED)]


def test_the_first_step_dry_runs_everything_and_starts_the_first_wave() -> None:
    desired = [
        obj("ConfigMap", "a", options="Validate=false"),
        obj("Deployment", "d", wave=1),
        obj("Foo", "f", options="SkipDryRunOnMissingResource=true"),
    ]
    live = {key(obj("Secret", "gone")): obj("Secret", "gone")}
    step = machine.advance(
        request(prune=True),
        observed(
            desired,
            live=live,
            server_kinds=frozenset({GroupKind("", "ConfigMap"), GroupKind("apps", "Deployment")}),
        ),
    )
    assert [c.key.name for c in step.checks] == ["a", "d"]
    assert all(isinstance(c, act.DryRun) for c in step.checks)
    assert [type(a).__name__ for a in step.actions] == ["Prune"]
    assert step.phase is OperationPhase.RUNNING


def test_a_failed_dry_run_fails_the_operation_without_sync_fail_hooks() -> None:
    desired = [obj("ConfigMap", "a"), obj("Job", "on-fail", hook="SyncFail")]
    world = World(
        fail=lambda a: "bad field" if isinstance(a, act.DryRun) and a.key.name == "a" else None
    )
    run = drive(request(), desired, world)
    assert run.final.phase is OperationPhase.FAILED
    assert run.final.message == "one or more objects failed to apply (dry run), reason: bad field"
    assert run.worlds[-1].live == {}  # the planned applies were skipped
    assert len(run.steps) == 2


def test_apply_out_of_sync_only_dry_runs_and_applies_only_what_differs() -> None:
    same, changed = obj("ConfigMap", "same"), obj("ConfigMap", "changed")
    new, hook = obj("ConfigMap", "new"), obj("Job", "h", hook="Sync")
    world = World(live={key(same): same, key(changed): changed})
    req = request(options=SyncOptions(apply_out_of_sync_only=True))
    flags = {key(same): False, key(changed): True}
    run = drive(req, [same, changed, new, hook], world, out_of_sync=flags)
    assert {c.key.name for c in run.steps[0].checks} == {"changed", "new", "h"}
    assert sorted(a.key.name for a in run.work()) == ["changed", "h", "new"]  # type: ignore[union-attr]
    assert run.final.phase is OperationPhase.SUCCEEDED


def test_create_namespace_creates_it_first_then_syncs() -> None:
    req = request(options=SyncOptions(create_namespace=True))
    run = drive(req, [obj("ConfigMap", "a")])
    first = run.steps[0]
    assert first.message == "creating namespace app"
    assert [(type(a).__name__, a.key.kind) for a in first.actions] == [("Apply", "Namespace")]  # type: ignore[union-attr]
    assert [c.key.name for c in first.checks] == ["a"]
    assert run.final.phase is OperationPhase.SUCCEEDED


def test_an_existing_namespace_is_applied_with_its_managed_metadata_before_wave_zero() -> None:
    metadata = ManagedNamespaceMetadata(labels={"pod-security.kubernetes.io/enforce": "baseline"})
    req = request(options=SyncOptions(create_namespace=True), namespace_metadata=metadata)
    world = World(namespace_live=obj("Namespace", "app", ""))
    run = drive(req, [obj("ConfigMap", "a")], world)
    assert [c.key.kind for c in run.steps[0].checks] == ["Namespace", "ConfigMap"]
    assert [a.key.kind for a in run.work()] == ["Namespace", "ConfigMap"]  # type: ignore[union-attr]
    assert world.namespace_live is not None
    assert world.namespace_live["metadata"]["labels"] == metadata.labels
    assert run.final.phase is OperationPhase.SUCCEEDED


def test_a_namespace_that_fails_to_apply_fails_the_operation_at_once() -> None:
    req = request(options=SyncOptions(create_namespace=True))
    desired = [obj("ConfigMap", "a"), obj("Job", "j", hook="SyncFail")]
    world = World(fail=lambda a: "forbidden" if a.key.kind == "Namespace" else None)  # type: ignore[union-attr]
    run = drive(req, desired, world)
    assert run.final.phase is OperationPhase.FAILED
    assert run.final.message == "the namespace failed to apply, reason: forbidden"
    assert [r.hook_phase for r in run.final.results] == [HookPhase.FAILED]


def test_a_declared_destination_namespace_is_also_applied_first() -> None:
    desired = [obj("Namespace", "app", "", wave=2), obj("ConfigMap", "a")]
    run = drive(request(), desired)
    assert [a.key.kind for a in run.work()] == ["Namespace", "ConfigMap"]  # type: ignore[union-attr]
    assert run.final.phase is OperationPhase.SUCCEEDED


def test_a_dry_run_operation_validates_every_wave_and_deletes_nothing() -> None:
    live = {key(obj("Secret", "gone")): obj("Secret", "gone")}
    desired = [
        obj("ConfigMap", "a"),
        obj("Deployment", "d", wave=1),
        crd("x.io", "Foo"),
        obj("Foo", "f", options="SkipDryRunOnMissingResource=true"),
    ]
    run = drive(
        request(prune=True, dry_run=True),
        desired,
        World(live=dict(live)),
        server_kinds=frozenset(
            {
                GroupKind("", "ConfigMap"),
                GroupKind("apps", "Deployment"),
                GroupKind("apiextensions.k8s.io", "CustomResourceDefinition"),
            }
        ),
    )
    assert run.final.phase is OperationPhase.SUCCEEDED
    assert all(step.checks == () for step in run.steps)
    applies = [a for a in run.work() if isinstance(a, act.Apply)]
    assert applies and all(a.dry_run for a in applies)
    assert "f" not in [a.key.name for a in applies]
    messages = {r.key.name: (r.status, r.hook_phase, r.message) for r in run.final.results}
    assert messages["gone"] == (ResultCode.PRUNED, HookPhase.SUCCEEDED, "pruned (dry run)")
    assert messages["a"][1] is HookPhase.SUCCEEDED
    assert messages["f"][1] is HookPhase.SUCCEEDED
    assert run.worlds[-1].live == live


def test_a_dry_run_of_a_kind_the_server_lacks_is_recorded_as_skipped() -> None:
    foo = obj("Foo", "f", options="SkipDryRunOnMissingResource=true")
    run = drive(request(dry_run=True), [foo], server_kinds=frozenset())
    assert run.final.phase is OperationPhase.SUCCEEDED
    assert run.work() == []
    assert run.final.results[0].message.startswith("skipped")


def test_a_lone_object_is_validated_by_its_own_apply_without_a_separate_dry_run() -> None:
    step = machine.advance(request(), observed([obj("ConfigMap", "a")]))
    assert step.checks == ()
    assert [(type(a).__name__, a.key.name, a.validates) for a in step.actions] == [  # type: ignore[union-attr]
        ("Apply", "a", True)
    ]
    assert drive(request(), [obj("ConfigMap", "a")]).final.phase is OperationPhase.SUCCEEDED


def test_a_lone_object_that_fails_to_apply_fails_as_its_dry_run_would_have() -> None:
    world = World(fail=lambda a: "bad field" if a.key.name == "a" else None)  # type: ignore[union-attr]
    run = drive(request(), [obj("ConfigMap", "a")], world)
    assert run.final.phase is OperationPhase.FAILED
    assert run.final.message == "one or more objects failed to apply (dry run), reason: bad field"
    assert [(r.status, r.hook_phase) for r in run.final.results] == [(ResultCode.SYNC_FAILED, None)]
    assert run.worlds[-1].live == {}


def test_objects_with_company_are_all_dry_run_before_any_is_written() -> None:
    for desired in (
        [obj("ConfigMap", "a"), obj("ConfigMap", "b")],
        [obj("ConfigMap", "a"), obj("Job", "on-fail", hook="SyncFail")],
        [obj("Job", "h", hook="Sync")],
    ):
        step = machine.advance(request(), observed(desired))
        assert step.checks, desired
        assert not any(getattr(a, "validates", False) for a in step.actions)
    live = {key(obj("Secret", "gone")): obj("Secret", "gone")}
    with_prune = machine.advance(request(prune=True), observed([obj("ConfigMap", "a")], live=live))
    assert [c.key.name for c in with_prune.checks] == ["a"]
