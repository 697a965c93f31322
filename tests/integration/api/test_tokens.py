"""API keys, project-role tokens, anonymous access and ``can-i`` (AC-03, AC-05)."""

from __future__ import annotations

import asyncio
import datetime
from typing import Any

import jwt

from tests.integration.api.conftest import Api
from tether.model import application


async def settle() -> None:
    """Let the settings cache (1 s) see what the test just wrote."""
    await asyncio.sleep(1.1)


async def can_i(api: Api, token: str, resource: str, action: str, obj: str) -> str:
    async with api.client(token) as http:
        answer = await http.get(f"/api/v1/account/can-i/{resource}/{action}/{obj}")
    assert answer.status_code == 200, answer.text
    value: str = answer.json()["value"]
    return value


async def test_an_api_key_works_until_it_is_deleted(api: Api) -> None:
    await api.put("ConfigMap", "argocd-cm", {"accounts.ci": "apiKey, login"})
    await settle()
    admin = await api.login("admin", await api.admin_password())
    async with api.client(admin) as http:
        created = await http.post(
            "/api/v1/account/ci/token", json={"id": "deploy", "expiresIn": 600}
        )
        again = await http.post("/api/v1/account/ci/token", json={"id": "deploy"})
        own = await http.post("/api/v1/account/admin/token", json={})
        listed = await http.get("/api/v1/account/ci")
    assert created.status_code == 200, created.text
    assert again.status_code == 400
    assert own.status_code == 400  # admin has only the login capability
    key = created.json()["token"]
    claims = jwt.decode(key, options={"verify_signature": False})
    assert claims["sub"] == "ci:apiKey" and claims["jti"] == "deploy"
    assert claims["exp"] - claims["nbf"] in (600, 599)
    assert [t["id"] for t in listed.json()["tokens"]] == ["deploy"]
    assert key not in listed.text
    async with api.client(key) as http:
        info = (await http.get("/api/v1/session/userinfo")).json()
        assert info["username"] == "ci" and info["loggedIn"]
        # The account manages its own keys without any RBAC grant.
        mine = await http.post("/api/v1/account/ci/token", json={"id": "second"})
        assert mine.status_code == 200
        assert (await http.get("/api/v1/account/admin")).status_code == 403
    async with api.client(admin) as http:
        assert (await http.delete("/api/v1/account/ci/token/deploy")).status_code == 200
    async with api.client(key) as http:
        answer = await http.get("/api/v1/session/userinfo")
        assert answer.json() == {"loggedIn": False}
        refused = await http.get("/api/v1/account/ci")
    assert refused.status_code == 401
    assert refused.json()["message"] == "invalid session: account token has been revoked"


def project(namespace: str) -> dict[str, Any]:
    return {
        "apiVersion": application.API_VERSION,
        "kind": "AppProject",
        "metadata": {"name": "team", "namespace": namespace},
        "spec": {
            "sourceRepos": ["*"],
            "destinations": [{"server": "*", "namespace": "*"}],
            "roles": [
                {
                    "name": "ci",
                    "policies": ["p, proj:team:ci, applications, sync, team/*, allow"],
                    "groups": ["team-ci"],
                }
            ],
        },
    }


async def test_a_project_role_token_acts_only_in_its_project_until_revoked(api: Api) -> None:
    namespace = api.runtime.settings.control_plane_namespace
    await api.runtime.cluster.create(project(namespace))
    admin = await api.login("admin", await api.admin_password())
    async with api.client(admin) as http:
        created = await http.post("/api/v1/projects/team/roles/ci/token", json={"id": "build-1"})
        missing_role = await http.post("/api/v1/projects/team/roles/ops/token", json={})
        missing = await http.post("/api/v1/projects/nope/roles/ci/token", json={})
    assert created.status_code == 200, created.text
    assert missing_role.status_code == 404
    assert missing.status_code == 404
    token = created.json()["token"]
    stored = await api.runtime.cluster.get(application.API_VERSION, "AppProject", "team", namespace)
    assert stored is not None
    items = stored["status"]["jwtTokensByRole"]["ci"]["items"]
    assert [item["id"] for item in items] == ["build-1"]
    assert token not in str(stored)
    assert await can_i(api, token, "applications", "sync", "team/web") == "yes"
    assert await can_i(api, token, "projects", "get", "team") == "yes"
    assert await can_i(api, token, "applications", "delete", "team/web") == "no"
    assert await can_i(api, token, "applications", "sync", "default/web") == "no"
    assert await can_i(api, token, "accounts", "get", "admin") == "no"
    async with api.client(token) as http:
        # A role token may not mint more tokens for its own project.
        assert (await http.post("/api/v1/projects/team/roles/ci/token", json={})).status_code == 403
    async with api.client(admin) as http:
        gone = await http.delete(
            f"/api/v1/projects/team/roles/ci/token/{items[0]['iat']}?id=build-1"
        )
    assert gone.status_code == 200
    await settle()
    async with api.client(token) as http:
        answer = await http.get("/api/v1/account/can-i/applications/sync/team/web")
    assert answer.status_code == 401
    assert answer.json()["message"] == "invalid session: project token has been revoked"


