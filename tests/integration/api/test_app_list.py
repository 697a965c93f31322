"""``GET /api/v1/applications`` (list) and ``/{name}`` (one app) over a real control plane."""

from __future__ import annotations

from typing import Any

import pytest
from lightkube import Client

from tests.integration.api.appsupport import REPO, listed, make_app, names
from tests.integration.api.conftest import ApiServer
from tests.support import tetherenv
from tether.api.routes import applications

pytestmark = pytest.mark.timeout(60)


async def test_the_list_holds_only_apps_the_caller_may_get_sorted_by_name(
    api_server: ApiServer, kube: Client
) -> None:
    ns = api_server.namespace
    for name, project in (("web", "default"), ("api", "default"), ("secret", "hidden")):
        make_app(kube, ns, name, project=project)
    token = await api_server.user("alice", ("get", "default/*"))
    async with api_server.client(token) as client:
        body = await listed(client, 2)
    assert names(body) == ["api", "web"]
    assert body["metadata"]["resourceVersion"].isdigit()
    assert body["items"][0]["spec"]["source"]["path"] == "app"


async def test_an_empty_list_has_an_empty_items_array(api_server: ApiServer) -> None:
    token = await api_server.user("nobody")
    async with api_server.client(token) as client:
        response = await client.get("/api/v1/applications")
    assert response.status_code == 200
    assert response.json()["items"] == []


async def test_a_list_without_a_token_is_refused_with_401(api_server: ApiServer) -> None:
    async with api_server.client() as client:
        response = await client.get("/api/v1/applications")
    assert response.status_code == 401
    assert response.json()["code"] == 16


async def test_projects_selector_search_name_and_repo_filter_the_list(
    api_server: ApiServer, kube: Client
) -> None:
    ns = api_server.namespace
    make_app(kube, ns, "shop-web", labels={"team": "shop", "tier": "web"})
    make_app(kube, ns, "shop-db", labels={"team": "shop", "tier": "db"})
    make_app(kube, ns, "blog", project="content", labels={"team": "blog"})
    make_app(kube, ns, "other-repo", repo="https://git.example.test/other.git")
    token = await api_server.user("alice", ("get", "*"))
    async with api_server.client(token) as client:
        await listed(client, 4)

        async def pick(params: Any) -> list[str]:
            response = await client.get("/api/v1/applications", params=params)
            assert response.status_code == 200, response.text
            return names(response.json())

        assert await pick({"projects": "content"}) == ["blog"]
        assert await pick([("projects", "content"), ("projects", "default")]) == [
            "blog",
            "other-repo",
            "shop-db",
            "shop-web",
        ]
        assert await pick({"project": "content"}) == ["blog"]  # the legacy spelling
        assert await pick({"selector": "team=shop"}) == ["shop-db", "shop-web"]
        assert await pick({"selector": "team=shop,tier!=db"}) == ["shop-web"]
        assert await pick({"selector": "team in (blog,shop),tier notin (web)"}) == [
            "blog",
            "shop-db",
        ]
        assert await pick({"selector": "!team"}) == ["other-repo"]
        assert await pick({"selector": "tier"}) == ["shop-db", "shop-web"]
        assert await pick({"search": "SHOP"}) == ["shop-db", "shop-web"]
        assert await pick({"name": "blog"}) == ["blog"]
        assert await pick({"repo": "https://git.example.test/other.git"}) == ["other-repo"]
        assert await pick({"appNamespace": api_server.namespace, "name": "blog"}) == ["blog"]
        bad = await client.get("/api/v1/applications", params={"selector": "team in (shop"})
        assert bad.status_code == 400
        assert "selector" in bad.json()["message"]
        elsewhere = await client.get("/api/v1/applications", params={"appNamespace": "kube-system"})
        assert elsewhere.status_code == 403


