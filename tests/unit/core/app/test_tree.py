"""The resource tree: owner references, inferred parents, depth-first walks, orphans."""

from __future__ import annotations

from typing import Any

from tether.core.app import tree
from tether.core.diff import tracking
from tether.model.resources import ResourceKey


def obj(
    api_version: str,
    kind: str,
    name: str,
    namespace: str = "shop",
    uid: str = "",
    owners: list[dict[str, Any]] | None = None,
    **extra,
) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "uid": uid or f"uid-{kind}-{name}"}
    if namespace:
        meta["namespace"] = namespace
    if owners is not None:
        meta["ownerReferences"] = owners
    return {"apiVersion": api_version, "kind": kind, "metadata": meta, **extra}


def owner(parent: dict[str, Any], with_uid: bool = True) -> dict[str, Any]:
    return {
        "apiVersion": parent["apiVersion"],
        "kind": parent["kind"],
        "name": parent["metadata"]["name"],
        "uid": parent["metadata"]["uid"] if with_uid else "",
    }


def key(o: dict[str, Any]) -> ResourceKey:
    return ResourceKey.of(o)


DEPLOY = obj("apps/v1", "Deployment", "web")
RS = obj("apps/v1", "ReplicaSet", "web-1", owners=[owner(DEPLOY)])
POD = obj("v1", "Pod", "web-1-a", owners=[owner(RS)])
SVC = obj("v1", "Service", "web")
EP = obj("v1", "Endpoints", "web")
SA = obj("v1", "ServiceAccount", "runner")
TOKEN = obj(
    "v1",
    "Secret",
    "runner-token",
    type="kubernetes.io/service-account-token",
    metadata={
        "name": "runner-token",
        "namespace": "shop",
        "uid": "t",
        "annotations": {"kubernetes.io/service-account.name": "runner"},
    },
)
STS = obj(
    "apps/v1",
    "StatefulSet",
    "db",
    spec={"volumeClaimTemplates": [{"metadata": {"name": "data"}}, "junk"]},
)
PVC = obj("v1", "PersistentVolumeClaim", "data-db-0")
OTHER_PVC = obj("v1", "PersistentVolumeClaim", "data-db-x")
OG = obj("operators.coreos.com/v1", "OperatorGroup", "og")
CSV = {
    **obj("operators.coreos.com/v1alpha1", "ClusterServiceVersion", "op.v1"),
    "metadata": {
        "name": "op.v1",
        "namespace": "shop",
        "uid": "csv",
        "annotations": {"olm.operatorGroup": "og"},
    },
}
NODE = obj("v1", "Node", "n1", namespace="")
LEASE = obj(
    "coordination.k8s.io/v1",
    "Lease",
    "n1",
    namespace="kube-node-lease",
    owners=[owner(NODE, with_uid=False)],
)
ALL = [DEPLOY, RS, POD, SVC, EP, SA, TOKEN, STS, PVC, OTHER_PVC, OG, CSV, NODE, LEASE]


def test_owner_references_and_inferred_parents_link_children():
    graph = tree.build(ALL)
    assert graph.parents[key(RS)] == (key(DEPLOY),)
    assert graph.parents[key(EP)] == (key(SVC),)
    assert graph.parents[key(TOKEN)] == (key(SA),)
    assert graph.parents[key(PVC)] == (key(STS),)
    assert key(OTHER_PVC) not in graph.parents
    assert graph.parents[key(CSV)] == (key(OG),)
    assert graph.parents[key(LEASE)] == (key(NODE),)  # no UID: resolved by name, cluster scope


def test_endpoints_with_an_owner_are_not_given_the_service_too():
    owned_ep = obj("v1", "Endpoints", "web", owners=[owner(DEPLOY)])
    graph = tree.build([SVC, owned_ep, DEPLOY])
    assert graph.parents[key(owned_ep)] == (key(DEPLOY),)


def test_a_walk_is_depth_first_from_the_roots_with_depths():
    graph = tree.build(ALL)
    nodes = tree.hierarchy(graph, [key(DEPLOY), key(SVC), ResourceKey("", "Pod", "shop", "gone")])
    assert [(n.key.kind, n.depth) for n in nodes] == [
        ("Deployment", 0),
        ("ReplicaSet", 1),
        ("Pod", 2),
        ("Service", 0),
        ("Endpoints", 1),
    ]


def test_a_cycle_of_owners_is_walked_once():
    a = obj(
        "example.com/v1",
        "Thing",
        "a",
        uid="A",
        owners=[{"apiVersion": "example.com/v1", "kind": "Thing", "name": "b", "uid": "B"}],
    )
    b = obj("example.com/v1", "Thing", "b", uid="B", owners=[owner(a)])
    self_owned = obj(
        "example.com/v1",
        "Thing",
        "c",
        uid="C",
        owners=[{"apiVersion": "example.com/v1", "kind": "Thing", "name": "c", "uid": "C"}],
    )
    graph = tree.build([a, b, self_owned])
    assert [n.key.name for n in tree.hierarchy(graph, [key(a), key(self_owned)])] == ["a", "b", "c"]


def test_the_visitor_prunes_branches():
    graph = tree.build(ALL)
    nodes = tree.hierarchy(graph, [key(DEPLOY)], visit=lambda k: k.kind != "ReplicaSet")
    assert [n.key.kind for n in nodes] == ["Deployment"]