async def test_anonymous_access_gives_a_forged_token_only_the_default_role(api: Api) -> None:
    await api.put("ConfigMap", "argocd-cm", {"users.anonymous.enabled": "true"})
    await api.put("ConfigMap", "argocd-rbac-cm", {"policy.default": "role:readonly"})
    await settle()
    now = int(datetime.datetime.now(datetime.UTC).timestamp())
    forged = jwt.encode(
        {"iss": "argocd", "sub": "admin:login", "jti": "x", "iat": now, "nbf": now},
        b"an attacker's guess at the key!!",
    )
    for token in (forged, ""):
        assert await can_i(api, token, "applications", "get", "default/a") == "yes"
        assert await can_i(api, token, "applications", "delete", "default/a") == "no"
        assert await can_i(api, token, "accounts", "update", "admin") == "no"
        async with api.client(token) as http:
            assert (await http.get("/api/v1/session/userinfo")).json() == {"loggedIn": False}
            assert list((await http.get("/api/version")).json()) == ["Version"]


async def test_rbac_from_argocd_rbac_cm_decides_can_i_and_account_listing(api: Api) -> None:
    await api.put("ConfigMap", "argocd-cm", {"accounts.alice": "login"})
    await api.put(
        "ConfigMap",
        "argocd-rbac-cm",
        {
            "policy.csv": "p, alice, applications, sync, team/*, allow\n"
            "p, alice, applications, sync, team/locked, deny\n"
            "p, alice, applications, action/apps/Deployment/restart, team/*, allow\n",
            "policy.ops.csv": "p, alice, accounts, get, alice, allow",
        },
    )
    await settle()
    admin = await api.login("admin", await api.admin_password())
    async with api.client(admin) as http:
        set_pw = await http.put(
            "/api/v1/account/password",
            json={
                "name": "alice",
                "currentPassword": await api.admin_password(),
                "newPassword": "alice-password",
            },
        )
        assert set_pw.status_code == 200, set_pw.text
        everyone = (await http.get("/api/v1/account")).json()["items"]
        unknown = await http.get("/api/v1/account/can-i/secrets/get/x")
    assert [a["name"] for a in everyone] == ["admin", "alice"]
    assert unknown.status_code == 400
    alice = await api.login("alice", "alice-password")
    assert await can_i(api, alice, "applications", "sync", "team/web") == "yes"
    assert await can_i(api, alice, "applications", "sync", "team/locked") == "no"
    assert await can_i(api, alice, "applications", "sync", "other/web") == "no"
    # An action with slashes travels as one escaped segment, as Argo CD's clients send it.
    restart, pause = "action%2Fapps%2FDeployment%2Frestart", "action%2Fapps%2FDeployment%2Fpause"
    assert await can_i(api, alice, "applications", restart, "team/web") == "yes"
    assert await can_i(api, alice, "applications", pause, "team/web") == "no"
    assert await can_i(api, alice, "applications", restart, "team%2Fns%2Fweb") == "yes"
    async with api.client(alice) as http:
        mine = (await http.get("/api/v1/account")).json()["items"]
        forbidden = await http.get("/api/v1/account/admin")
        ghost = await http.get("/api/v1/account/ghost")
        other_pw = await http.put(
            "/api/v1/account/password",
            json={
                "name": "admin",
                "currentPassword": "alice-password",
                "newPassword": "taken-over!",
            },
        )
    assert [a["name"] for a in mine] == ["alice"]
    assert forbidden.status_code == 403
    assert ghost.status_code == 403  # missing and forbidden look the same
    assert other_pw.status_code == 403


async def test_a_disabled_account_is_refused_only_after_its_right_password(api: Api) -> None:
    password = await api.admin_password()
    await api.put("ConfigMap", "argocd-cm", {"admin.enabled": "false"})
    await settle()
    async with api.client() as http:
        right = await http.post("/api/v1/session", json={"username": "admin", "password": password})
        wrong = await http.post("/api/v1/session", json={"username": "admin", "password": "nope"})
    assert right.status_code == wrong.status_code == 401
    assert right.json() == wrong.json()
