"""AppProjects through the API: create, read, update, delete, RBAC, and what a write may not set."""

from __future__ import annotations

import base64
from typing import Any

from tests.integration.api.resources.conftest import ResServer
from tests.support import tetherenv

REPO_PASSWORD = "project-repo-password-value"


def _project(name: str, **spec: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": name},
        "spec": {
            "sourceRepos": ["*"],
            "destinations": [{"server": "*", "namespace": "*"}],
            **spec,
        },
    }


async def test_a_project_is_created_read_listed_updated_and_deleted(res_admin: Any) -> None:
    created = await res_admin.post("/api/v1/projects", json={"project": _project("crud")})
    assert created.status_code == 200, created.text
    assert created.json()["metadata"]["name"] == "crud"

    read = await res_admin.get("/api/v1/projects/crud")
    assert read.status_code == 200
    assert read.json()["spec"]["sourceRepos"] == ["*"]
    listed = await res_admin.get("/api/v1/projects")
    assert "crud" in [p["metadata"]["name"] for p in listed.json()["items"]]

    changed = _project("crud", description="now described")
    updated = await res_admin.put("/api/v1/projects/crud", json={"project": changed})
    assert updated.status_code == 200, updated.text
    assert (await res_admin.get("/api/v1/projects/crud")).json()["spec"]["description"] == (
        "now described"
    )

    deleted = await res_admin.delete("/api/v1/projects/crud")
    assert deleted.status_code == 200, deleted.text
    assert (await res_admin.get("/api/v1/projects/crud")).status_code == 404


async def test_creating_a_different_project_again_needs_upsert(res_admin: Any) -> None:
    first = await res_admin.post("/api/v1/projects", json={"project": _project("twice")})
    assert first.status_code == 200
    same = await res_admin.post("/api/v1/projects", json={"project": _project("twice")})
    assert same.status_code == 200
    other = _project("twice", description="other")
    refused = await res_admin.post("/api/v1/projects", json={"project": other})
    assert refused.status_code == 400
    forced = await res_admin.post("/api/v1/projects", json={"project": other, "upsert": True})
    assert forced.status_code == 200, forced.text
    assert forced.json()["spec"]["description"] == "other"


async def test_projects_need_rbac_before_anything_is_read(
    res_server: ResServer, res_admin: Any
) -> None:
    assert (
        await res_admin.post("/api/v1/projects", json={"project": _project("guarded")})
    ).status_code == 200
    token = res_server.token("project-reader", ("projects", "get", "visible-*"))
    async with res_server.client(token) as reader:
        existing = await reader.get("/api/v1/projects/guarded")
        missing = await reader.get("/api/v1/projects/no-such-project")
        listed = await reader.get("/api/v1/projects")
        deleted = await reader.delete("/api/v1/projects/guarded")
        created = await reader.post("/api/v1/projects", json={"project": _project("visible-x")})
    assert existing.status_code == missing.status_code == 403
    assert existing.json() == missing.json()
    assert listed.json()["items"] == []
    assert deleted.status_code == 403
    assert created.status_code == 403
    assert (await res_admin.get("/api/v1/projects/guarded")).status_code == 200


async def test_a_project_role_may_only_grant_rights_over_its_own_project(res_admin: Any) -> None:
    escalating = _project(
        "roles",
        roles=[
            {
                "name": "ci",
                "policies": ["p, proj:roles:ci, applications, sync, other-project/*, allow"],
            }
        ],
    )
    refused = await res_admin.post("/api/v1/projects", json={"project": escalating})
    assert refused.status_code == 400
    assert "roles/" in refused.json()["message"]
    fine = _project(
        "roles",
        roles=[
            {"name": "ci", "policies": ["p, proj:roles:ci, applications, sync, roles/*, allow"]}
        ],
    )
    assert (await res_admin.post("/api/v1/projects", json={"project": fine})).status_code == 200


async def test_a_project_write_cannot_set_the_issued_tokens(
    res_server: ResServer, res_admin: Any
) -> None:
    issued = [{"iat": 1700000000, "id": "issued-by-server"}]
    project = _project("tokens", roles=[{"name": "ci", "jwtTokens": issued}])
    assert (await res_admin.post("/api/v1/projects", json={"project": project})).status_code == 200
    stored = (await res_admin.get("/api/v1/projects/tokens")).json()
    assert "jwtTokens" not in stored["spec"]["roles"][0]


async def test_the_detailed_project_lists_its_repositories_and_clusters_without_credentials(
    res_server: ResServer, res_admin: Any
) -> None:
    assert (
        await res_admin.post("/api/v1/projects", json={"project": _project("detailed")})
    ).status_code == 200
    repo = await res_admin.post(
        "/api/v1/repositories",
        json={
            "repo": "https://git.example.test/detailed.git",
            "project": "detailed",
            "username": "u",
            "password": REPO_PASSWORD,
        },
    )
    assert repo.status_code == 200, repo.text
    cluster = await res_admin.post(
        "/api/v1/clusters",
        json={
            "server": "https://detailed.example.test",
            "name": "detailed",
            "project": "detailed",
            "config": {"bearerToken": REPO_PASSWORD},
        },
    )
    assert cluster.status_code == 200, cluster.text
    response = await res_admin.get("/api/v1/projects/detailed/detailed")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["project"]["metadata"]["name"] == "detailed"
    assert [r["repo"] for r in body["repositories"]] == ["https://git.example.test/detailed.git"]
    assert [c["server"] for c in body["clusters"]] == ["https://detailed.example.test"]
    assert REPO_PASSWORD not in response.text
    assert base64.b64encode(REPO_PASSWORD.encode()).decode() not in response.text


async def test_a_project_used_by_an_application_is_not_deleted(
    res_server: ResServer, res_admin: Any
) -> None:
    assert (
        await res_admin.post("/api/v1/projects", json={"project": _project("in-use")})
    ).status_code == 200
    with tetherenv.client(res_server.kubeconfig) as kube:
        app = tetherenv.application(
            "uses-project", res_server.namespace, "https://git.example.test/x.git", ".", "x"
        )
        app["spec"]["project"] = "in-use"
        tetherenv.create(kube, app)
    refused = await res_admin.delete("/api/v1/projects/in-use")
    assert refused.status_code == 400
    assert "referenced by 1 applications" in refused.json()["message"]
    assert (await res_admin.get("/api/v1/projects/in-use")).status_code == 200
