"""Repositories through the API: write-only credentials; hidden repositories look missing."""

from __future__ import annotations

import base64
import urllib.parse
from typing import Any

from tests.integration.api.resources.conftest import ResServer
from tests.support import tetherenv

PASSWORD = "s3cret-repo-password-value"


def _path(url: str) -> str:
    return "/api/v1/repositories/" + urllib.parse.quote(url, safe="")


def _secret_data(server: ResServer, name: str) -> dict[str, str]:
    from lightkube.resources.core_v1 import Secret

    with tetherenv.client(server.kubeconfig) as kube:
        secret = tetherenv.get(kube, Secret, name, server.namespace)
    return {k: base64.b64decode(v).decode() for k, v in (secret.get("data") or {}).items()}


def _repo_secrets(server: ResServer) -> list[dict[str, Any]]:
    from lightkube.resources.core_v1 import Secret

    with tetherenv.client(server.kubeconfig) as kube:
        found = [
            s.to_dict()
            for s in kube.list(
                Secret,
                namespace=server.namespace,
                labels={"argocd.argoproj.io/secret-type": "repository"},
            )
        ]
    return found


async def test_a_created_repository_is_listed_without_its_password_which_the_secret_holds(
    res_server: ResServer, res_admin: Any
) -> None:
    url = "https://git.example.test/team/app.git"
    created = await res_admin.post(
        "/api/v1/repositories",
        json={"repo": url, "username": "bot", "password": PASSWORD, "name": "app"},
    )
    assert created.status_code == 200, created.text
    assert PASSWORD not in created.text
    assert created.json() == {"repo": url, "type": "git", "name": "app", "username": "bot"}

    listed = await res_admin.get("/api/v1/repositories")
    assert listed.status_code == 200
    assert PASSWORD not in listed.text
    assert [item["repo"] for item in listed.json()["items"]] == [url]

    one = await res_admin.get(_path(url))
    assert one.status_code == 200, one.text
    assert "password" not in one.json()

    secret = next(s for s in _repo_secrets(res_server) if "url" in (s.get("data") or {}))
    data = _secret_data(res_server, secret["metadata"]["name"])
    assert data["password"] == PASSWORD
    assert data["url"] == url


async def test_creating_a_different_repository_again_needs_upsert(
    res_server: ResServer, res_admin: Any
) -> None:
    url = "https://git.example.test/team/upsert.git"
    first = await res_admin.post("/api/v1/repositories", json={"repo": url, "username": "a"})
    assert first.status_code == 200, first.text
    again = await res_admin.post("/api/v1/repositories", json={"repo": url, "username": "a"})
    assert again.status_code == 200
    changed = await res_admin.post("/api/v1/repositories", json={"repo": url, "username": "b"})
    assert changed.status_code == 400
    forced = await res_admin.post(
        "/api/v1/repositories", params={"upsert": "true"}, json={"repo": url, "username": "b"}
    )
    assert forced.status_code == 200, forced.text
    assert forced.json()["username"] == "b"


async def test_a_repository_field_tether_does_not_honour_is_refused(res_admin: Any) -> None:
    response = await res_admin.post(
        "/api/v1/repositories",
        json={"repo": "https://git.example.test/x.git", "githubAppPrivateKey": "KEY-MATERIAL"},
    )
    assert response.status_code == 400
    assert "githubAppPrivateKey" in response.json()["message"]
    assert "KEY-MATERIAL" not in response.text


async def test_a_hidden_repository_looks_exactly_like_a_missing_one(
    res_server: ResServer, res_admin: Any
) -> None:
    hidden = "https://git.example.test/secret-team/hidden.git"
    created = await res_admin.post(
        "/api/v1/repositories", json={"repo": hidden, "project": "secret-team"}
    )
    assert created.status_code == 200, created.text
    token = res_server.token("repo-outsider", ("repositories", "get", "other-team/*"))
    async with res_server.client(token) as outsider:
        forbidden = await outsider.get(_path(hidden))
        missing = await outsider.get(_path("https://git.example.test/nothing/here.git"))
        listed = await outsider.get("/api/v1/repositories")
        deleted = await outsider.delete(_path(hidden))
    assert forbidden.status_code == missing.status_code == 403
    assert forbidden.json() == missing.json()
    assert listed.json()["items"] == []
    assert deleted.status_code == 403
    still = await res_admin.get(_path(hidden))
    assert still.status_code == 200


async def test_a_repository_update_is_checked_against_its_old_and_new_project(
    res_server: ResServer, res_admin: Any
) -> None:
    url = "https://git.example.test/alpha/service.git"
    created = await res_admin.post("/api/v1/repositories", json={"repo": url, "project": "alpha"})
    assert created.status_code == 200, created.text
    token = res_server.token("repo-alpha", ("repositories", "*", "alpha/*"))
    async with res_server.client(token) as alpha_admin:
        moved = await alpha_admin.put(_path(url), json={"repo": url, "project": "beta"})
        kept = await alpha_admin.put(
            _path(url), json={"repo": url, "project": "alpha", "username": "ci"}
        )
    assert moved.status_code == 403
    assert kept.status_code == 200, kept.text
    assert kept.json()["username"] == "ci"


async def test_an_unauthenticated_caller_gets_401(res_server: ResServer) -> None:
    async with res_server.client(None) as anonymous:
        response = await anonymous.get("/api/v1/repositories")
    assert response.status_code == 401
