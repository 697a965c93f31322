"""Tracking ids and labels: format, parse, the self-reference check, stamping manifests."""

from __future__ import annotations

from typing import Any

import pytest

from tether.core.diff import diff, tracking
from tether.core.diff.tracking import Tracking, TrackingId, TrackingMethod

ANNOTATION = Tracking()
LABEL = Tracking(method=TrackingMethod.LABEL)
BOTH = Tracking(method=TrackingMethod.ANNOTATION_AND_LABEL)

INGRESS: dict[str, Any] = {
    "apiVersion": "networking.k8s.io/v1",
    "kind": "Ingress",
    "metadata": {"name": "web", "namespace": "shop"},
}
NAMESPACE: dict[str, Any] = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}
CRD: dict[str, Any] = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {"name": "widgets.example.com"},
}


def _with_id(obj: dict[str, Any], text: str) -> dict[str, Any]:
    return {**obj, "metadata": {**obj["metadata"], "annotations": {tracking.TRACKING_ID: text}}}


def test_the_app_instance_is_prefixed_with_its_namespace_outside_the_control_plane():
    assert tracking.app_instance("shop", "argocd", "argocd") == "shop"
    assert tracking.app_instance("shop", "", "argocd") == "shop"
    assert tracking.app_instance("shop", "team-a", "argocd") == "team-a_shop"


def test_a_tracking_id_formats_and_parses_back():
    tid = TrackingId.of(INGRESS, "shop", "ignored")
    assert str(tid) == "shop:networking.k8s.io/Ingress:shop/web"
    assert TrackingId.parse(str(tid)) == tid
    core = TrackingId.of(NAMESPACE, "shop", "dest")
    assert str(core) == "shop:/Namespace:dest/shop"  # cluster-scoped: the destination namespace
    assert TrackingId.parse(str(core)) == core


@pytest.mark.parametrize(
    "text",
    [
        "",
        "shop",
        "shop:apps/Deployment",
        "a:b:c:d",
        "shop:Deployment:ns/n",
        "shop:apps/D:n",
        ":apps/Deployment:ns/n",
        "shop:apps/:ns/n",
        "shop:apps/D:ns/",
    ],
)
def test_malformed_tracking_ids_do_not_parse(text: str):
    assert TrackingId.parse(text) is None


def test_the_app_name_comes_from_the_annotation_or_the_label_per_method():
    obj = _with_id(INGRESS, "shop:networking.k8s.io/Ingress:shop/web")
    obj["metadata"]["labels"] = {tracking.INSTANCE_LABEL: "legacy"}
    assert tracking.app_name_of(obj, ANNOTATION) == "shop"
    assert tracking.app_name_of(obj, BOTH) == "shop"
    assert tracking.app_name_of(obj, LABEL) == "legacy"
    assert tracking.app_name_of(INGRESS, LABEL) == ""
    assert tracking.app_name_of(_with_id(INGRESS, "garbage"), ANNOTATION) == ""


def test_an_annotation_from_another_installation_is_not_ours():
    obj = _with_id(INGRESS, "shop:networking.k8s.io/Ingress:shop/web")
    assert tracking.app_name_of(obj, Tracking(installation_id="prod")) == ""
    obj["metadata"]["annotations"][tracking.INSTALLATION_ID] = "prod"
    assert tracking.app_name_of(obj, Tracking(installation_id="prod")) == "shop"


def test_an_object_is_self_referenced_only_when_its_id_names_itself():
    own = _with_id(INGRESS, "shop:networking.k8s.io/Ingress:shop/web")
    copied = _with_id(INGRESS, "shop:networking.k8s.io/Ingress:shop/other")
    other_ns = _with_id(INGRESS, "shop:networking.k8s.io/Ingress:prod/web")
    assert tracking.is_self_referenced(own)
    assert not tracking.is_self_referenced(copied)
    assert not tracking.is_self_referenced(other_ns)
    assert not tracking.is_self_referenced(_with_id(INGRESS, "garbage"))
    assert tracking.is_self_referenced(INGRESS)  # no id at all: nothing was copied
    assert tracking.is_self_referenced(copied, LABEL)  # the label method always passes


def test_with_desired_the_pair_itself_is_checked_not_the_annotation():
    copied = _with_id(INGRESS, "shop:networking.k8s.io/Ingress:shop/other")
    assert tracking.is_self_referenced(copied, desired=INGRESS)
    old_group = {**INGRESS, "apiVersion": "extensions/v1beta1"}
    assert not tracking.is_self_referenced(old_group, desired=INGRESS)


def test_cluster_scoped_objects_skip_the_namespace_check():
    assert tracking.is_self_referenced(_with_id(NAMESPACE, "shop:/Namespace:dest/shop"))


