"""The OutOfSync decision per resource and for the app, and status.resources[] entries."""

from __future__ import annotations

from typing import Any

import pytest

from tether.core.diff import diff, tracking
from tether.model.app_status import ResourceStatus
from tether.model.status import Health, HealthStatus, SyncStatus


def cm(name: str = "c", value: str = "1", **annotations: str) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": "shop"}
    if annotations:
        meta["annotations"] = dict(annotations)
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": {"v": value}}


def status_of(
    desired: dict[str, Any] | None, live: dict[str, Any] | None, **kwargs
) -> ResourceStatus:
    return diff.resource_status(diff.compare(desired, live), desired, live, **kwargs)


def verdict(
    desired: dict[str, Any] | None, live: dict[str, Any] | None
) -> tuple[SyncStatus | None, bool, bool]:
    """(status, whether it counts against the app's sync, requires pruning)."""
    s = status_of(desired, live)
    return s.status, diff.counts_against_sync(s, live), s.requires_pruning


HOOK = {"argocd.argoproj.io/hook": "PreSync"}
OWN_ID = {tracking.TRACKING_ID: "app:/ConfigMap:shop/c"}


def test_equal_objects_are_synced_and_do_not_count():
    assert verdict(cm(), cm()) == (SyncStatus.SYNCED, False, False)


def test_modified_and_missing_objects_are_out_of_sync_and_count():
    assert status_of(cm(value="2"), cm()).status is SyncStatus.OUT_OF_SYNC
    assert verdict(cm(), None) == (SyncStatus.OUT_OF_SYNC, True, False)


def test_extraneous_objects_require_pruning_and_count_unless_ignored():
    assert verdict(None, cm(**OWN_ID)) == (SyncStatus.OUT_OF_SYNC, True, True)
    ignored = cm(**OWN_ID, **{diff.COMPARE_OPTIONS: "ServerSideDiff=true, IgnoreExtraneous"})
    assert verdict(None, ignored) == (SyncStatus.OUT_OF_SYNC, False, True)
    assert verdict(cm(value="2"), ignored)[1], "IgnoreExtraneous spares only what Git lacks"


def test_prune_false_keeps_an_extraneous_object_out_of_sync():
    kept = cm(**OWN_ID, **{"argocd.argoproj.io/sync-options": "Prune=false"})
    assert verdict(None, kept) == (SyncStatus.OUT_OF_SYNC, True, True)


@pytest.mark.parametrize(
    "annotations",
    [
        HOOK,
        {"argocd.argoproj.io/hook": "Skip"},
        {"argocd.argoproj.io/hook": "Unknown"},
        {"helm.sh/hook": "pre-install"},
        {"helm.sh/hook": "test"},
    ],
)
def test_hooks_skipped_and_typeless_hook_objects_get_an_empty_status(annotations):
    assert verdict(cm(value="2", **annotations), cm())[:2] == (None, False)
    assert "status" not in status_of(cm(value="2", **annotations), cm()).to_json()


def test_hook_flags_follow_argo_and_helm_annotations():
    assert diff.hook_kind(cm(**HOOK)) is diff.HookKind.HOOK
    assert diff.hook_kind(cm(**{"argocd.argoproj.io/hook": "Skip,PostSync"})) is diff.HookKind.HOOK
    assert diff.hook_kind(cm(**{"helm.sh/hook": "crd-install"})) is diff.HookKind.RESOURCE
    assert diff.hook_kind(cm()) is diff.HookKind.RESOURCE
    assert status_of(cm(**HOOK), None).hook


def test_an_object_whose_tracking_id_names_another_object_gets_an_empty_status():
    copied = cm(**{tracking.TRACKING_ID: "app:/ConfigMap:shop/other"})
    assert verdict(None, copied) == (None, False, False)
    assert status_of(
        cm(), copied, tracked_by=tracking.Tracking(tracking.TrackingMethod.LABEL)
    ).status


@pytest.mark.parametrize(
    ("annotations", "wave"),
    [
        ({}, 0),
        ({"argocd.argoproj.io/sync-wave": "-2"}, -2),
        ({"helm.sh/hook-weight": "5"}, 5),
        ({"argocd.argoproj.io/sync-wave": "x", "helm.sh/hook-weight": "3"}, 3),
    ],
)
def test_the_sync_wave_comes_from_the_wave_annotation_then_the_helm_weight(annotations, wave):
    assert status_of(cm(**annotations), None).sync_wave == wave
    assert diff.sync_wave(None) == 0


def test_the_app_is_out_of_sync_when_any_resource_counts():
    assert diff.app_sync_status([False]) is SyncStatus.SYNCED
    assert diff.app_sync_status([]) is SyncStatus.SYNCED
    assert diff.app_sync_status([False, True]) is SyncStatus.OUT_OF_SYNC


def test_status_entries_are_sorted_and_leave_empty_fields_out():
    b, a = status_of(cm("b"), None), status_of(cm("a", **HOOK), cm("a"))
    healthy = status_of(cm("h"), cm("h"))
    import dataclasses

    healthy = dataclasses.replace(healthy, health=Health(HealthStatus.HEALTHY))
    degraded = dataclasses.replace(b, health=Health(HealthStatus.DEGRADED, "crash"))
    entries = diff.status_entries([degraded, a, healthy])
    assert entries == [
        {"version": "v1", "kind": "ConfigMap", "namespace": "shop", "name": "a", "hook": True},
        {
            "version": "v1",
            "kind": "ConfigMap",
            "namespace": "shop",
            "name": "b",
            "status": "OutOfSync",
            "health": {"status": "Degraded", "message": "crash"},
        },
        {
            "version": "v1",
            "kind": "ConfigMap",
            "namespace": "shop",
            "name": "h",
            "status": "Synced",
            "health": {"status": "Healthy"},
        },
    ]