async def test_pages_follow_continue_tokens_and_count_what_remains(
    api_server: ApiServer, kube: Client
) -> None:
    ns = api_server.namespace
    for i in range(7):
        make_app(kube, ns, f"app-{i}", project="default" if i != 3 else "hidden")
    token = await api_server.user("alice", ("get", "default/*"))
    async with api_server.client(token) as client:
        await listed(client, 6)
        seen: list[str] = []
        remaining: list[int] = []
        params: dict[str, str | int] = {"limit": 4}
        while True:
            response = await client.get("/api/v1/applications", params=params)
            body = response.json()
            seen += names(body)
            token_ = body["metadata"].get("continue")
            if not token_:
                assert "remainingItemCount" not in body["metadata"]
                break
            remaining.append(body["metadata"]["remainingItemCount"])
            params = {"limit": 4, "continue": token_}
        assert seen == ["app-0", "app-1", "app-2", "app-4", "app-5", "app-6"]
        assert remaining == [2]  # the hidden app-3 is neither listed nor counted
        bad = await client.get("/api/v1/applications", params={"continue": "not-a-token"})
        assert bad.status_code == 400


async def test_fields_keeps_only_the_asked_paths(api_server: ApiServer, kube: Client) -> None:
    make_app(kube, api_server.namespace, "web")
    token = await api_server.user("alice", ("get", "*"))
    async with api_server.client(token) as client:
        await listed(client, 1)
        response = await client.get(
            "/api/v1/applications", params={"fields": "items.metadata.name,items.spec.project"}
        )
    item = {"metadata": {"name": "web"}, "spec": {"project": "default"}}
    assert response.json() == {"items": [item]}


async def test_a_forbidden_app_looks_exactly_like_a_missing_one(
    api_server: ApiServer, kube: Client
) -> None:
    make_app(kube, api_server.namespace, "secret", project="hidden")
    make_app(kube, api_server.namespace, "open")
    token = await api_server.user("alice", ("get", "default/*"))
    async with api_server.client(token) as client:
        await listed(client, 1)
        shown = await client.get("/api/v1/applications/open")
        assert shown.status_code == 200
        assert shown.json()["metadata"]["name"] == "open"
        forbidden = await client.get("/api/v1/applications/secret")
        missing = await client.get("/api/v1/applications/nothing-here")
        assert forbidden.status_code == missing.status_code == 403
        assert forbidden.json() == missing.json()
        # Naming the project: both are "not found", and still indistinguishable.
        forbidden = await client.get("/api/v1/applications/secret", params={"project": "default"})
        missing = await client.get("/api/v1/applications/nothing", params={"project": "default"})
        assert forbidden.status_code == missing.status_code == 404
        assert forbidden.json()["message"].replace("secret", "X") == missing.json()[
            "message"
        ].replace("nothing", "X")


