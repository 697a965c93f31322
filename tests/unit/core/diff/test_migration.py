"""Client-side apply migration: client appliers' fields move to tether's apply entry."""

from __future__ import annotations

from typing import Any

from tether.core.diff import migration

LAST_APPLIED: dict[str, Any] = {
    "f:metadata": {"f:annotations": {".": {}, migration.LAST_APPLIED_FIELD: {}}}
}


def _entry(manager: str, operation: str, fields: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "fieldsType": "FieldsV1",
        "fieldsV1": fields,
        "manager": manager,
        "operation": operation,
        "time": "2026-12-07T07:36:37Z",
        **extra,
    }


# As kube-apiserver 1.36 recorded `kubectl apply` of a ConfigMap, then `kubectl label`.
KUBECTL_APPLY = _entry(
    "kubectl-client-side-apply", "Update", {"f:data": {".": {}, "f:a": {}}, **LAST_APPLIED}
)
KUBECTL_LABEL = _entry("kubectl-label", "Update", {"f:metadata": {"f:labels": {"f:team": {}}}})
STATUS = _entry("controller", "Update", {"f:status": {"f:ready": {}}}, subresource="status")


def _live(*entries: dict[str, Any]) -> dict[str, Any]:
    metadata = {"name": "x", "resourceVersion": "42", "managedFields": list(entries)}
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata}


def test_kubectls_entry_becomes_tethers_apply_entry_and_other_managers_keep_theirs() -> None:
    live = _live(KUBECTL_APPLY, KUBECTL_LABEL, STATUS)
    assert migration.client_side_managers(live) == {"kubectl-client-side-apply"}
    entries = migration.migrated(
        live["metadata"]["managedFields"], {"kubectl-client-side-apply"}, "tether"
    )
    assert entries == [
        {**KUBECTL_APPLY, "manager": "tether", "operation": "Apply"},
        KUBECTL_LABEL,
        STATUS,
    ]


def test_a_client_entry_merges_into_an_existing_apply_entry_keeping_membership() -> None:
    ours = _entry("tether", "Apply", {"f:data": {"f:b": {}}, "f:spec": {}})
    theirs = _entry(
        "argocd-controller",
        "Update",
        {"f:data": {".": {}, "f:a": {}}, "f:spec": {"f:x": {}}, **LAST_APPLIED},
    )
    live = _live(ours, theirs)
    assert migration.client_side_managers(live) == {"argocd-controller"}
    [merged] = (
        migration.migrated(live["metadata"]["managedFields"], {"argocd-controller"}, "tether") or []
    )
    assert merged["manager"] == "tether" and merged["operation"] == "Apply"
    assert merged["fieldsV1"] == {
        "f:data": {".": {}, "f:b": {}, "f:a": {}},
        # f:spec was a leaf of ours (the whole map): it stays a member beside the client's f:x.
        "f:spec": {".": {}, "f:x": {}},
        **LAST_APPLIED,
    }


def test_only_update_entries_that_wrote_the_last_applied_annotation_are_migrated() -> None:
    edit = _entry("kubectl-edit", "Update", {"f:data": {"f:c": {}}})
    own_client_side = _entry("tether", "Update", {"f:data": {"f:d": {}}, **LAST_APPLIED})
    applied = _entry("someone", "Apply", LAST_APPLIED)
    live = _live(edit, own_client_side, applied, STATUS)
    assert migration.client_side_managers(live) == {"tether"}


def test_the_named_manager_is_migrated_even_without_the_annotation() -> None:
    leftover = _entry("kubectl-client-side-apply", "Update", {"f:data": {"f:a": {}}})
    operator = _entry("old-operator", "Update", {"f:data": {"f:b": {}}})
    live = _live(leftover, operator)
    assert migration.client_side_managers(live) == {"kubectl-client-side-apply"}
    assert migration.client_side_managers(live, "old-operator") == {"old-operator"}


def test_a_client_entry_of_another_api_version_is_dropped_not_merged_as_csaupgrade_does() -> None:
    ours = _entry("tether", "Apply", {"f:data": {"f:b": {}}})
    old = {**KUBECTL_APPLY, "apiVersion": "v1beta1"}
    [kept] = migration.migrated([ours, old], {"kubectl-client-side-apply"}, "tether") or []
    assert kept == ours


def test_nothing_to_migrate_means_no_patch() -> None:
    assert migration.patch(_live(KUBECTL_LABEL, STATUS), "tether") is None
    assert migration.migrated([KUBECTL_LABEL], {"kubectl-client-side-apply"}, "tether") is None


def test_the_patch_replaces_the_managed_fields_and_pins_the_resource_version_read() -> None:
    live = _live(KUBECTL_APPLY, KUBECTL_LABEL)
    assert migration.patch(live, "tether") == [
        {
            "op": "replace",
            "path": "/metadata/managedFields",
            "value": [{**KUBECTL_APPLY, "manager": "tether", "operation": "Apply"}, KUBECTL_LABEL],
        },
        {"op": "replace", "path": "/metadata/resourceVersion", "value": "42"},
    ]
