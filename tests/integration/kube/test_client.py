"""The client against a real kube-apiserver: apply, dry-run, CRUD, errors, the request counter."""

from __future__ import annotations

import asyncio
import pathlib
import uuid
from typing import Any

import pytest
import yaml

from tests.support import tetherenv
from tether import bootstrap
from tether.adapters.kube import errors, transport
from tether.adapters.kube.cache import ClusterCache
from tether.adapters.kube.client import KubeClient
from tether.core.sync import patchschema
from tether.model.errors import KubeApiError

pytestmark = pytest.mark.timeout(60)


def configmap(namespace: str, name: str = "app", **data: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": namespace},
        "data": data or {"k": "v"},
    }


def deployment(namespace: str) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": namespace},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]},
            },
        },
    }


async def test_server_side_apply_creates_then_updates_and_records_the_field_manager(
    client: KubeClient, namespace: str
):
    created = await client.apply(configmap(namespace), field_manager="tether")
    updated = await client.apply(configmap(namespace, k="w"), field_manager="tether")
    assert updated["data"] == {"k": "w"}
    assert int(updated["metadata"]["resourceVersion"]) > int(created["metadata"]["resourceVersion"])
    managers = {m["manager"] for m in updated["metadata"]["managedFields"]}
    assert managers == {"tether"}


async def test_a_server_side_dry_run_returns_the_defaulted_object_without_persisting_it(
    client: KubeClient, namespace: str
):
    predicted = await client.apply(deployment(namespace), field_manager="tether", dry_run=True)
    spec = predicted["spec"]
    container = spec["template"]["spec"]["containers"][0]
    # The server filled in what the manifest left out.
    assert spec["strategy"]["type"] == "RollingUpdate"
    assert spec["revisionHistoryLimit"] == 10
    assert spec["progressDeadlineSeconds"] == 600
    assert container["imagePullPolicy"] == "IfNotPresent"
    assert container["terminationMessagePath"] == "/dev/termination-log"
    assert spec["template"]["spec"]["restartPolicy"] == "Always"
    assert spec["template"]["spec"]["dnsPolicy"] == "ClusterFirst"
    assert await client.get("apps/v1", "Deployment", "web", namespace) is None


async def test_get_list_patch_update_and_delete_round_trip(client: KubeClient, namespace: str):
    await client.create(configmap(namespace, "one"))
    await client.create(configmap(namespace, "two"))
    items, rv = await client.list("v1", "ConfigMap", namespace)
    assert {i["metadata"]["name"] for i in items} >= {"one", "two"}
    assert all(i["kind"] == "ConfigMap" for i in items)
    assert rv

    merged = await client.patch("v1", "ConfigMap", "one", namespace, patch={"data": {"extra": "1"}})
    assert merged["data"] == {"k": "v", "extra": "1"}
    patched = await client.patch(
        "v1",
        "ConfigMap",
        "one",
        namespace,
        patch=[{"op": "replace", "path": "/data/k", "value": "json"}],
        patch_type="json",
    )
    assert patched["data"]["k"] == "json"

    stale = dict(merged)
    with pytest.raises(errors.ConflictError) as conflict:
        await client.update({**stale, "data": {"k": "stale"}})
    assert f"ConfigMap {namespace}/one" in str(conflict.value)
    assert conflict.value.reason == "Conflict"
    fresh = await client.get("v1", "ConfigMap", "one", namespace)
    assert fresh is not None
    replaced = await client.update({**fresh, "data": {"k": "replaced"}})
    assert replaced["data"] == {"k": "replaced"}

    # Foreground (the default) leaves the object, marked, for the garbage collector; the
    # minimal control plane has none, so it stays visible as "being deleted".
    assert await client.delete("v1", "ConfigMap", "one", namespace) is True
    marked = await client.get("v1", "ConfigMap", "one", namespace)
    assert marked is not None
    assert marked["metadata"]["deletionTimestamp"]
    assert "foregroundDeletion" in marked["metadata"]["finalizers"]

    assert await client.delete("v1", "ConfigMap", "two", namespace, propagation="Background")
    assert await client.get("v1", "ConfigMap", "two", namespace) is None
    assert await client.delete("v1", "ConfigMap", "two", namespace) is False


async def test_listing_pages_through_more_objects_than_one_page(client: KubeClient, namespace: str):
    for i in range(12):
        await client.create(configmap(namespace, f"cm-{i}"))
    response = await client.raw.get(
        f"/api/v1/namespaces/{namespace}/configmaps", params={"limit": "5"}
    )
    assert response.json()["metadata"]["continue"]
    items, _ = await client.list("v1", "ConfigMap", namespace)
    assert (
        len({i["metadata"]["name"] for i in items if i["metadata"]["name"].startswith("cm-")}) == 12
    )


async def test_errors_are_distinguishable_and_name_the_object(client: KubeClient, namespace: str):
    await client.create(configmap(namespace, "dup"))
    with pytest.raises(errors.ConflictError, match=f"ConfigMap {namespace}/dup"):
        await client.create(configmap(namespace, "dup"))
    with pytest.raises(errors.InvalidError) as invalid:
        await client.create(configmap(namespace, "Bad_Name"))
    assert invalid.value.reason == "Invalid"
    with pytest.raises(errors.NotFoundError):
        await client.patch("v1", "ConfigMap", "absent", namespace, patch={"data": {}})
    with pytest.raises(errors.NotFoundError, match="no kind Widget"):
        await client.apply(
            {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}},
            field_manager="tether",
        )


