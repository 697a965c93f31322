"""Creating, replacing, patching and deleting Applications through the API."""

from __future__ import annotations

import json
from typing import Any

import pytest
from lightkube import Client

from tests.integration.api.appsupport import REPO, listed, make_app
from tests.integration.api.conftest import ApiServer
from tests.support import tetherenv

pytestmark = pytest.mark.timeout(60)

DIFFERENT = "existing application spec is different, use upsert flag to force update"


def body_of(namespace: str, name: str, path: str = "app", **spec: Any) -> dict[str, Any]:
    return tetherenv.application(name, namespace, REPO, path, namespace, **spec)


def stored(kube: Client, namespace: str, name: str) -> dict[str, Any]:
    return tetherenv.get(kube, tetherenv.Application, name, namespace)


async def test_a_create_stores_the_app_without_the_operation_it_carried(
    api_server: ApiServer, kube: Client
) -> None:
    ns = api_server.namespace
    token = api_server.user("alice", ("create", "default/*"), ("get", "default/*"))
    body = body_of(ns, "web")
    body["operation"] = {"sync": {"revision": "main"}, "initiatedBy": {"username": "mallory"}}
    body["status"] = {"sync": {"status": "Synced"}}
    async with api_server.client(token) as client:
        response = await client.post("/api/v1/applications", json=body)
    assert response.status_code == 200, response.text
    assert response.json()["metadata"]["uid"]
    app = stored(kube, ns, "web")
    assert "operation" not in app
    assert not app.get("status")
    assert app["spec"]["source"]["repoURL"] == REPO


async def test_creating_the_same_app_again_returns_it_and_a_different_one_needs_upsert(
    api_server: ApiServer, kube: Client
) -> None:
    ns = api_server.namespace
    token = api_server.user("alice", ("create", "default/*"), ("get", "default/*"))
    async with api_server.client(token) as client:
        first = await client.post("/api/v1/applications", json=body_of(ns, "web"))
        again = await client.post("/api/v1/applications", json=body_of(ns, "web"))
        assert again.status_code == 200, again.text
        assert again.json()["metadata"]["uid"] == first.json()["metadata"]["uid"]

        changed = body_of(ns, "web", path="elsewhere")
        refused = await client.post("/api/v1/applications", json=changed)
        assert refused.status_code == 400
        assert refused.json()["message"] == DIFFERENT
        no_update = await client.post("/api/v1/applications?upsert=true", json=changed)
        assert no_update.status_code == 403
        assert stored(kube, ns, "web")["spec"]["source"]["path"] == "app"

        api_server.authority.grant("alice", "applications", "update", "default/*")
        upserted = await client.post("/api/v1/applications?upsert=true", json=changed)
        assert upserted.status_code == 200, upserted.text
    assert stored(kube, ns, "web")["spec"]["source"]["path"] == "elsewhere"


async def test_a_create_is_refused_without_permission_bad_input_or_an_unserved_namespace(
    api_server: ApiServer, kube: Client
) -> None:
    ns = api_server.namespace
    make_app(kube, ns, "theirs", project="hidden")
    token = api_server.user("alice", ("create", "default/*"), ("get", "default/*"))
    async with api_server.client(token) as client:
        other_project = await client.post(
            "/api/v1/applications", json=body_of(ns, "x", project="team")
        )
        assert other_project.status_code == 403
        broken = body_of(ns, "broken")
        del broken["spec"]["destination"]
        invalid = await client.post("/api/v1/applications", json=broken)
        assert invalid.status_code == 400
        assert "spec.destination" in invalid.json()["message"]
        unserved = await client.post("/api/v1/applications", json=body_of("kube-system", "x"))
        assert unserved.status_code == 403
        # An existing app the caller may not see stays invisible, even to a create.
        hidden = await client.post("/api/v1/applications", json=body_of(ns, "theirs"))
        assert hidden.status_code == 403
        not_json = await client.post(
            "/api/v1/applications", content=b"x", headers={"Content-Type": "text/plain"}
        )
        assert not_json.status_code == 415


async def test_update_and_spec_replace_only_what_a_user_owns(
    api_server: ApiServer, kube: Client
) -> None:
    ns = api_server.namespace
    make_app(kube, ns, "web")
    tetherenv.patch_app(kube, ns, "web", {"status": {"sync": {"status": "Synced"}}})
    token = api_server.user("alice", ("get", "default/*"), ("update", "default/*"))
    async with api_server.client(token) as client:
        body = body_of(ns, "web", path="v2")
        body["metadata"]["labels"] = {"team": "shop"}
        body["operation"] = {"sync": {}}
        body["status"] = {"sync": {"status": "OutOfSync"}}
        response = await client.put("/api/v1/applications/web", json=body)
        assert response.status_code == 200, response.text
        app = stored(kube, ns, "web")
        assert app["spec"]["source"]["path"] == "v2"
        assert app["metadata"]["labels"] == {"team": "shop"}
        assert app["status"]["sync"]["status"] == "Synced"
        assert "operation" not in app

        spec = dict(app["spec"], source={**app["spec"]["source"], "path": "v3"})
        response = await client.put("/api/v1/applications/web/spec", json=spec)
        assert response.status_code == 200, response.text
        assert response.json()["source"]["path"] == "v3"

        # Moving the app to a project the caller may not update is refused.
        moved = body_of(ns, "web", project="team")
        refused = await client.put("/api/v1/applications/web", json=moved)
        assert refused.status_code == 403
        assert stored(kube, ns, "web")["spec"]["project"] == "default"
        renamed = await client.put("/api/v1/applications/web", json=body_of(ns, "other"))
        assert renamed.status_code == 400


