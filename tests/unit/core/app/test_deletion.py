"""Deleting an Application step by step: deletion hooks, the cascade, cleanup, released hooks."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tests.unit.core.sync.factories import DEGRADED, HEALTHY, PROGRESSING, key, obj
from tether.core.app import deletion
from tether.core.sync import actions as act, hooks
from tether.model.application import parse_application
from tether.model.clusters import IN_CLUSTER
from tether.model.project import parse_project
from tether.model.resources import Manifest, ResourceKey
from tether.model.status import Health

RESOURCES = "resources-finalizer.argocd.argoproj.io"
PRE = "pre-delete-finalizer.argocd.argoproj.io"
POST = "post-delete-finalizer.argocd.argoproj.io"
ALL = [PRE, PRE + "/cleanup", RESOURCES, POST, POST + "/cleanup"]
DELETED_AT = "2026-03-01T10:00:00Z"
PROJECT = parse_project(
    {
        "metadata": {"name": "default", "namespace": "tether"},
        "spec": {
            "sourceRepos": ["*"],
            "destinations": [{"server": "*", "namespace": "app"}],
            "clusterResourceWhitelist": [{"group": "*", "kind": "*"}],
        },
    }
)


def app(finalizers: list[str], **metadata: Any) -> Any:
    return parse_application(
        {
            "metadata": {
                "name": "web",
                "namespace": "tether",
                "finalizers": finalizers,
                "deletionTimestamp": DELETED_AT,
                **metadata,
            },
            "spec": {
                "project": "default",
                "destination": {"server": "https://kubernetes.default.svc", "namespace": "app"},
                "source": {"repoURL": "https://git.example/r.git", "path": "p"},
            },
        }
    )


def step(
    finalizers: list[str],
    live: Sequence[Manifest] = (),
    desired: list[Manifest] | None = None,
    health: Mapping[ResourceKey, Health | None] | None = None,
    **kw: Any,
) -> deletion.Step:
    observed = deletion.Observed(
        app(finalizers),
        PROJECT,
        IN_CLUSTER,
        {key(o): o for o in live},
        health or {},
        desired,
        **kw,
    )
    return deletion.advance(observed)


def kinds(actions: tuple[act.Action, ...]) -> list[str]:
    return [f"{type(a).__name__} {a.key.kind}/{a.key.name}" for a in actions]  # type: ignore[union-attr]


PRE_HOOK = obj("Job", "bye", hook="PreDelete")
POST_HOOK = obj("Job", "gone", hook="PostDelete", annotations={
    "argocd.argoproj.io/hook-delete-policy": "HookSucceeded"
})  # fmt: skip
CM = obj("ConfigMap", "cm")


def test_a_living_app_holds_the_finalizers_of_the_deletion_hooks_its_git_has() -> None:
    assert deletion.kept_finalizers([RESOURCES], [CM, PRE_HOOK]) == (
        RESOURCES,
        PRE,
        PRE + "/cleanup",
    )
    assert deletion.kept_finalizers([RESOURCES, PRE, PRE + "/cleanup"], [CM]) == (RESOURCES,)
    assert deletion.kept_finalizers([PRE, PRE + "/cleanup"], [PRE_HOOK]) is None
    sync_only = obj("Job", "j", hook="PreSync")
    assert deletion.kept_finalizers([], [sync_only]) is None


def test_predelete_hooks_are_created_first_and_nothing_is_deleted_meanwhile() -> None:
    first = step(ALL, [CM], [CM, PRE_HOOK, POST_HOOK])
    assert kinds(first.actions) == ["Create Job/bye"]
    assert first.finalizers is None and first.error is None  # a running hook keeps the story
    assert deletion.needs_desired(app(ALL))
    running = step(ALL, [CM, PRE_HOOK], [CM, PRE_HOOK], {key(PRE_HOOK): PROGRESSING})
    assert running.actions == () and "waiting for 1 PreDelete hooks" in running.note
    done = step(ALL, [CM, PRE_HOOK], [CM, PRE_HOOK], {key(PRE_HOOK): HEALTHY})
    assert done.actions == () and done.finalizers == tuple(f for f in ALL if f != PRE)
    assert done.error == ""


def test_a_failed_predelete_hook_keeps_everything_and_is_deleted_to_run_again() -> None:
    failed = step(ALL, [CM, PRE_HOOK], [CM, PRE_HOOK], {key(PRE_HOOK): DEGRADED})
    assert failed.error == "error executing pre-delete hooks: PreDelete hook(s) failed: app/bye"
    assert kinds(failed.actions) == ["DeleteHook Job/bye"]
    assert failed.finalizers is None and failed.wait == deletion.FAILED_HOOK_WAIT_S


def test_hooks_cannot_run_without_the_desired_state() -> None:
    unknown = step(ALL, [CM], None, unknown_because="Git is unreachable")
    assert unknown.error == "error executing pre-delete hooks: Git is unreachable"
    assert unknown.actions == () and unknown.finalizers is None


def test_the_cascade_runs_after_the_predelete_hooks_and_deletes_them_too() -> None:
    after_pre = [f for f in ALL if f != PRE]
    wave = obj("ConfigMap", "late", wave=1)
    cascade = step(after_pre, [CM, wave, PRE_HOOK], [CM, PRE_HOOK])
    assert kinds(cascade.actions) == ["Prune ConfigMap/late"]
    rest = step(after_pre, [CM, PRE_HOOK], [CM, PRE_HOOK])
    assert sorted(kinds(rest.actions)) == ["Prune ConfigMap/cm", "Prune Job/bye"]
    going = {**CM, "metadata": {**CM["metadata"], "deletionTimestamp": DELETED_AT}}
    assert step(after_pre, [going, PRE_HOOK]).actions == ()
    gone = step(after_pre, [], [])
    assert gone.finalizers == (PRE + "/cleanup", POST, POST + "/cleanup")


def test_postdelete_hooks_run_once_the_resources_are_gone_then_are_cleaned_up() -> None:
    posting = [PRE + "/cleanup", POST, POST + "/cleanup"]
    assert kinds(step(posting, [], [CM, POST_HOOK]).actions) == ["Create Job/gone"]
    failed = step(posting, [POST_HOOK], [CM, POST_HOOK], {key(POST_HOOK): DEGRADED})
    assert failed.error == "PostDelete hook(s) failed: app/gone" and failed.finalizers is None
    done = step(posting, [POST_HOOK], [CM, POST_HOOK], {key(POST_HOOK): HEALTHY})
    assert done.finalizers == (PRE + "/cleanup", POST + "/cleanup")
    # No PreDelete hook is left (the cascade took it): its cleanup is over at once.
    cleaning = [PRE + "/cleanup", POST + "/cleanup"]
    assert step(cleaning, [POST_HOOK]).finalizers == (POST + "/cleanup",)
    cleanup = step([POST + "/cleanup"], [POST_HOOK], health={key(POST_HOOK): HEALTHY})
    assert kinds(cleanup.actions) == ["DeleteHook Job/gone"] and cleanup.finalizers is None
    assert step([POST + "/cleanup"], []).finalizers == ()
    assert step([], []).wait is None


def test_cleanup_keeps_hooks_whose_policy_does_not_match_their_outcome() -> None:
    kept = obj("Job", "kept", hook="PostDelete")  # BeforeHookCreation: nothing deletes it here
    failed_only = obj("Job", "f", hook="PostDelete", annotations={
        "argocd.argoproj.io/hook-delete-policy": "HookFailed"
    })  # fmt: skip
    healthy = {key(kept): HEALTHY, key(failed_only): HEALTHY}
    assert step([POST + "/cleanup"], [kept, failed_only], health=healthy).finalizers == ()
    degraded = {key(kept): HEALTHY, key(failed_only): DEGRADED}
    cleanup = step([POST + "/cleanup"], [kept, failed_only], health=degraded)
    assert kinds(cleanup.actions) == ["DeleteHook Job/f"]


def test_a_generate_name_hook_is_created_once_under_a_name_from_the_deletion() -> None:
    unnamed = obj("Job", "", hook="PreDelete")
    unnamed["metadata"] = {**unnamed["metadata"], "generateName": "bye-"}
    del unnamed["metadata"]["name"]
    [expected] = deletion.expected_hooks(app([PRE]), [unnamed], deletion.PHASES[0]).values()
    assert expected["metadata"]["name"] == "bye-predelete-1772359200"
    assert kinds(step([PRE], [], [unnamed]).actions) == ["Create Job/bye-predelete-1772359200"]
    # Created moments ago, not the app's in the cache yet: found by its name, not made again.
    named = {key(expected): expected}
    assert step([PRE], [], [unnamed], named=named).actions == ()


def test_every_step_releases_what_a_sync_left_holding_the_hook_finalizer() -> None:
    held = hooks.with_name_and_finalizer(obj("Job", "pre", hook="PreSync"), "pre")
    cascade = step([RESOURCES], [held])
    assert kinds(cascade.actions) == ["RemoveHookFinalizer Job/pre", "Prune Job/pre"]
    without_ours = step([], [held])
    assert kinds(without_ours.actions) == ["RemoveHookFinalizer Job/pre"]
    assert without_ours.wait is None


def test_delete_false_keep_crds_and_confirmations_are_honoured() -> None:
    crd = obj("CustomResourceDefinition", "things.x.io", "")
    kept = obj("ConfigMap", "kept", options="Delete=false")
    helm_kept = obj("ConfigMap", "helm", annotations={"helm.sh/resource-policy": "keep"})
    confirm = obj("ConfigMap", "ask", options="Delete=confirm")
    waiting = step([RESOURCES], [crd, kept, helm_kept, confirm])
    assert waiting.actions == () and waiting.wait == deletion.CONFIRM_WAIT_S
    assert "tether app confirm-deletion web" in waiting.note
    approved = deletion.Observed(
        app([RESOURCES], annotations={"argocd.argoproj.io/deletion-approved": DELETED_AT}),
        PROJECT,
        IN_CLUSTER,
        {key(o): o for o in (crd, kept, helm_kept, confirm)},
        {},
    )
    assert kinds(deletion.advance(approved).actions) == ["Prune ConfigMap/ask"]


def test_nothing_beyond_the_project_or_the_app_itself_is_deleted() -> None:
    elsewhere = obj("ConfigMap", "x", "other")
    itself = obj("Application", "web", "tether", api_version="argoproj.io/v1alpha1")
    assert step([RESOURCES], [elsewhere, itself]).finalizers == ()
