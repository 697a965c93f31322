"""The resource tree as a graph: the app at the root, owners first, quiet crowds grouped."""

from __future__ import annotations

from typing import Any

from tether.ui import treeview

APP = {"name": "shop", "namespace": "apps", "health": "Healthy", "sync": "OutOfSync"}


def ref(kind: str, name: str, group: str = "", namespace: str = "shop") -> dict[str, Any]:
    return {"group": group, "version": "v1", "kind": kind, "namespace": namespace, "name": name}


def node(
    kind: str,
    name: str,
    group: str = "",
    parents: tuple[dict[str, Any], ...] = (),
    health: str = "",
    namespace: str = "shop",
) -> dict[str, Any]:
    out = ref(kind, name, group, namespace)
    out["uid"] = f"uid-{kind}-{name}"
    out["parentRefs"] = list(parents)
    if health:
        out["health"] = {"status": health, "message": f"{name} is {health}"}
    return out


def status(kind: str, name: str, group: str = "", sync: str = "Synced", **extra: Any) -> Any:
    entry = {"kind": kind, "name": name, "namespace": "shop", "version": "v1", "status": sync}
    if group:
        entry["group"] = group
    return entry | extra


DEPLOY = ref("Deployment", "web", "apps")
RS = ref("ReplicaSet", "web-1", "apps")
SVC = ref("Service", "web")


def pods(count: int, health: str = "Healthy") -> list[dict[str, Any]]:
    return [node("Pod", f"web-1-{i:02d}", parents=(RS,), health=health) for i in range(count)]


def shop_tree(*extra: dict[str, Any]) -> dict[str, Any]:
    return {
        "nodes": [
            node("Deployment", "web", "apps", health="Healthy"),
            node("ReplicaSet", "web-1", "apps", parents=(DEPLOY,), health="Healthy"),
            node("Service", "web", health="Healthy"),
            node("EndpointSlice", "web-x", "discovery.k8s.io", parents=(SVC,)),
            *extra,
        ]
    }


STATUS = [status("Deployment", "web", "apps", sync="OutOfSync"), status("Service", "web")]


def by_name(graph: treeview.Graph) -> dict[str, treeview.GraphNode]:
    """The nodes by name (the Deployment and Service share ``web``: find those by key)."""
    return {n.name: n for n in graph.resources}


def test_the_app_is_the_root_and_managed_resources_hang_from_it_with_their_sync_status():
    graph = treeview.build(APP, shop_tree(*pods(2)), STATUS)
    root = graph.nodes[0]
    assert (root.role, root.kind, root.name, root.sync) == (
        "app",
        "Application",
        "shop",
        "OutOfSync",
    )
    nodes = by_name(graph)
    deploy = graph.find(("apps", "Deployment", "shop", "web"))
    service = graph.find(("", "Service", "shop", "web"))
    assert deploy is not None and service is not None
    assert deploy.parents == (root.id,) and service.parents == (root.id,)
    assert (deploy.kind, deploy.sync, deploy.health) == ("Deployment", "OutOfSync", "Healthy")
    assert deploy.managed and deploy.uid == "uid-Deployment-web"
    assert nodes["web-1"].parents == (deploy.id,)
    assert not nodes["web-1"].managed and nodes["web-1"].sync == ""
    assert nodes["web-1-00"].parents == (nodes["web-1"].id,)
    assert nodes["web-x"].parents == (service.id,)
    assert nodes["web-x"].health == ""


def test_nodes_come_depth_first_so_the_tab_order_follows_the_tree():
    graph = treeview.build(APP, shop_tree(*pods(2)), STATUS)
    assert [(n.kind, n.depth) for n in graph.nodes] == [
        ("Application", 0),
        ("Deployment", 1),
        ("ReplicaSet", 2),
        ("Pod", 3),
        ("Pod", 3),
        ("Service", 1),
        ("EndpointSlice", 2),
    ]
    assert len(graph.edges) == len(graph.nodes) - 1


def test_a_managed_resource_missing_from_the_cluster_is_a_missing_node_under_the_app():
    missing = status("ConfigMap", "settings", sync="OutOfSync", health={"status": "Missing"})
    graph = treeview.build(APP, shop_tree(), [*STATUS, missing])
    node = graph.find(("", "ConfigMap", "shop", "settings"))
    assert node is not None
    assert (node.health, node.sync, node.parents) == ("Missing", "OutOfSync", ("n0",))


def test_hooks_in_the_status_are_not_drawn():
    hook = status("Job", "migrate", "batch", hook=True)
    graph = treeview.build(APP, shop_tree(), [*STATUS, hook])
    assert graph.find(("batch", "Job", "shop", "migrate")) is None


def test_more_quiet_siblings_of_one_kind_than_the_limit_collapse_into_one_group():
    graph = treeview.build(APP, shop_tree(*pods(40)), STATUS)
    groups = [n for n in graph.nodes if n.role == "group"]
    assert len(groups) == 1
    group = groups[0]
    rs = by_name(graph)["web-1"]
    assert (group.kind, group.count, group.health, group.parents) == (
        "Pod",
        40,
        "Healthy",
        (rs.id,),
    )
    members = [n for n in graph.resources if n.in_group == group.id]
    assert len(members) == 40
    assert all(m.parents == (group.id,) for m in members)
    assert group.group_key == "apps/ReplicaSet/shop/web-1>/Pod"
    assert graph.nodes.index(group) + 1 == graph.nodes.index(members[0])


