"""Clusters through the API: sanitized configs, forbidden looks missing, updates checked twice."""

from __future__ import annotations

import base64
import json
import urllib.parse
from typing import Any

from tests.integration.api.resources.conftest import ResServer
from tests.support import tetherenv
from tether.services import clusters

TOKEN = "cluster-bearer-token-that-must-stay-inside"
PASSWORD = "cluster-password-that-must-stay-inside"


def _path(value: str) -> str:
    return "/api/v1/clusters/" + urllib.parse.quote(value, safe="")


def _secret(server: ResServer, server_url: str) -> dict[str, Any]:
    from lightkube.resources.core_v1 import Secret

    with tetherenv.client(server.kubeconfig) as kube:
        return tetherenv.get(kube, Secret, clusters.secret_name(server_url), server.namespace)


async def _add(client: Any, server_url: str, **fields: Any) -> Any:
    body = {
        "server": server_url,
        "name": fields.pop("name", server_url.split("//")[1].split(".")[0]),
        "config": {"bearerToken": TOKEN, "tlsClientConfig": {"insecure": True}},
        **fields,
    }
    return await client.post("/api/v1/clusters", json=body)


async def test_clusters_are_listed_and_read_without_credentials(
    res_server: ResServer, res_admin: Any
) -> None:
    url = "https://prod.example.test:6443"
    created = await _add(res_admin, url, namespaces=["web", "db"])
    assert created.status_code == 200, created.text
    assert TOKEN not in created.text

    listed = await res_admin.get("/api/v1/clusters")
    assert listed.status_code == 200
    servers = {item["server"]: item for item in listed.json()["items"]}
    assert "https://kubernetes.default.svc" in servers
    assert servers[url] == {
        "server": url,
        "name": "prod",
        "config": {"tlsClientConfig": {"insecure": True}},
        "namespaces": ["web", "db"],
        "clusterResources": False,
    }
    by_name = await res_admin.get(_path("prod"), params={"id.type": "name"})
    by_server = await res_admin.get(_path(url))
    assert by_name.status_code == by_server.status_code == 200
    assert by_name.json() == by_server.json() == servers[url]
    assert TOKEN not in listed.text + by_name.text

    secret = _secret(res_server, url)
    config = json.loads(base64.b64decode(secret["data"]["config"]))
    assert config["bearerToken"] == TOKEN


async def test_a_password_or_key_never_comes_back(res_admin: Any) -> None:
    url = "https://basic.example.test"
    created = await res_admin.post(
        "/api/v1/clusters",
        json={
            "server": url,
            "name": "basic",
            "config": {"username": "admin", "password": PASSWORD},
        },
    )
    assert created.status_code == 200, created.text
    read = await res_admin.get(_path(url))
    assert PASSWORD not in created.text + read.text
    assert "username" not in read.text


async def test_a_cluster_the_caller_may_not_see_looks_exactly_like_a_missing_one(
    res_server: ResServer, res_admin: Any
) -> None:
    url = "https://hidden.example.test"
    assert (await _add(res_admin, url, project="hidden-team")).status_code == 200
    token = res_server.token("cluster-outsider", ("clusters", "*", "other-team/*"))
    async with res_server.client(token) as outsider:
        forbidden = await outsider.get(_path(url))
        by_name = await outsider.get(_path("hidden"), params={"id.type": "name"})
        missing = await outsider.get(_path("https://nothing.example.test"))
        listed = await outsider.get("/api/v1/clusters")
        deleted = await outsider.delete(_path(url))
    assert forbidden.status_code == by_name.status_code == missing.status_code == 403
    assert forbidden.json() == missing.json() == by_name.json()
    assert listed.json()["items"] == []
    assert deleted.status_code == 403
    assert (await res_admin.get(_path(url))).status_code == 200


async def test_moving_a_cluster_into_a_project_needs_rights_on_both(
    res_server: ResServer, res_admin: Any
) -> None:
    url = "https://team.example.test"
    assert (await _add(res_admin, url, project="team-a")).status_code == 200
    token = res_server.token("cluster-team-a", ("clusters", "*", "team-a/*"))
    async with res_server.client(token) as team_a:
        moved = await team_a.put(
            _path(url), params={"updatedFields": "project"}, json={"project": "team-b"}
        )
        renamed = await team_a.put(
            _path(url), params={"updatedFields": "name"}, json={"name": "renamed"}
        )
    assert moved.status_code == 403
    assert renamed.status_code == 200, renamed.text
    after = (await res_admin.get(_path(url))).json()
    assert after["project"] == "team-a"
    assert after["name"] == "renamed"
    secret = _secret(res_server, url)
    kept = json.loads(base64.b64decode(secret["data"]["config"]))
    assert kept["bearerToken"] == TOKEN


async def test_a_credential_plugin_no_administrator_allowed_is_refused(res_admin: Any) -> None:
    response = await res_admin.post(
        "/api/v1/clusters",
        json={
            "server": "https://exec.example.test",
            "name": "exec",
            "config": {"execProviderConfig": {"command": "/bin/sh", "args": ["-c", "id"]}},
        },
    )
    assert response.status_code == 400
    assert (await res_admin.get(_path("https://exec.example.test"))).status_code == 403


async def test_a_cluster_removed_through_the_api_is_gone(res_admin: Any) -> None:
    url = "https://gone.example.test"
    assert (await _add(res_admin, url)).status_code == 200
    deleted = await res_admin.delete(_path(url))
    assert deleted.status_code == 200, deleted.text
    assert (await res_admin.get(_path(url))).status_code == 403
    built_in = await res_admin.delete(_path("https://kubernetes.default.svc"))
    assert built_in.status_code == 400