async def test_patches_change_the_spec_but_never_status_or_operation(
    api_server: ApiServer, kube: Client
) -> None:
    ns = api_server.namespace
    make_app(kube, ns, "web")
    token = api_server.user("alice", ("get", "default/*"), ("update", "default/*"))
    async with api_server.client(token) as client:
        merge = {
            "patch": json.dumps({"spec": {"source": {"path": "merged"}}}),
            "patchType": "merge",
        }
        response = await client.patch("/api/v1/applications/web", json=merge)
        assert response.status_code == 200, response.text
        assert stored(kube, ns, "web")["spec"]["source"]["path"] == "merged"

        ops = [{"op": "replace", "path": "/spec/source/path", "value": "patched"}]
        response = await client.patch(
            "/api/v1/applications/web", json={"patch": json.dumps(ops), "patchType": "json"}
        )
        assert response.status_code == 200, response.text
        assert response.json()["spec"]["source"]["path"] == "patched"

        sneaky = [{"op": "add", "path": "/operation", "value": {"sync": {}}}]
        refused = await client.patch(
            "/api/v1/applications/web", json={"patch": json.dumps(sneaky), "patchType": "json"}
        )
        assert refused.status_code == 400
        assert "operation" in refused.json()["message"]
        status = {"patch": json.dumps({"status": {"health": {}}}), "patchType": "merge"}
        refused = await client.patch("/api/v1/applications/web", json=status)
        assert refused.status_code == 400
        assert "operation" not in stored(kube, ns, "web")


async def test_delete_cascades_by_default_and_leaves_resources_without_cascade(
    api_server: ApiServer, kube: Client
) -> None:
    ns = api_server.namespace
    for name in ("cascaded", "background", "orphaning", "kept"):
        make_app(kube, ns, name)
    token = api_server.user("alice", ("get", "default/*"), ("delete", "default/*"))
    viewer = api_server.user("bob", ("get", "default/*"))
    async with api_server.client(token) as client:
        await listed(client, 4)
        response = await client.delete("/api/v1/applications/cascaded")
        assert response.status_code == 200, response.text
        assert response.json() == {}
        app = stored(kube, ns, "cascaded")  # held until the controller deletes its resources
        assert app["metadata"]["finalizers"] == ["resources-finalizer.argocd.argoproj.io"]
        assert app["metadata"]["deletionTimestamp"]

        response = await client.delete(
            "/api/v1/applications/background", params={"propagationPolicy": "background"}
        )
        assert response.status_code == 200, response.text
        finalizers = stored(kube, ns, "background")["metadata"]["finalizers"]
        assert finalizers == ["resources-finalizer.argocd.argoproj.io/background"]

        response = await client.delete("/api/v1/applications/orphaning?cascade=false")
        assert response.status_code == 200, response.text
        assert not tetherenv.exists(kube, tetherenv.Application, "orphaning", ns)

        both = await client.delete(
            "/api/v1/applications/kept",
            params={"cascade": "false", "propagationPolicy": "foreground"},
        )
        assert both.status_code == 400
        unknown = await client.delete("/api/v1/applications/kept?propagationPolicy=orphan")
        assert unknown.status_code == 400
    async with api_server.client(viewer) as client:
        refused = await client.delete("/api/v1/applications/kept")
        assert refused.status_code == 403
    assert tetherenv.exists(kube, tetherenv.Application, "kept", ns)


async def test_a_create_is_validated_against_its_project_unless_told_not_to(
    api_server: ApiServer, kube: Client
) -> None:
    ns = api_server.namespace
    project = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AppProject",
        "metadata": {"name": "narrow", "namespace": ns},
        "spec": {
            "sourceRepos": ["https://git.example.test/allowed.git"],
            "destinations": [{"server": "*", "namespace": "allowed"}],
        },
    }
    tetherenv.create(kube, project)
    token = api_server.user("alice", ("*", "*"))
    async with api_server.client(token) as client:
        refused = await client.post(
            "/api/v1/applications", json=body_of(ns, "web", project="narrow")
        )
        assert refused.status_code == 400
        message = refused.json()["message"]
        assert "repository" in message and "destination" in message, message
        missing = await client.post("/api/v1/applications", json=body_of(ns, "x", project="nope"))
        assert missing.status_code == 400
        assert "does not exist" in missing.json()["message"]
        unchecked = await client.post(
            "/api/v1/applications?validate=false", json=body_of(ns, "web", project="narrow")
        )
        assert unchecked.status_code == 200, unchecked.text