async def test_a_refused_secret_never_puts_its_value_in_the_error(
    client: KubeClient, namespace: str
):
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "creds", "namespace": namespace},
        "type": "kubernetes.io/dockerconfigjson",
        "stringData": {".dockerconfigjson": "hunter2-super-secret"},
    }
    with pytest.raises(errors.InvalidError) as refused:
        await client.apply(secret, field_manager="tether")
    assert "hunter2" not in str(refused.value)
    assert f"Secret {namespace}/creds" in str(refused.value)


async def test_the_status_subresource_is_written_separately_from_the_spec(
    client: KubeClient, namespace: str
):
    await client.apply(deployment(namespace), field_manager="tether")
    live = await client.get("apps/v1", "Deployment", "web", namespace)
    assert live is not None
    live["status"] = {"observedGeneration": 1, "replicas": 0, "conditions": []}
    live["spec"]["replicas"] = 5
    written = await client.update_status(live)
    # The status endpoint ignores spec changes and keeps status ones.
    assert written["spec"]["replicas"] == 2
    assert written["status"]["observedGeneration"] == 1


async def test_the_request_counter_counts_by_verb(client: KubeClient, namespace: str):
    await client.discovery.ensure()
    before = client.counter.snapshot()
    await client.apply(configmap(namespace, "counted"), field_manager="tether")
    await client.get("v1", "ConfigMap", "counted", namespace)
    await client.list("v1", "ConfigMap", namespace)
    await client.delete("v1", "ConfigMap", "counted", namespace)
    after = client.counter.snapshot()
    delta = {verb: after[verb] - before[verb] for verb in after}
    assert delta == {
        "get": 1,
        "list": 1,
        "watch": 0,
        "create": 0,
        "update": 0,
        "patch": 0,
        "delete": 1,
        "apply": 1,
    }


async def test_the_raw_escape_hatch_is_authenticated_and_speaks_the_chosen_http_version(
    client: KubeClient,
):
    response = await client.raw.get("/version")
    assert response.status_code == 200
    assert response.json()["major"] == "1"
    if client.raw.base_url.scheme == "https":
        expected = "HTTP/2" if transport.REQUESTS_HTTP2 else "HTTP/1.1"
        assert response.http_version == expected


async def token_kubeconfig(
    client: KubeClient, admin: pathlib.Path, namespace: str, directory: pathlib.Path
) -> pathlib.Path:
    """A kubeconfig for a fresh ServiceAccount that no RBAC rule grants anything."""
    account = {"name": "nobody", "namespace": namespace}
    await client.create({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": account})
    response = await client.raw.post(
        f"/api/v1/namespaces/{namespace}/serviceaccounts/nobody/token",
        json={"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {}},
    )
    response.raise_for_status()
    config = yaml.safe_load(admin.read_text())
    for user in config["users"]:
        user["user"] = {"token": response.json()["status"]["token"]}
    path = directory / "nobody.kubeconfig"
    path.write_text(yaml.safe_dump(config))
    return path


async def test_a_refused_request_is_a_forbidden_error_and_the_cache_drops_types_it_may_not_list(
    client: KubeClient, namespace: str, kube_cluster: bootstrap.DevCluster, tmp_path: pathlib.Path
):
    kubeconfig = await token_kubeconfig(client, kube_cluster.kubeconfig, namespace, tmp_path)
    async with KubeClient.from_kubeconfig(kubeconfig) as nobody:
        with pytest.raises(errors.ForbiddenError) as refused:
            await nobody.get("v1", "ConfigMap", "x", namespace)
        assert refused.value.reason == "Forbidden"
        assert f"ConfigMap {namespace}/x" in str(refused.value)

        # Discovery is open to every authenticated user; lists are not (respect RBAC).
        async with ClusterCache(nobody) as cache:
            await cache.wait_synced(30)
            assert cache.watched() == set()
            assert len(cache) == 0


async def test_the_openapi_documents_say_which_kinds_take_strategic_merge_patches(
    client: KubeClient,
):
    apps = await client.openapi_v3("apps/v1")
    assert apps is not None
    deployment = patchschema.of_kind(apps, "apps/v1", "Deployment")
    assert deployment is not None
    containers, _ = (
        deployment.field("spec")[1].field("template")[1].field("spec")[1].items_of("containers")
    )
    assert (containers.strategy, containers.merge_key) == ("merge", "name")
    # A custom resource takes JSON merge patches only; its document appears moments after.
    group = f"g{uuid.uuid4().hex[:8]}.example.com"
    crd = tetherenv.crd_manifest(group, "Widget", "widgets")
    await client.apply(crd, field_manager="test")
    try:
        for _ in range(100):
            document = await client.openapi_v3(f"{group}/v1")
            if document is not None and document.get("paths"):
                break
            await asyncio.sleep(0.1)
        assert document is not None
        assert patchschema.of_kind(document, f"{group}/v1", "Widget") is None
    finally:
        await client.delete(
            "apiextensions.k8s.io/v1", "CustomResourceDefinition", crd["metadata"]["name"]
        )
    assert await client.openapi_v3("nothing.example.com/v1") is None


async def test_a_name_can_never_reach_another_object_through_the_requests_path(
    client: KubeClient, namespace: str
):
    await client.apply(configmap(namespace, "web"), field_manager="test")
    for name in ("web?x=1", "web#x", "web%3Fx", "web/..", ".", ".."):
        # Absent, or refused as a name (400): never the ConfigMap "web".
        try:
            assert await client.get("v1", "ConfigMap", name, namespace) is None, name
            assert await client.delete("v1", "ConfigMap", name, namespace) is False, name
        except KubeApiError as err:
            assert err.code == 400, (name, err)
    assert await client.get("v1", "ConfigMap", "web", namespace) is not None
    # A namespace is one segment too: never a climb to the collection across namespaces.
    assert await client.get("v1", "ConfigMap", "web", f"{namespace}/..") is None
