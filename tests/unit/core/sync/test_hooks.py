from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tether.core.sync import hooks
from tether.core.sync.hooks import DeletePolicy, Role
from tether.model.status import SyncPhase

from .factories import obj


def helm(hook: str, **notes: str) -> dict[str, object]:
    return obj("Job", "j", annotations={"helm.sh/hook": hook, **notes})


@pytest.mark.parametrize(
    ("manifest", "role", "phases"),
    [
        (obj("ConfigMap", "a"), Role.RESOURCE, ()),
        (obj("Job", "j", hook="PreSync"), Role.HOOK, (SyncPhase.PRE_SYNC,)),
        (obj("Job", "j", hook="Sync"), Role.HOOK, (SyncPhase.SYNC,)),
        (obj("Job", "j", hook="PostSync"), Role.HOOK, (SyncPhase.POST_SYNC,)),
        (obj("Job", "j", hook="SyncFail"), Role.HOOK, (SyncPhase.SYNC_FAIL,)),
        (obj("Job", "j", hook="PreDelete"), Role.HOOK, (SyncPhase.PRE_DELETE,)),
        (obj("Job", "j", hook="PostDelete"), Role.HOOK, (SyncPhase.POST_DELETE,)),
        (
            obj("Job", "j", hook=" PreSync , PostSync,PreSync"),
            Role.HOOK,
            (SyncPhase.PRE_SYNC, SyncPhase.POST_SYNC),
        ),
        (obj("Job", "j", hook="Skip"), Role.SKIPPED, ()),
        (obj("Job", "j", hook="Skip,PostSync"), Role.HOOK, (SyncPhase.POST_SYNC,)),
        (obj("Job", "j", hook="Whenever"), Role.IGNORED, ()),
        (obj("Job", "j", hook=""), Role.IGNORED, ()),
        (helm("pre-install"), Role.HOOK, (SyncPhase.PRE_SYNC,)),
        (helm("pre-install,pre-upgrade"), Role.HOOK, (SyncPhase.PRE_SYNC,)),
        (helm("post-install,post-upgrade"), Role.HOOK, (SyncPhase.POST_SYNC,)),
        (helm("crd-install"), Role.RESOURCE, ()),
        (helm("pre-delete"), Role.HOOK, (SyncPhase.PRE_DELETE,)),
        (helm("post-delete"), Role.HOOK, (SyncPhase.POST_DELETE,)),
        (helm("test"), Role.IGNORED, ()),
        (helm("pre-rollback"), Role.IGNORED, ()),
        # Argo's annotation wins over Helm's.
        (
            obj("Job", "j", hook="PostSync", annotations={"helm.sh/hook": "pre-install"}),
            Role.HOOK,
            (SyncPhase.POST_SYNC,),
        ),
    ],
)
def test_objects_are_classified_as_argo_cd_does(
    manifest: dict[str, object], role: Role, phases: tuple[SyncPhase, ...]
) -> None:
    classification = hooks.classify(manifest)
    assert classification.role is role
    assert classification.phases == phases


def test_deletion_phases_are_not_sync_phases() -> None:
    classification = hooks.classify(obj("Job", "j", hook="PreDelete,PreSync"))
    assert classification.sync_phases == (SyncPhase.PRE_SYNC,)


@pytest.mark.parametrize(
    ("notes", "expected"),
    [
        ({}, {DeletePolicy.BEFORE_HOOK_CREATION}),
        ({"argocd.argoproj.io/hook-delete-policy": "HookSucceeded"}, {DeletePolicy.HOOK_SUCCEEDED}),
        (
            {"argocd.argoproj.io/hook-delete-policy": "HookFailed, HookSucceeded"},
            {DeletePolicy.HOOK_FAILED, DeletePolicy.HOOK_SUCCEEDED},
        ),
        (
            {"argocd.argoproj.io/hook-delete-policy": "Sometimes"},
            {DeletePolicy.BEFORE_HOOK_CREATION},
        ),
        ({"helm.sh/hook-delete-policy": "hook-succeeded"}, {DeletePolicy.HOOK_SUCCEEDED}),
        ({"helm.sh/hook-delete-policy": "hook-failed"}, {DeletePolicy.HOOK_FAILED}),
        (
            {"helm.sh/hook-delete-policy": "before-hook-creation,bogus"},
            {DeletePolicy.BEFORE_HOOK_CREATION},
        ),
    ],
)
def test_delete_policies_default_to_before_hook_creation(
    notes: dict[str, str], expected: set[DeletePolicy]
) -> None:
    manifest = obj("Job", "j", hook="PreSync", annotations=notes)
    assert hooks.classify(manifest).delete_policies == expected


def test_a_generate_name_hook_gets_a_name_fixed_for_the_operation() -> None:
    manifest = obj("Job", "", hook="PreSync")
    manifest["metadata"] = {"generateName": "migrate-", "namespace": "app"}
    started = datetime(2026, 1, 1, tzinfo=UTC)
    name = hooks.hook_name(
        manifest, revision="ABCDEF0123", phase=SyncPhase.PRE_SYNC, started_at=started
    )
    assert name == f"migrate-abcdef0-presync-{int(started.timestamp())}"
    assert name == hooks.hook_name(
        manifest, revision="ABCDEF0123", phase=SyncPhase.PRE_SYNC, started_at=started
    )


def test_a_short_revision_is_used_whole_and_a_named_hook_keeps_its_name() -> None:
    started = datetime(2026, 1, 1, tzinfo=UTC)
    unnamed = {"kind": "Job", "metadata": {"generateName": "x-"}}
    assert hooks.hook_name(
        unnamed, revision="abc", phase=SyncPhase.SYNC, started_at=started
    ).startswith("x-abc-sync-")
    named = obj("Job", "keep", hook="Sync")
    assert (
        hooks.hook_name(named, revision="abc", phase=SyncPhase.SYNC, started_at=started) == "keep"
    )


def test_a_hook_gets_its_name_and_the_finalizer_once() -> None:
    manifest = obj("Job", "j", hook="PreSync")
    named = hooks.with_name_and_finalizer(manifest, "j2")
    assert named["metadata"]["name"] == "j2"  # type: ignore[index]
    assert hooks.has_finalizer(named)
    again = hooks.with_name_and_finalizer(named, "j2")
    assert again["metadata"]["finalizers"] == [hooks.FINALIZER]  # type: ignore[index]
    assert not hooks.has_finalizer(manifest)
    assert manifest["metadata"].get("finalizers") is None


def test_a_deletion_hook_with_generate_name_is_named_for_the_deletion_without_a_revision() -> None:
    started = datetime(2026, 1, 1, tzinfo=UTC)
    unnamed = {"kind": "Job", "metadata": {"generateName": "bye-"}}
    name = hooks.hook_name(unnamed, revision="", phase=SyncPhase.PRE_DELETE, started_at=started)
    assert name == f"bye-predelete-{int(started.timestamp())}"


def test_objects_with_only_a_generate_name_are_told_apart_by_their_place() -> None:
    first = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"generateName": "a-"}}
    second = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"generateName": "a-"}}
    assert hooks.identity(first, 0) != hooks.identity(second, 1)
    assert hooks.identity(first, 0).name == "a-0"
    named = obj("Job", "j")
    assert hooks.identity(named, 0) == hooks.identity(named, 7)