async def test_past_its_budget_a_page_gives_a_token_but_no_count_and_no_app_is_lost(
    api_server: ApiServer, kube: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(applications, "REMAINING_COUNT_BUDGET", 2)
    ns = api_server.namespace
    hidden = {"app-2", "app-3", "app-4"}
    for i in range(10):
        name = f"app-{i}"
        make_app(kube, ns, name, project="hidden" if name in hidden else "default")
    token = await api_server.user("alice", ("get", "default/*"))
    async with api_server.client(token) as client:
        await listed(client, 7)
        pages: list[tuple[list[str], int | None]] = []
        params: dict[str, str | int] = {"limit": 2}
        while True:
            body = (await client.get("/api/v1/applications", params=params)).json()
            pages.append((names(body), body["metadata"].get("remainingItemCount")))
            if not body["metadata"].get("continue"):
                break
            params = {"limit": 2, "continue": body["metadata"]["continue"]}
    assert pages == [
        (["app-0", "app-1"], None),  # two hidden apps spent the budget: no count
        (["app-5", "app-6"], None),
        (["app-7", "app-8"], 1),  # the end was reached within the budget: exact
        (["app-9"], None),
    ]


def make_deployed(
    kube: Client,
    namespace: str,
    name: str,
    *,
    sync: str,
    health: str,
    project: str = "default",
    server: str = "https://kubernetes.default.svc",
    cluster_name: str = "",
    dest_namespace: str = "web",
) -> None:
    """An app with a destination and a status, as a controller would have written it."""
    body = tetherenv.application(name, namespace, REPO, "app", dest_namespace, project=project)
    body["spec"]["destination"] = (
        {"name": cluster_name, "namespace": dest_namespace}
        if cluster_name
        else {"server": server, "namespace": dest_namespace}
    )
    body["status"] = {"sync": {"status": sync}, "health": {"status": health}}
    tetherenv.create(kube, body)


async def test_sync_health_cluster_and_destination_namespace_filter_and_counts_tally_them(
    api_server: ApiServer, kube: Client
) -> None:
    ns = api_server.namespace
    make_deployed(kube, ns, "a-web", sync="Synced", health="Healthy")
    make_deployed(kube, ns, "b-web", sync="OutOfSync", health="Degraded")
    make_deployed(kube, ns, "c-db", sync="OutOfSync", health="Healthy", dest_namespace="db")
    make_deployed(kube, ns, "d-prod", sync="Synced", health="Progressing", cluster_name="prod")
    make_deployed(kube, ns, "e-hidden", sync="OutOfSync", health="Degraded", project="hidden")
    token = await api_server.user("alice", ("get", "default/*"))
    async with api_server.client(token) as client:
        await listed(client, 4)

        async def pick(params: Any) -> tuple[list[str], dict[str, Any] | None]:
            response = await client.get("/api/v1/applications", params=params)
            assert response.status_code == 200, response.text
            body = response.json()
            return names(body), body["metadata"].get("counts")

        assert (await pick({"sync": "OutOfSync"}))[0] == ["b-web", "c-db"]
        assert (await pick([("health", "Healthy"), ("health", "Progressing")]))[0] == [
            "a-web",
            "c-db",
            "d-prod",
        ]
        assert (await pick({"sync": "OutOfSync", "health": "Healthy"}))[0] == ["c-db"]
        assert (await pick({"cluster": "prod"}))[0] == ["d-prod"]
        assert (await pick({"cluster": "https://kubernetes.default.svc"}))[0] == [
            "a-web",
            "b-web",
            "c-db",
        ]
        # A cluster the caller may not see lends no other name; one they may see does.
        assert (await pick({"cluster": "in-cluster"}))[0] == []
        await api_server.users.grant("alice", "clusters", "get", "*")
        assert (await pick({"cluster": "in-cluster"}))[0] == ["a-web", "b-web", "c-db"]
        assert (await pick({"cluster": "https://kubernetes.default.svc/"}))[0] == [
            "a-web",
            "b-web",
            "c-db",
        ]
        assert (await pick({"destNamespace": "db"}))[0] == ["c-db"]
        assert (await pick({"destNamespace": "nowhere"}))[0] == []
        # Counts cover every matching app the caller may see, not only the page: the hidden
        # project's app is neither listed nor counted.
        shown, counts = await pick({"counts": "true", "limit": 1})
        assert shown == ["a-web"]
        assert counts == {
            "total": 4,
            "sync": {"Synced": 2, "OutOfSync": 2},
            "health": {"Healthy": 2, "Degraded": 1, "Progressing": 1},
        }
        _, counts = await pick({"counts": "true", "destNamespace": "web", "sync": "OutOfSync"})
        assert counts == {"total": 1, "sync": {"OutOfSync": 1}, "health": {"Degraded": 1}}
        assert (await pick({}))[1] is None  # only asked for


async def test_counts_hold_only_the_apps_the_caller_may_see_by_project_or_by_name(
    api_server: ApiServer, kube: Client
) -> None:
    ns = api_server.namespace
    for name, project, sync in (
        ("a-1", "default", "Synced"),
        ("a-2", "default", "OutOfSync"),
        ("a-3", "default", "Synced"),
        ("b-1", "hidden", "Synced"),
    ):
        body = tetherenv.application(name, ns, REPO, "app", ns, project=project)
        body["status"] = {"sync": {"status": sync}, "health": {"status": "Healthy"}}
        tetherenv.create(kube, body)
    by_project = await api_server.user("alice", ("get", "default/*"))
    by_name = await api_server.user("bob", ("get", "default/a-1"), ("get", "default/a-2"))
    counted: dict[str, Any] = {}
    for caller, token, expected in (("alice", by_project, 3), ("bob", by_name, 2)):
        async with api_server.client(token) as client:
            await listed(client, expected)
            response = await client.get("/api/v1/applications", params={"counts": "true"})
        counted[caller] = response.json()["metadata"]["counts"]
    assert counted == {
        "alice": {"total": 3, "sync": {"Synced": 2, "OutOfSync": 1}, "health": {"Healthy": 3}},
        "bob": {"total": 2, "sync": {"Synced": 1, "OutOfSync": 1}, "health": {"Healthy": 2}},
    }