def test_stamping_writes_the_method_s_metadata_and_skips_crds():
    out = tracking.stamp([INGRESS, CRD], "shop", "dest", BOTH)
    assert out[0]["metadata"]["annotations"] == {
        tracking.TRACKING_ID: "shop:networking.k8s.io/Ingress:shop/web"
    }
    assert out[0]["metadata"]["labels"] == {tracking.INSTANCE_LABEL: "shop"}
    assert out[1] == CRD and out[1] is not CRD
    assert "annotations" not in INGRESS["metadata"]  # inputs untouched


def test_stamping_with_labels_only_truncates_only_in_the_combined_method():
    long_name = "a" * 62 + "-b" + "c" * 10
    label_only = tracking.stamp([NAMESPACE], long_name, "dest", LABEL)[0]["metadata"]
    assert label_only["labels"][tracking.INSTANCE_LABEL] == long_name
    assert "annotations" not in label_only
    combined = tracking.stamp([NAMESPACE], long_name, "dest", BOTH)[0]["metadata"]
    assert combined["labels"][tracking.INSTANCE_LABEL] == "a" * 62


def test_stamping_sets_or_removes_the_installation_id():
    stale = {
        **INGRESS,
        "metadata": {**INGRESS["metadata"], "annotations": {tracking.INSTALLATION_ID: "old"}},
    }
    cleared = tracking.stamp([stale], "shop", "dest")[0]["metadata"]["annotations"]
    assert tracking.INSTALLATION_ID not in cleared
    stamped = tracking.stamp([INGRESS], "shop", "dest", Tracking(installation_id="prod"))[0]
    assert stamped["metadata"]["annotations"][tracking.INSTALLATION_ID] == "prod"


def test_a_label_tracked_live_object_takes_the_desired_annotation_before_diffing():
    desired = tracking.stamp([INGRESS], "shop", "dest")[0]
    live = {
        **INGRESS,
        "metadata": {**INGRESS["metadata"], "labels": {tracking.INSTANCE_LABEL: "shop", "x": "y"}},
    }
    out = tracking.normalize_live_tracking(live, desired)
    assert out["metadata"]["annotations"] == desired["metadata"]["annotations"]
    assert out["metadata"]["labels"] == {"x": "y"}
    both = tracking.stamp([INGRESS], "shop", "dest", BOTH)[0]
    assert (
        tracking.INSTANCE_LABEL
        in tracking.normalize_live_tracking(live, both)["metadata"]["labels"]
    )


def test_live_tracking_normalisation_leaves_other_cases_alone():
    desired = tracking.stamp([INGRESS], "shop", "dest")[0]
    assert tracking.normalize_live_tracking(INGRESS, desired) == INGRESS  # no label
    assert tracking.normalize_live_tracking(INGRESS, desired, LABEL) == INGRESS
    labelled_crd = {
        **CRD,
        "metadata": {**CRD["metadata"], "labels": {tracking.INSTANCE_LABEL: "a"}},
    }
    assert tracking.normalize_live_tracking(labelled_crd, CRD) == labelled_crd


def test_switching_from_label_to_annotation_tracking_is_not_drift():
    desired = tracking.stamp([INGRESS], "shop", "dest")[0]
    live = tracking.stamp([INGRESS], "shop", "dest", LABEL)[0]
    assert diff.compare(desired, live).modified
    assert not diff.compare(desired, live, tracked_by=ANNOTATION).modified


def test_a_tracking_id_whose_name_holds_colons_parses():
    parsed = TrackingId.parse(
        "cert-manager:rbac.authorization.k8s.io/Role:kube-system/cert-manager-webhook:dynamic-serving"
    )
    assert parsed is not None
    assert parsed.name == "cert-manager-webhook:dynamic-serving"
    assert parsed.namespace == "kube-system"
    assert str(parsed).endswith("/cert-manager-webhook:dynamic-serving")


def test_a_hook_named_at_sync_time_is_written_with_an_id_that_names_it() -> None:
    stamped: dict[str, Any] = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": "migrate-abc1234-presync-1",
            "namespace": "apps",
            "annotations": {tracking.TRACKING_ID: "web:batch/Job:apps/", "keep": "me"},
        },
    }
    named: Any = tracking.with_own_name(stamped)
    annotations = named["metadata"]["annotations"]
    assert annotations[tracking.TRACKING_ID] == "web:batch/Job:apps/migrate-abc1234-presync-1"
    assert annotations["keep"] == "me"
    assert stamped["metadata"]["annotations"][tracking.TRACKING_ID] == "web:batch/Job:apps/"
    whole = {
        "metadata": {"name": "a", "annotations": {tracking.TRACKING_ID: "web:/ConfigMap:apps/a"}}
    }
    assert tracking.with_own_name(whole) is whole