def test_owner_references_that_resolve_to_nothing_are_dropped():
    lost = obj(
        "v1",
        "Pod",
        "lost",
        owners=[
            {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "x", "uid": "nope"},
            {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "y"},
            {"kind": "ReplicaSet"},
        ],
    )
    lost["metadata"]["ownerReferences"].append("junk")
    bad = obj("v1", "Pod", "bad")
    bad["metadata"]["ownerReferences"] = "junk"
    graph = tree.build([lost, bad])
    assert graph.parents == {}
    assert tree.owner_references(bad) == []


def test_orphans_are_untracked_top_level_objects_of_the_destination_namespace():
    managed_cm = obj("v1", "ConfigMap", "app-config")
    other_app = obj("v1", "ConfigMap", "theirs")
    other_app["metadata"]["annotations"] = {tracking.TRACKING_ID: "other:/ConfigMap:shop/theirs"}
    dead_app = obj("v1", "ConfigMap", "stale")
    dead_app["metadata"]["annotations"] = {tracking.TRACKING_ID: "deleted:/ConfigMap:shop/stale"}
    defaults = [
        obj("v1", "ServiceAccount", "default"),
        obj("v1", "ConfigMap", "kube-root-ca.crt"),
        obj("v1", "Service", "kubernetes", namespace="default"),
    ]
    ignored = obj("v1", "ConfigMap", "ignored-by-project")
    forbidden = obj("v1", "Secret", "forbidden")
    elsewhere = obj("v1", "ConfigMap", "elsewhere", namespace="other")
    graph = tree.build(
        [*ALL, managed_cm, other_app, dead_app, *defaults, ignored, forbidden, elsewhere]
    )
    orphans = tree.orphaned(
        graph,
        destination_namespace="shop",
        managed={key(managed_cm), key(DEPLOY)},
        app_of=tracking.app_name_of,
        existing_apps={"shop", "other"},
        ignore=[tree.OrphanIgnore(kind="ConfigMap", name="ignored-*")],
        permitted=lambda k: k.kind != "Secret",
    )
    assert [k.name for k in orphans] == ["stale", "data-db-x", "web", "runner", "db", "og"]
    kinds = [n.key.kind for n in tree.hierarchy(graph, orphans)]
    assert "Endpoints" in kinds and "PersistentVolumeClaim" in kinds


def test_orphan_ignore_entries_glob_group_kind_and_name():
    cm = ResourceKey("", "ConfigMap", "shop", "x")
    assert tree.OrphanIgnore().matches(cm)  # empty kind and name: all of the core group
    assert not tree.OrphanIgnore().matches(ResourceKey("apps", "Deployment", "shop", "x"))
    assert tree.OrphanIgnore(group="*", kind="Config*", name="x").matches(cm)
    assert not tree.OrphanIgnore(kind="Secret").matches(cm)
    assert not tree.OrphanIgnore(name="y").matches(cm)


def test_an_owner_in_another_namespace_is_not_a_parent():
    foreign = obj("apps/v1", "Deployment", "web", namespace="other", uid="F")
    child = obj("v1", "ConfigMap", "c", owners=[owner(foreign)])
    assert tree.build([foreign, child]).parents == {}


def test_the_api_servers_own_service_and_endpointslice_are_never_orphans_of_default():
    own = [
        obj("v1", "Service", "kubernetes", namespace="default"),
        obj("discovery.k8s.io/v1", "EndpointSlice", "kubernetes", namespace="default"),
    ]
    mine = obj("v1", "ConfigMap", "mine", namespace="default")
    orphans = tree.orphaned(
        tree.build([*own, mine]),
        destination_namespace="default",
        managed=set(),
        app_of=tracking.app_name_of,
        existing_apps=set(),
    )
    assert [k.name for k in orphans] == ["mine"]


def test_pruning_to_linkable_objects_changes_no_walk_from_the_roots():
    loose = obj("v1", "ConfigMap", "settings")  # ownerless, unnamed by anyone: never in a walk
    app = obj("argoproj.io/v1alpha1", "Application", "other")
    # Owned by the Deployment, and a claim of the StatefulSet's template: two parents, one of
    # them (the StatefulSet) no root and named by no owner reference.
    claim = obj("v1", "PersistentVolumeClaim", "data-db-1", owners=[owner(DEPLOY)])
    # Neither a root nor owned: a second owner of one object, named by UID and by name only.
    holder, thing = obj("example.com/v1", "Holder", "h"), obj("example.com/v1", "Thing", "t")
    shared = obj(
        "v1", "ConfigMap", "shared", owners=[owner(DEPLOY), owner(holder), owner(thing, False)]
    )
    everything = {key(o): o for o in [*ALL, loose, app, claim, holder, thing, shared]}
    roots = [key(DEPLOY), key(SVC)]
    kept = tree.linkable(everything, set(roots))
    assert key(loose) not in kept
    assert key(app) not in kept
    full, pruned = tree.build(everything.values()), tree.build(kept.values())
    walk = tree.hierarchy(pruned, roots)
    assert walk == tree.hierarchy(full, roots)
    parents = {n.key: n.parents for n in walk}
    assert parents[key(claim)] == (key(DEPLOY), key(STS))
    assert parents[key(shared)] == (key(DEPLOY), key(holder), key(thing))
