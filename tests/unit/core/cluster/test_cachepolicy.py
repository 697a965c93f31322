"""Cache policy: exclusions, which objects stay in full, and no-op update filtering."""

from __future__ import annotations

from typing import Any

import pytest

from tether.core.cluster import cachepolicy as p
from tether.model.resources import GroupKind


@pytest.mark.parametrize(
    ("group", "kind"),
    [
        ("", "Event"),
        ("events.k8s.io", "Event"),
        ("coordination.k8s.io", "Lease"),
        ("", "Endpoints"),
        ("metrics.k8s.io", "PodMetrics"),
        ("authorization.k8s.io", "SubjectAccessReview"),
        ("authentication.k8s.io", "TokenReview"),
        ("", "ComponentStatus"),
        ("wgpolicyk8s.io", "PolicyReport"),
    ],
)
def test_noisy_and_unlistable_kinds_are_excluded_with_a_reason(group: str, kind: str):
    assert p.exclusion_reason(GroupKind(group, kind))


@pytest.mark.parametrize(
    ("group", "kind"),
    [("", "ConfigMap"), ("apps", "Deployment"), ("", "Pod"), ("argoproj.io", "Application")],
)
def test_ordinary_kinds_are_watched(group: str, kind: str):
    assert p.exclusion_reason(GroupKind(group, kind)) == ""


def test_endpointslices_are_watched_for_trees_but_their_untracked_changes_are_not_reported():
    slice_kind = GroupKind("discovery.k8s.io", "EndpointSlice")
    assert p.exclusion_reason(slice_kind) == ""
    assert not p.reports_changes(slice_kind, "")
    assert p.reports_changes(slice_kind, "guestbook")  # declared in Git: compared like any object
    assert p.reports_changes(GroupKind("", "Pod"), "")


def test_every_default_exclusion_has_a_reason():
    assert all(e.reason for e in p.DEFAULT_EXCLUSIONS)


def test_settings_can_add_exclusions_with_globs():
    extra = (*p.DEFAULT_EXCLUSIONS, p.Exclusion(("*.example.com",), ("*",), "noisy vendor"))
    assert p.exclusion_reason(GroupKind("a.example.com", "Thing"), extra) == "noisy vendor"


def test_tracked_objects_crds_applications_and_tree_members_are_kept_in_full():
    pod = GroupKind("", "Pod")
    assert p.keeps_full(GroupKind("", "ConfigMap"), "guestbook", in_tree=False)
    assert p.keeps_full(p.CRD, "", in_tree=False)
    assert p.keeps_full(p.APPLICATION, "", in_tree=False)
    assert p.keeps_full(pod, "", in_tree=True)
    assert not p.keeps_full(pod, "", in_tree=False)


def cm(**extra) -> dict[str, Any]:
    obj = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "a", "namespace": "n", "resourceVersion": "1"},
        "data": {"k": "v"},
    }
    obj.update(extra)
    return obj


def test_server_bookkeeping_and_status_do_not_change_the_update_hash():
    before = cm(status={"phase": "A"})
    after = cm(status={"phase": "B"})
    after["metadata"] = {
        **after["metadata"],
        "resourceVersion": "2",
        "generation": 3,
        "managedFields": [{"manager": "kubectl"}],
    }
    assert p.update_hash(before) == p.update_hash(after)


def test_a_spec_or_data_change_changes_the_update_hash():
    assert p.update_hash(cm()) != p.update_hash(cm(data={"k": "other"}))


def test_status_counts_when_asked_to():
    a, b = cm(status={"phase": "A"}), cm(status={"phase": "B"})
    assert p.update_hash(a, include_status=True) != p.update_hash(b, include_status=True)


def test_ignored_paths_with_wildcards_and_escapes_are_left_out_of_the_hash():
    a = cm(spec={"containers": [{"image": "x:1", "name": "c"}]})
    b = cm(spec={"containers": [{"image": "x:2", "name": "c"}]})
    assert p.update_hash(a, ["/spec/containers/*/image"]) == p.update_hash(
        b, ["/spec/containers/*/image"]
    )
    annotated, bare = cm(), cm()
    annotated["metadata"] = {**annotated["metadata"], "annotations": {"a/b": "1"}}
    bare["metadata"] = {**bare["metadata"], "annotations": {}}
    pointer = ["/metadata/annotations/a~1b"]
    assert p.update_hash(annotated, pointer) == p.update_hash(bare, pointer)


def test_hashing_never_mutates_the_object():
    obj = cm(status={"phase": "A"})
    p.update_hash(obj, ["/data/k"])
    assert obj["status"] == {"phase": "A"}
    assert obj["data"] == {"k": "v"}


def test_the_hash_ignores_key_order():
    assert p.update_hash({"b": 1, "a": 2}) == p.update_hash({"a": 2, "b": 1})


def test_an_update_is_a_no_op_only_when_hash_and_health_are_unchanged():
    same = p.Fingerprint(b"x", "Healthy")
    assert p.is_noop_update(same, p.Fingerprint(b"x", "Healthy"))
    assert not p.is_noop_update(same, p.Fingerprint(b"x", "Degraded"))
    assert not p.is_noop_update(same, p.Fingerprint(b"y", "Healthy"))


def test_objects_without_a_fingerprint_always_report_updates():
    assert not p.is_noop_update(None, None)
    assert not p.is_noop_update(p.Fingerprint(b"x"), None)