def test_up_to_the_limit_siblings_stay_single():
    graph = treeview.build(APP, shop_tree(*pods(treeview.GROUP_ABOVE)), STATUS)
    assert not [n for n in graph.nodes if n.role == "group"]


def test_siblings_that_need_attention_stay_out_of_their_group():
    sick = node("Pod", "web-1-sick", parents=(RS,), health="Degraded")
    graph = treeview.build(APP, shop_tree(*pods(10), sick), STATUS)
    (group,) = [n for n in graph.nodes if n.role == "group"]
    assert group.count == 10
    assert by_name(graph)["web-1-sick"].in_group == ""
    configmaps = [node("ConfigMap", f"c{i}") for i in range(8)]
    statuses = [
        status("ConfigMap", f"c{i}", sync="OutOfSync" if i == 0 else "Synced") for i in range(8)
    ]
    graph = treeview.build(APP, {"nodes": configmaps}, statuses)
    (group,) = [n for n in graph.nodes if n.role == "group"]
    assert group.count == 7 and group.sync == "Synced"
    assert by_name(graph)["c0"].in_group == ""


def test_siblings_with_children_of_their_own_are_never_grouped():
    sets = [
        node("ReplicaSet", f"web-{i}", "apps", parents=(DEPLOY,), health="Healthy")
        for i in range(8)
    ]
    pod = node("Pod", "web-3-a", parents=(ref("ReplicaSet", "web-3", "apps"),), health="Healthy")
    graph = treeview.build(APP, {"nodes": [node("Deployment", "web", "apps"), *sets, pod]}, STATUS)
    (group,) = [n for n in graph.nodes if n.role == "group"]
    assert group.count == 7
    assert by_name(graph)["web-3"].in_group == ""
    assert by_name(graph)["web-3-a"].parents == (by_name(graph)["web-3"].id,)


def test_child_applications_are_never_grouped_and_link_to_their_own_pages():
    apps = [
        node("Application", f"child-{i:02d}", "argoproj.io", namespace="apps") for i in range(27)
    ]
    statuses = [
        {
            "group": "argoproj.io",
            "kind": "Application",
            "namespace": "apps",
            "name": f"child-{i:02d}",
            "status": "Synced",
        }
        for i in range(27)
    ]
    graph = treeview.build(APP, {"nodes": apps}, statuses)
    assert not [n for n in graph.nodes if n.role == "group"]
    assert len(graph.resources) == 27
    assert graph.resources[0].href == "/applications/apps/child-00"
    assert by_name(graph)["child-00"].href == "/applications/apps/child-00"


def test_an_object_with_two_owners_is_one_node_with_two_edges():
    cm_a, cm_b = ref("ConfigMap", "a"), ref("ConfigMap", "b")
    shared = node("Secret", "shared", parents=(cm_a, cm_b))
    tree = {"nodes": [node("ConfigMap", "a"), node("ConfigMap", "b"), shared]}
    graph = treeview.build(APP, tree, [status("ConfigMap", "a"), status("ConfigMap", "b")])
    nodes = by_name(graph)
    assert [n.name for n in graph.resources].count("shared") == 1
    assert nodes["shared"].parents == (nodes["a"].id, nodes["b"].id)
    assert (nodes["a"].id, nodes["shared"].id) in graph.edges
    assert (nodes["b"].id, nodes["shared"].id) in graph.edges


def test_objects_reachable_only_through_an_ownership_cycle_still_show():
    a, b = ref("ConfigMap", "a"), ref("ConfigMap", "b")
    tree = {"nodes": [node("ConfigMap", "a", parents=(b,)), node("ConfigMap", "b", parents=(a,))]}
    graph = treeview.build(APP, tree)
    assert sorted(n.name for n in graph.resources) == ["a", "b"]


def test_the_node_parameter_names_a_resource_and_reads_back():
    key = ("apps", "Deployment", "shop", "web")
    assert treeview.node_param(key) == "apps/Deployment/shop/web"
    assert treeview.parse_node_param("apps/Deployment/shop/web") == key
    assert treeview.parse_node_param("/Namespace//shop") == ("", "Namespace", "", "shop")
    assert treeview.parse_node_param("nonsense") is None
    assert treeview.parse_node_param("a/b/c/d/e") is None


def test_kinds_show_kubectls_short_names_and_others_their_initials():
    assert treeview.abbreviation("Deployment") == "deploy"
    assert treeview.abbreviation("VirtualService") == "vs"
    assert treeview.abbreviation("thing") == "thi"


def test_long_names_lose_their_middle_so_generated_suffixes_stay_readable():
    graph = treeview.build(APP, {"nodes": [node("Pod", "web-596556dd5f-5vpd6")]})
    (pod,) = graph.resources
    assert pod.short_name == "web-59…56dd5f-5vpd6"
    assert len(pod.short_name) == treeview.SHORT_NAME
    assert by_name(treeview.build(APP, {"nodes": [node("Pod", "web")]}))["web"].short_name == "web"
