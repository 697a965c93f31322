from __future__ import annotations

from datetime import timedelta

from tether.core.sync import hooks, plan
from tether.core.sync.options import PruneMode, SyncOptions
from tether.model.app_spec import ManagedNamespaceMetadata
from tether.model.operation import ResourceResult
from tether.model.resources import GroupKind, ResourceKey
from tether.model.status import HookPhase, ResultCode, SyncPhase

from .factories import START, crd, key, obj, observed, request


def summary(built: plan.Plan) -> list[str]:
    return [
        f"{'prune ' if t.is_prune else ''}{t.key.kind}/{t.key.name}@{t.phase.value}/{t.wave}"
        for t in built.tasks
    ]


def test_desired_and_live_pair_up_and_orphans_become_prunes() -> None:
    desired = [obj("ConfigMap", "a")]
    live = {
        key(obj("ConfigMap", "a")): obj("ConfigMap", "a"),
        key(obj("Secret", "old")): obj("Secret", "old"),
    }
    built = plan.build(request(), observed(desired, live=live))
    assert summary(built) == ["prune Secret/old@Sync/0", "ConfigMap/a@Sync/0"]
    assert built.tasks[1].live is not None


def test_live_hooks_and_skipped_objects_are_never_pruned() -> None:
    skipped = obj("ConfigMap", "skip", hook="Skip")
    live_hook = obj("Job", "old-hook", hook="PreSync")
    ignored = obj("Job", "odd", hook="Whenever")
    live = {key(o): o for o in (skipped, live_hook, ignored)}
    built = plan.build(request(), observed([skipped], live=live))
    assert summary(built) == []


def test_unknown_hook_types_and_deletion_hooks_get_no_task() -> None:
    desired = [obj("Job", "odd", hook="Whenever"), obj("Job", "bye", hook="PreDelete")]
    assert summary(plan.build(request(), observed(desired))) == []


def test_an_unknown_scope_is_matched_either_way_so_nothing_is_pruned_by_accident() -> None:
    no_namespace = obj("ClusterRole", "r", "")
    namespaced_live = obj("ClusterRole", "r", "app")
    with_namespace = obj("Thing", "t", "app")
    cluster_live = obj("Thing", "t", "")
    live = {key(namespaced_live): namespaced_live, key(cluster_live): cluster_live}
    built = plan.build(request(), observed([no_namespace, with_namespace], live=live))
    assert [t.is_prune for t in built.tasks] == [False, False]
    assert all(t.live is not None for t in built.tasks)


def test_the_last_duplicate_wins() -> None:
    first = obj("ConfigMap", "a", wave=1)
    second = obj("ConfigMap", "a", wave=2)
    assert summary(plan.build(request(), observed([first, second]))) == ["ConfigMap/a@Sync/2"]


def test_a_hook_gets_one_task_per_phase_with_its_name_and_finalizer() -> None:
    job = obj("Job", "", hook="PreSync,PostSync")
    job["metadata"] = {
        "generateName": "m-",
        "namespace": "app",
        "annotations": job["metadata"]["annotations"],
    }
    built = plan.build(request(), observed([job]))
    unix = int(START.timestamp())
    assert summary(built) == [
        f"Job/m-0123456-presync-{unix}@PreSync/0",
        f"Job/m-0123456-postsync-{unix}@PostSync/0",
    ]
    assert all(t.target and hooks.has_finalizer(t.target) for t in built.tasks)
    assert all(t.is_hook for t in built.tasks)


def test_a_live_hook_is_found_by_its_name() -> None:
    job = obj("Job", "j", hook="PreSync")
    built = plan.build(request(), observed([job], live={key(job): job}))
    assert built.tasks[0].live == job


def test_the_apply_strategy_and_selective_syncs_run_no_hooks() -> None:
    desired = [obj("Job", "j", hook="PreSync"), obj("ConfigMap", "a"), obj("ConfigMap", "b")]
    apply_only = plan.build(request(strategy=plan.Strategy.APPLY), observed(desired))
    assert summary(apply_only) == ["ConfigMap/a@Sync/0", "ConfigMap/b@Sync/0"]
    selected = plan.build(request(resources=frozenset({key(desired[2])})), observed(desired))
    assert summary(selected) == ["ConfigMap/b@Sync/0"]


def test_create_namespace_adds_a_presync_namespace_only_when_it_is_missing() -> None:
    options = SyncOptions(create_namespace=True)
    desired = [obj("ConfigMap", "a")]
    missing = plan.build(request(options=options), observed(desired))
    assert summary(missing) == ["Namespace/app@PreSync/0", "ConfigMap/a@Sync/0"]
    assert missing.tasks[0].synthetic and missing.tasks[0].options.server_side_apply
    present = obj("Namespace", "app", "")
    exists = plan.build(request(options=options), observed(desired, namespace_live=present))
    assert summary(exists) == ["ConfigMap/a@Sync/0"]
    ns_key = ResourceKey("", "Namespace", "", "app")
    created = ResourceResult(ns_key, SyncPhase.PRE_SYNC, ResultCode.SYNCED, HookPhase.RUNNING)
    kept = plan.build(
        request(options=options), observed(desired, namespace_live=present, results=(created,))
    )
    assert summary(kept)[0] == "Namespace/app@PreSync/0"
    assert kept.tasks[0].result == created


def test_create_namespace_defers_to_a_declared_namespace() -> None:
    options = SyncOptions(create_namespace=True)
    desired = [obj("Namespace", "app", ""), obj("ConfigMap", "a")]
    assert summary(plan.build(request(options=options), observed(desired))) == [
        "Namespace/app@Sync/0",
        "ConfigMap/a@Sync/0",
    ]
    assert (
        summary(plan.build(request(options=options, destination_namespace=""), observed([]))) == []
    )


