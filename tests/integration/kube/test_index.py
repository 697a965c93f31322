"""The cache's in-memory index fed decoded watch objects (no API server needed, so no fixture)."""

from __future__ import annotations

from typing import Any

import msgspec

from tether.adapters.kube.discovery import ApiResource
from tether.adapters.kube.index import Index
from tether.adapters.kube.reflector import SlimObject
from tether.core.cluster import cachepolicy
from tether.core.diff import tracking
from tether.model.resources import ResourceKey

TRACKING = "argocd.argoproj.io/tracking-id"


def resource(group: str, kind: str, plural: str) -> ApiResource:
    return ApiResource(group, "v1", kind, plural, True, frozenset({"list", "watch"}))


DEPLOY = resource("apps", "Deployment", "deployments")
RS = resource("apps", "ReplicaSet", "replicasets")
POD = resource("", "Pod", "pods")
SVC = resource("", "Service", "services")
SLICE = resource("discovery.k8s.io", "EndpointSlice", "endpointslices")


def obj(
    res: ApiResource,
    name: str,
    uid: str,
    rv: str = "1",
    *,
    owner: str = "",
    app: str = "",
    labels: dict[str, str] | None = None,
    **rest: Any,
) -> tuple[SlimObject, bytes]:
    meta: dict[str, Any] = {"name": name, "namespace": "ns", "uid": uid, "resourceVersion": rv}
    if owner:
        meta["ownerReferences"] = [{"apiVersion": "v1", "kind": "X", "name": "o", "uid": owner}]
    if app:
        meta["annotations"] = {TRACKING: f"{app}:{res.group}/{res.kind}:ns/{name}"}
    if labels:
        meta["labels"] = labels
    raw = msgspec.json.encode({"metadata": meta, **rest})
    return msgspec.json.decode(raw, type=SlimObject), raw


def key(res: ApiResource, name: str) -> ResourceKey:
    return ResourceKey(res.group, res.kind, "ns", name)


def test_descendants_belong_to_the_app_of_their_tracked_root():
    changes: list[cachepolicy.Change] = []
    index = Index(changes.append)
    index.upsert(DEPLOY, *obj(DEPLOY, "web", "d1", app="guestbook"))
    index.upsert(RS, *obj(RS, "web-1", "r1", owner="d1"))
    index.upsert(POD, *obj(POD, "web-1-a", "p1", owner="r1"))
    assert [c.apps for c in changes] == [frozenset({"guestbook"})] * 3
    assert [r.key for r in index.managed_by("guestbook")] == [key(DEPLOY, "web")]
    assert [r.key for r in index.children_of("r1")] == [key(POD, "web-1-a")]
    pod = index.get(key(POD, "web-1-a"))
    assert pod is not None
    assert pod.app == ""
    assert pod.manifest() is not None


def test_an_ownership_cycle_does_not_hang_the_walk():
    changes: list[cachepolicy.Change] = []
    index = Index(changes.append)
    index.upsert(RS, *obj(RS, "a", "u1", owner="u2"))
    index.upsert(RS, *obj(RS, "b", "u2", owner="u1"))
    record = index.get(key(RS, "a"))
    assert record is not None
    assert index.apps_of(record) == frozenset()
    assert index.prune() == 2


def test_pruning_after_sync_slims_objects_whose_owners_turned_out_untracked():
    index = Index(lambda change: None)
    # The pod arrives before its owner: kept, in case the owner is tracked.
    index.upsert(POD, *obj(POD, "p", "p1", owner="r1"))
    index.upsert(RS, *obj(RS, "r", "r1"))
    assert index.prune() == 1
    pod = index.get(key(POD, "p"))
    assert pod is not None
    assert pod.manifest() is None
    assert pod.owner_uids == ("r1",)


def test_label_tracking_reads_the_instance_label_only_with_the_label_method():
    labelled = obj(DEPLOY, "web", "d1", labels={"app.kubernetes.io/instance": "release"})
    by_annotation = Index(lambda change: None)
    by_annotation.upsert(DEPLOY, *labelled)
    assert by_annotation.managed_by("release") == []
    by_label = Index(
        lambda change: None,
        tracking_config=tracking.Tracking(method=tracking.TrackingMethod.LABEL),
    )
    by_label.upsert(DEPLOY, *labelled)
    assert [r.key for r in by_label.managed_by("release")] == [key(DEPLOY, "web")]


def test_moving_an_object_between_apps_notifies_both():
    changes: list[cachepolicy.Change] = []
    index = Index(changes.append)
    index.upsert(DEPLOY, *obj(DEPLOY, "web", "d1", app="old"))
    index.upsert(DEPLOY, *obj(DEPLOY, "web", "d1", "2", app="new"))
    assert changes[-1] == cachepolicy.Change(
        frozenset({"old", "new"}), key(DEPLOY, "web"), "MODIFIED"
    )
    assert index.managed_by("old") == []


def test_churn_of_objects_in_no_tree_is_not_reported_but_their_presence_is():
    changes: list[cachepolicy.Change] = []
    index = Index(changes.append)
    index.upsert(POD, *obj(POD, "stray", "s1"))
    index.upsert(POD, *obj(POD, "stray", "s1", "2", status={"phase": "Running"}))
    index.remove(key(POD, "stray"))
    assert [c.event for c in changes] == ["ADDED", "DELETED"]


def test_a_relist_reports_only_what_changed():
    changes: list[cachepolicy.Change] = []
    index = Index(changes.append)
    index.replace(DEPLOY, [obj(DEPLOY, n, n, app="a") for n in ("x", "y")])
    changes.clear()
    index.replace(DEPLOY, [obj(DEPLOY, "y", "y", app="a"), obj(DEPLOY, "z", "z", app="a")])
    assert sorted((c.key.name, c.event) for c in changes) == [("x", "DELETED"), ("z", "ADDED")]


def test_an_endpointslice_of_a_tracked_service_is_kept_for_the_tree_but_its_churn_wakes_nobody():
    changes: list[cachepolicy.Change] = []
    index = Index(changes.append)
    index.upsert(SVC, *obj(SVC, "web", "s1", app="guestbook"))
    index.upsert(SLICE, *obj(SLICE, "web-abcde", "e1", owner="s1", endpoints=[]))
    ready = [{"addresses": ["10.0.0.1"], "conditions": {"ready": True}}]
    index.upsert(SLICE, *obj(SLICE, "web-abcde", "e1", "2", owner="s1", endpoints=ready))
    index.remove(key(SLICE, "web-abcde"))
    assert [(c.key.kind, c.event) for c in changes] == [("Service", "ADDED")]
    index.upsert(SLICE, *obj(SLICE, "web-abcde", "e1", "3", owner="s1", endpoints=ready))
    record = index.get(key(SLICE, "web-abcde"))
    assert record is not None and record.manifest() is not None
    assert [r.key for r in index.children_of("s1")] == [key(SLICE, "web-abcde")]


def test_an_endpointslice_declared_in_git_is_reported_like_any_tracked_object():
    changes: list[cachepolicy.Change] = []
    index = Index(changes.append)
    index.upsert(SLICE, *obj(SLICE, "external", "e1", app="guestbook", endpoints=[]))
    index.upsert(SLICE, *obj(SLICE, "external", "e1", "2", app="guestbook", endpoints=[{}]))
    assert [c.event for c in changes] == ["ADDED", "MODIFIED"]
