"""Sync, rollback, terminate and refresh over the API, carried out by a real controller."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from lightkube import Client
from lightkube.resources.core_v1 import ConfigMap

from tests.integration.api.conftest import ApiServer
from tests.support import tetherenv

pytestmark = pytest.mark.timeout(120)

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web}\ndata: {a: '%s'}\n"


def config_value(kube: Client, namespace: str) -> str | None:
    if not tetherenv.exists(kube, ConfigMap, "web", namespace):
        return None
    return str(tetherenv.get(kube, ConfigMap, "web", namespace)["data"]["a"])


async def finished(kube: Client, namespace: str) -> dict[str, Any]:
    app: dict[str, Any] = await tetherenv.eventually(
        lambda: tetherenv.finished_app(kube, namespace, "web"), 60, "the operation finished"
    )
    return app


async def test_a_sync_over_the_api_is_carried_out_by_the_controller_as_the_caller(
    api_server: ApiServer, kube: Client, tmp_path: Path
) -> None:
    ns = api_server.namespace
    repo = tetherenv.serve_repo(tmp_path / "git", {"app/cm.yaml": CM % "1"})
    alice = api_server.user(
        "alice", ("get", "default/*"), ("create", "default/*"), ("sync", "default/*")
    )
    viewer = api_server.user("bob", ("get", "default/*"))
    body = tetherenv.application("web", ns, repo.url, "app", ns)
    try:
        async with api_server.client(alice) as client, api_server.client(viewer) as bob:
            created = await client.post("/api/v1/applications", json=body)
            assert created.status_code == 200, created.text
            async with tetherenv.running_controller(api_server.kubeconfig, ns, tmp_path / "cache"):
                await tetherenv.eventually(
                    lambda: tetherenv.sync_status(kube, ns, "web") == "OutOfSync", 60, "OutOfSync"
                )
                refused = await bob.post("/api/v1/applications/web/sync", json={})
                assert refused.status_code == 403
                unsupported = await client.post(
                    "/api/v1/applications/web/sync", json={"manifests": ["kind: ConfigMap"]}
                )
                assert unsupported.status_code == 400
                assert "manifests" in unsupported.json()["message"]

                request = {
                    "prune": True,
                    "strategy": {"apply": {"force": False}},
                    "syncOptions": {"items": ["CreateNamespace=false"]},
                    "infos": [{"name": "reason", "value": "api test"}],
                    "retryStrategy": {"limit": 2, "backoff": {"duration": "1s", "factor": 2}},
                }
                response = await client.post("/api/v1/applications/web/sync", json=request)
                assert response.status_code == 200, response.text
                operation = response.json()["operation"]
                assert operation["initiatedBy"] == {"username": "alice"}
                assert operation["info"] == [{"name": "reason", "value": "api test"}]
                assert operation["retry"]["limit"] == 2
                assert operation["sync"]["syncOptions"] == ["CreateNamespace=false"]

                app = await finished(kube, ns)
                state = app["status"]["operationState"]
                assert state["phase"] == "Succeeded", state
                assert state["operation"]["initiatedBy"]["username"] == "alice"
                assert config_value(kube, ns) == "1"
                first = app["status"]["history"][-1]

                # A new commit: a refresh through the API waits for the controller to compare again.
                sha = repo.commit({"app/cm.yaml": CM % "2"})
                refreshed = await client.get("/api/v1/applications/web?refresh=normal")
                assert refreshed.status_code == 200, refreshed.text
                annotations = refreshed.json()["metadata"].get("annotations") or {}
                assert "argocd.argoproj.io/refresh" not in annotations
                assert refreshed.json()["status"]["sync"]["revision"] == sha

                response = await client.post("/api/v1/applications/web/sync", json={})
                assert response.status_code == 200, response.text
                await finished(kube, ns)
                assert config_value(kube, ns) == "2"

                response = await client.post(
                    "/api/v1/applications/web/rollback", json={"id": first["id"], "prune": True}
                )
                assert response.status_code == 200, response.text
                assert response.json()["operation"]["initiatedBy"] == {"username": "alice"}
                await finished(kube, ns)
                assert config_value(kube, ns) == "1"

                unknown = await client.post("/api/v1/applications/web/rollback", json={"id": 9999})
                assert unknown.status_code == 400
                idle = await client.delete("/api/v1/applications/web/operation")
                assert idle.status_code == 400
                assert "in progress" in idle.json()["message"]
    finally:
        repo.server.stop()


async def test_a_sync_in_a_closed_window_is_forbidden(api_server: ApiServer, kube: Client) -> None:
    ns = api_server.namespace
    window = {"kind": "deny", "schedule": "* * * * *", "duration": "1h", "applications": ["*"]}
    project = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AppProject",
        "metadata": {"name": "frozen", "namespace": ns},
        "spec": {
            "sourceRepos": ["*"],
            "destinations": [{"server": "*", "namespace": "*"}],
            "syncWindows": [window],
        },
    }
    tetherenv.create(kube, project)
    body = tetherenv.application("web", ns, "https://git.example.test/x.git", "app", ns)
    body["spec"]["project"] = "frozen"
    tetherenv.create(kube, body)
    token = api_server.user("alice", ("get", "frozen/*"), ("sync", "frozen/*"))
    async with api_server.client(token) as client:
        response = await client.post("/api/v1/applications/web/sync", json={})
    assert response.status_code == 403
    assert "sync window" in response.json()["message"]
    assert "operation" not in tetherenv.get(kube, tetherenv.Application, "web", ns)