def test_managed_namespace_metadata_applies_the_namespace_on_every_sync_even_when_it_exists() -> (
    None
):
    options = SyncOptions(create_namespace=True)
    metadata = ManagedNamespaceMetadata(
        labels={"istio-injection": "enabled"}, annotations={"owner": "ml"}
    )
    present = obj("Namespace", "app", "", annotations={"team": "theirs"})
    built = plan.build(
        request(options=options, namespace_metadata=metadata),
        observed([obj("ConfigMap", "a")], namespace_live=present),
    )
    assert summary(built) == ["Namespace/app@PreSync/0", "ConfigMap/a@Sync/0"]
    namespace = built.tasks[0]
    assert namespace.synthetic and namespace.live == present
    assert namespace.options.server_side_apply  # what it leaves out goes, others' stays
    assert namespace.target == {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": "app",
            "labels": {"istio-injection": "enabled"},
            "annotations": {
                "owner": "ml",
                "argocd.argoproj.io/sync-options": "ServerSideApply=true",
            },
        },
    }
    emptied = plan.build(
        request(options=options, namespace_metadata=ManagedNamespaceMetadata()),
        observed([], namespace_live=present),
    )
    assert "labels" not in emptied.tasks[0].obj["metadata"]  # applied without: removed
    without_option = plan.build(request(namespace_metadata=metadata), observed([]))
    assert summary(without_option) == []


def test_a_kind_the_server_does_not_know_is_refused_unless_its_crd_comes_along() -> None:
    served = frozenset(
        {GroupKind("", "ConfigMap"), GroupKind("apiextensions.k8s.io", "CustomResourceDefinition")}
    )
    desired = [
        obj("ConfigMap", "a"),
        obj("Foo", "f"),
        obj("Bar", "b", options="SkipDryRunOnMissingResource=true"),
        obj("Baz", "z"),
        crd("example.com", "Baz"),
    ]
    built = plan.build(request(), observed(desired, server_kinds=served))
    assert [r.message for r in built.invalid] == [
        "the server could not find the requested resource example.com/Foo"
    ]
    assert built.invalid[0].status is ResultCode.SYNC_FAILED
    assert built.invalid[0].hook_phase is None
    skip = {t.key.kind: t.skip_dry_run for t in built.tasks}
    assert skip == {
        "ConfigMap": False,
        "Foo": False,
        "Bar": True,
        "Baz": True,
        "CustomResourceDefinition": False,
    }


def test_an_unknown_option_in_an_annotation_refuses_the_task() -> None:
    desired = [obj("ConfigMap", "a", options="Prune=false,Sparkle=true")]
    built = plan.build(request(), observed(desired))
    assert len(built.invalid) == 1
    assert "Sparkle" in built.invalid[0].message
    hook = obj("Job", "j", hook="PreSync", options="Nope=1")
    assert "Nope" in plan.build(request(), observed([hook])).invalid[0].message


def test_prune_waves_run_in_reverse_and_prune_last_goes_after_every_sync_wave() -> None:
    live_objs = [
        obj("ConfigMap", "w0", wave=0),
        obj("ConfigMap", "w2", wave=2),
        obj("ConfigMap", "w5", wave=5),
        obj("Secret", "last", wave=-3, options="PruneLast=true"),
    ]
    desired = [obj("Deployment", "d", wave=3)]
    built = plan.build(request(prune=True), observed(desired, live={key(o): o for o in live_objs}))
    assert summary(built) == [
        "prune ConfigMap/w5@Sync/-3",
        "prune ConfigMap/w2@Sync/0",
        "prune ConfigMap/w0@Sync/2",
        "Deployment/d@Sync/3",
        # Mirrored to 5 first, as in Argo, so "after every Sync wave" means 6.
        "prune Secret/last@Sync/6",
    ]


def test_prune_last_with_only_negative_waves_lands_in_wave_one() -> None:
    live_objs = [obj("ConfigMap", "gone", wave=-4)]
    built = plan.build(
        request(prune=True, options=SyncOptions(prune_last=True)),
        observed([obj("ConfigMap", "a", wave=-2)], live={key(o): o for o in live_objs}),
    )
    assert summary(built) == ["ConfigMap/a@Sync/-2", "prune ConfigMap/gone@Sync/1"]


def test_operation_force_and_annotation_options_reach_the_task() -> None:
    desired = [obj("ConfigMap", "a", options="Prune=confirm")]
    built = plan.build(request(force=True), observed(desired))
    assert built.tasks[0].options.force is True
    assert built.tasks[0].options.prune is PruneMode.CONFIRM


def test_task_states_follow_the_recorded_hook_phase() -> None:
    a = obj("ConfigMap", "a")
    results = (ResourceResult(key(a), SyncPhase.SYNC, ResultCode.SYNCED, HookPhase.RUNNING),)
    task = plan.build(request(), observed([a], results=results)).tasks[0]
    assert task.running and not task.pending and not task.completed
    assert task.describe() == "/ConfigMap/a"
    assert plan.Request("r", START, timeout=timedelta(1)).timeout == timedelta(1)


def test_a_skipped_object_without_a_live_one_is_simply_left_out() -> None:
    assert summary(plan.build(request(), observed([obj("ConfigMap", "s", hook="Skip")]))) == []


def test_a_selective_sync_ignores_objects_it_did_not_select() -> None:
    bad = obj("ConfigMap", "bad", options="Sparkle=true")
    good = obj("ConfigMap", "good")
    built = plan.build(request(resources=frozenset({key(good)})), observed([bad, good]))
    assert built.invalid == ()
    assert summary(built) == ["ConfigMap/good@Sync/0"]
