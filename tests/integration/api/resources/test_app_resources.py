"""An Application's resources through the API, with a real controller, Git server and kwok Pods.

The tree, diffs, manifests and Events; reading, patching and deleting objects of the tree only;
Secret values masked everywhere; resource actions.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.integration.api.resources.conftest import ResServer
from tests.support import tetherenv

SECRET_VALUE = "git-secret-value-4711"
ENCODED = base64.b64encode(SECRET_VALUE.encode()).decode()
APP = "web-app"
NARROW = "narrow-app"

CAPABILITIES = """apiVersion: v1
kind: ConfigMap
metadata: {name: capabilities}
data:
  kubeVersion: {{ .Capabilities.KubeVersion.Version | quote }}
  applications: {{ .Capabilities.APIVersions.Has "argoproj.io/v1alpha1/Application" | quote }}
"""
"""A chart of ``chart/`` reading what helm was told of the cluster (no app deploys it)."""


def _files() -> dict[str, str]:
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "registry.example/web:1.0"}]},
            },
        },
    }
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "creds"},
        "data": {"password": ENCODED},
    }
    config = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings"}}
    narrow = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "narrow-settings"}}
    return {
        "app/all.yaml": tetherenv.yaml_docs(deployment, secret, config),
        "narrow/cm.yaml": tetherenv.yaml_docs(narrow),
        "chart/Chart.yaml": "apiVersion: v2\nname: capabilities\nversion: 0.1.0\n",
        "chart/templates/cm.yaml": CAPABILITIES,
    }


@dataclasses.dataclass
class World:
    server: ResServer
    namespace: str


@pytest.fixture(scope="module")
def res_world(res_server: ResServer) -> Iterator[World]:
    """Two synced apps under a running controller: ``web-app`` (default project) and
    ``narrow-app`` (a project that denies Secrets)."""
    repo = tetherenv.serve_repo(res_server.tmp / "git", _files())
    ns = res_server.namespace
    automated: dict[str, Any] = {"syncPolicy": {"automated": {}}}
    try:
        with tetherenv.client(res_server.kubeconfig) as kube:
            tetherenv.create(
                kube,
                {
                    "apiVersion": "argoproj.io/v1alpha1",
                    "kind": "AppProject",
                    "metadata": {"name": "narrow", "namespace": ns},
                    "spec": {
                        "sourceRepos": ["*"],
                        "destinations": [{"server": "*", "namespace": "*"}],
                        "namespaceResourceBlacklist": [{"group": "", "kind": "Secret"}],
                        "orphanedResources": {"warn": False},
                    },
                },
            )
            tetherenv.create(kube, tetherenv.application(APP, ns, repo.url, "app", ns, **automated))
            narrow = tetherenv.application(NARROW, ns, repo.url, "narrow", ns, **automated)
            narrow["spec"]["project"] = "narrow"
            tetherenv.create(kube, narrow)
            res_server.start_controller()
            res_server.background.run(
                tetherenv.eventually(
                    lambda: (
                        tetherenv.synced_healthy(kube, ns, APP)
                        and tetherenv.synced_healthy(kube, ns, NARROW)
                    ),
                    timeout=90,
                    what="both apps synced and healthy",
                )
            )
        yield World(res_server, ns)
    finally:
        repo.server.stop()


def _find(nodes: list[dict[str, Any]], kind: str, name: str = "") -> list[dict[str, Any]]:
    return [n for n in nodes if n["kind"] == kind and (not name or n["name"] == name)]


def _query(
    world: World, kind: str, name: str, group: str = "", version: str = "v1"
) -> dict[str, str]:
    return {
        "namespace": world.namespace,
        "resourceName": name,
        "kind": kind,
        "group": group,
        "version": version,
    }


def _live(world: World, kind: Any, name: str) -> dict[str, Any]:
    with tetherenv.client(world.server.kubeconfig) as kube:
        return tetherenv.get(kube, kind, name, world.namespace)


async def test_the_tree_shows_the_deployment_its_replicaset_and_pods_with_health(
    res_world: World, res_admin: Any
) -> None:
    async def tree() -> list[dict[str, Any]]:
        response = await res_admin.get(f"/api/v1/applications/{APP}/resource-tree")
        assert response.status_code == 200, response.text
        nodes: list[dict[str, Any]] = response.json()["nodes"]
        return nodes

    def healthy_pods(nodes: list[dict[str, Any]]) -> int:
        pods = _find(nodes, "Pod")
        return len([p for p in pods if p.get("health", {}).get("status") == "Healthy"])

    nodes = await tree()
    for _ in range(150):
        if healthy_pods(nodes) == 2:
            break
        await asyncio.sleep(0.2)
        nodes = await tree()
    assert healthy_pods(nodes) == 2, json.dumps(nodes, indent=1)
    deployment = _find(nodes, "Deployment", "web")[0]
    assert deployment["group"] == "apps"
    assert deployment["health"]["status"] == "Healthy"
    assert deployment["uid"]
    replica_sets = _find(nodes, "ReplicaSet")
    assert len(replica_sets) == 1
    assert replica_sets[0]["parentRefs"][0]["uid"] == deployment["uid"]
    for pod in _find(nodes, "Pod"):
        assert pod["parentRefs"][0]["uid"] == replica_sets[0]["uid"]
        assert pod["images"] == ["registry.example/web:1.0"]
        assert {"name": "Containers", "value": "1/1"} in pod["info"]
    assert _find(nodes, "Secret", "creds") and _find(nodes, "ConfigMap", "settings")
    assert not _find(nodes, "ConfigMap", "narrow-settings")


async def test_managed_resources_and_manifests_mask_the_secret_from_git(
    res_world: World, res_admin: Any
) -> None:
    managed = await res_admin.get(f"/api/v1/applications/{APP}/managed-resources")
    assert managed.status_code == 200, managed.text
    items = {(i["kind"], i["name"]): i for i in managed.json()["items"]}
    assert set(items) >= {("Deployment", "web"), ("Secret", "creds"), ("ConfigMap", "settings")}
    secret = items[("Secret", "creds")]
    target, live = json.loads(secret["targetState"]), json.loads(secret["liveState"])
    assert target["data"]["password"] == live["data"]["password"] == "++++++++"
    assert json.loads(items[("Deployment", "web")]["liveState"])["spec"]["replicas"] == 2

    manifests = await res_admin.get(f"/api/v1/applications/{APP}/manifests")
    assert manifests.status_code == 200, manifests.text
    body = manifests.json()
    rendered = [json.loads(m) for m in body["manifests"]]
    creds = next(m for m in rendered if m["kind"] == "Secret")
    assert creds["data"]["password"].startswith("++++")
    assert len(body["revision"]) == 40
    for text in (managed.text, manifests.text):
        assert SECRET_VALUE not in text
        assert ENCODED not in text


async def test_reading_a_secret_of_the_tree_masks_its_data(
    res_world: World, res_admin: Any
) -> None:
    response = await res_admin.get(
        f"/api/v1/applications/{APP}/resource", params=_query(res_world, "Secret", "creds")
    )
    assert response.status_code == 200, response.text
    manifest = json.loads(response.json()["manifest"])
    assert manifest["data"]["password"] == "++++++++"
    assert ENCODED not in response.text and SECRET_VALUE not in response.text


async def test_objects_outside_the_tree_or_the_project_are_refused_and_unchanged(
    res_world: World, res_admin: Any
) -> None:
    from lightkube.resources.core_v1 import ConfigMap, Secret

    ns = res_world.namespace
    with tetherenv.client(res_world.server.kubeconfig) as kube:
        tetherenv.create(
            kube,
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": "outsider", "namespace": ns},
            },
        )
        # Carries narrow-app's tracking, but narrow's project denies Secrets.
        tracking = f"{NARROW}:/Secret:{ns}/planted"
        tetherenv.create(
            kube,
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {
                    "name": "planted",
                    "namespace": ns,
                    "annotations": {"argocd.argoproj.io/tracking-id": tracking},
                },
                "stringData": {"token": "planted-token"},
            },
        )
    patch = json.dumps(json.dumps({"metadata": {"labels": {"touched": "yes"}}}))
    merge = {"patchType": "application/merge-patch+json"}
    attempts = [
        (APP, _query(res_world, "ConfigMap", "outsider")),
        (NARROW, _query(res_world, "Secret", "planted")),
        (NARROW, _query(res_world, "Secret", "creds")),
        (APP, _query(res_world, "ConfigMap", "no-such-object")),
    ]
    for app, query in attempts:
        patched = await res_admin.post(
            f"/api/v1/applications/{app}/resource",
            params={**query, **merge},
            content=patch,
            headers={"Content-Type": "application/json"},
        )
        read = await res_admin.get(f"/api/v1/applications/{app}/resource", params=query)
        deleted = await res_admin.delete(f"/api/v1/applications/{app}/resource", params=query)
        assert patched.status_code == read.status_code == deleted.status_code == 400, (app, query)
        assert "not found as part of application" in patched.json()["message"]
    # narrow's project monitors orphans: the stray ConfigMap shows, but only as an orphan. The
    # namespace is also the control plane's, so its settings ConfigMaps (argocd-cm,
    # argocd-rbac-cm) are orphans too, as Argo CD reports them.
    tree = (await res_admin.get(f"/api/v1/applications/{NARROW}/resource-tree")).json()
    orphans = [n["name"] for n in _find(tree["orphanedNodes"], "ConfigMap")]
    assert [name for name in orphans if not name.startswith("argocd-")] == ["outsider"]
    assert not _find(tree["nodes"], "Secret")
    outsider = _live(res_world, ConfigMap, "outsider")
    planted = _live(res_world, Secret, "planted")
    assert "touched" not in (outsider["metadata"].get("labels") or {})
    assert "touched" not in (planted["metadata"].get("labels") or {})
    assert "deletionTimestamp" not in outsider["metadata"]
    assert "deletionTimestamp" not in planted["metadata"]


async def test_patching_needs_the_fine_grained_update_right_and_is_masked(
    res_world: World, res_server: ResServer
) -> None:
    from lightkube.resources.core_v1 import ConfigMap

    plain = await res_server.token(
        "plain-updater", ("applications", "get", "*"), ("applications", "update", "*")
    )
    fine = await res_server.token(
        "fine-updater",
        ("applications", "get", "*"),
        ("applications", "update//ConfigMap/*/settings", "default/*"),
    )
    query = {
        **_query(res_world, "ConfigMap", "settings"),
        "patchType": "application/merge-patch+json",
    }
    patch = json.dumps(json.dumps({"metadata": {"labels": {"patched-by": "api"}}}))
    headers = {"Content-Type": "application/json"}
    async with res_server.client(plain) as client:
        refused = await client.post(
            f"/api/v1/applications/{APP}/resource", params=query, content=patch, headers=headers
        )
    assert refused.status_code == 403
    assert "patched-by" not in (
        _live(res_world, ConfigMap, "settings")["metadata"].get("labels") or {}
    )
    async with res_server.client(fine) as client:
        allowed = await client.post(
            f"/api/v1/applications/{APP}/resource", params=query, content=patch, headers=headers
        )
    assert allowed.status_code == 200, allowed.text
    assert json.loads(allowed.json()["manifest"])["metadata"]["labels"]["patched-by"] == "api"


async def test_a_failed_patch_of_a_secret_does_not_echo_the_value(
    res_world: World, res_admin: Any
) -> None:
    bad_value = "not-base64-but-a-new-secret-!!"
    patch = json.dumps(
        json.dumps([{"op": "replace", "path": "/data/password", "value": bad_value}])
    )
    response = await res_admin.post(
        f"/api/v1/applications/{APP}/resource",
        params={**_query(res_world, "Secret", "creds"), "patchType": "application/json-patch+json"},
        content=patch,
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code >= 400
    assert bad_value not in response.text
    assert response.json()["message"] == f"failed to patch Secret {res_world.namespace}/creds"


async def test_deleting_a_pod_of_the_tree_works_and_its_replicaset_replaces_it(
    res_world: World, res_admin: Any
) -> None:
    tree = (await res_admin.get(f"/api/v1/applications/{APP}/resource-tree")).json()
    pod = _find(tree["nodes"], "Pod")[0]
    deleted = await res_admin.delete(
        f"/api/v1/applications/{APP}/resource",
        params={**_query(res_world, "Pod", pod["name"]), "force": "true"},
    )
    assert deleted.status_code == 200, deleted.text
    assert deleted.json() == {}


async def test_the_restart_action_stamps_the_pod_template(res_world: World, res_admin: Any) -> None:
    from lightkube.resources.apps_v1 import Deployment

    query = _query(res_world, "Deployment", "web", group="apps")
    listed = await res_admin.get(f"/api/v1/applications/{APP}/resource/actions", params=query)
    assert listed.status_code == 200, listed.text
    actions = {a["name"]: a for a in listed.json()["actions"]}
    assert set(actions) == {"restart", "pause", "resume"}
    assert actions["resume"]["disabled"] and not actions["pause"]["disabled"]

    ran = await res_admin.post(
        f"/api/v1/applications/{APP}/resource/actions/v2",
        json={
            "namespace": res_world.namespace,
            "resourceName": "web",
            "version": "v1",
            "group": "apps",
            "kind": "Deployment",
            "action": "restart",
        },
    )
    assert ran.status_code == 200, ran.text
    template = _live(res_world, Deployment, "web")["spec"]["template"]
    stamp = template["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"]
    assert stamp.endswith("Z") and stamp.startswith("20")


async def test_running_an_action_needs_its_own_right(
    res_world: World, res_server: ResServer
) -> None:
    token = await res_server.token(
        "pauser",
        ("applications", "get", "*"),
        ("applications", "action/apps/Deployment/pause", "*"),
    )
    body = {
        "namespace": res_world.namespace,
        "resourceName": "web",
        "group": "apps",
        "kind": "Deployment",
        "action": "restart",
    }
    async with res_server.client(token) as client:
        refused = await client.post(f"/api/v1/applications/{APP}/resource/actions/v2", json=body)
    assert refused.status_code == 403


async def test_events_of_the_app_and_of_one_resource(res_world: World, res_admin: Any) -> None:
    response = await res_admin.get(f"/api/v1/applications/{APP}/events")
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert items, "the controller recorded events about the sync"
    assert {e["involvedObject"]["name"] for e in items} == {APP}
    tree = (await res_admin.get(f"/api/v1/applications/{APP}/resource-tree")).json()
    deployment = _find(tree["nodes"], "Deployment", "web")[0]
    one = await res_admin.get(
        f"/api/v1/applications/{APP}/events",
        params={
            "resourceNamespace": res_world.namespace,
            "resourceName": "web",
            "resourceUID": deployment["uid"],
        },
    )
    assert one.status_code == 200, one.text
    assert all(e["involvedObject"]["uid"] == deployment["uid"] for e in one.json()["items"])


async def test_a_caller_without_rights_cannot_tell_an_app_from_a_missing_one(
    res_world: World, res_server: ResServer
) -> None:
    token = await res_server.token("stranger", ("applications", "get", "other/*"))
    async with res_server.client(token) as client:
        existing = await client.get(f"/api/v1/applications/{APP}/resource-tree")
        missing = await client.get("/api/v1/applications/no-such-app/resource-tree")
    assert existing.status_code == missing.status_code == 403
    assert existing.json() == missing.json()


async def test_a_resource_call_without_kind_or_name_is_a_400_in_argo_cds_shape(
    res_world: World, res_admin: Any
) -> None:
    response = await res_admin.get(
        f"/api/v1/applications/{APP}/resource", params={"namespace": res_world.namespace}
    )
    assert response.status_code == 400
    assert response.json()["code"] == 3


async def test_an_app_whose_cluster_is_unknown_gets_no_tree_from_another_cluster(
    res_world: World, res_admin: Any
) -> None:
    with tetherenv.client(res_world.server.kubeconfig) as kube:
        app = tetherenv.application(
            "elsewhere", res_world.namespace, "https://git.example.test/x.git", "app", "x"
        )
        app["spec"]["destination"]["server"] = "https://unknown.example.test"
        tetherenv.create(kube, app)
    response = await res_admin.get("/api/v1/applications/elsewhere/resource-tree")
    assert response.status_code == 400
    assert "unknown.example.test" in response.json()["message"]


async def test_manifests_render_a_chart_for_the_apps_cluster_as_the_controller_does(
    res_world: World, res_admin: Any
) -> None:
    with tetherenv.client(res_world.server.kubeconfig) as kube:
        web = tetherenv.get(kube, tetherenv.Application, APP, res_world.namespace)
        repo_url = web["spec"]["source"]["repoURL"]
        ns = res_world.namespace
        tetherenv.create(kube, tetherenv.application("caps", ns, repo_url, "chart", ns))
    response = await res_admin.get("/api/v1/applications/caps/manifests")
    assert response.status_code == 200, response.text
    [rendered] = [json.loads(m) for m in response.json()["manifests"]]
    # The API server's version, and a kind only this cluster serves (tether's CRD).
    assert rendered["data"] == {"kubeVersion": tetherenv.KUBE_VERSION, "applications": "true"}
