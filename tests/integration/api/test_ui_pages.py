"""The web UI's pages over the real API server: who sees what, and tenant input kept as text.

No browser here (tests/e2e/ui drives Chromium): these read the HTML the server sends.
"""

from __future__ import annotations

import pytest
from lightkube import Client

from tests.integration.api.appsupport import listed, make_app
from tests.integration.api.conftest import ApiServer
from tests.support import tetherenv

pytestmark = pytest.mark.timeout(60)

HOSTILE = '<img src=x onerror="alert(1)">'


async def test_a_page_without_a_session_sends_the_browser_to_the_login_page_and_back(
    api_server: ApiServer,
) -> None:
    async with api_server.client() as client:
        page = await client.get("/applications?search=web")
    assert page.status_code == 303
    assert page.headers["location"] == "/login?return=%2Fapplications%3Fsearch%3Dweb"


async def test_the_login_page_never_sends_the_browser_to_another_site_afterwards(
    api_server: ApiServer,
) -> None:
    async with api_server.client() as client:
        for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
            page = await client.get("/login", params={"return": target})
            assert page.status_code == 200
            assert 'data-return="/applications"' in page.text
            assert "evil.example" not in page.text
        page = await client.get("/login", params={"return": "/applications/ns/web"})
    assert 'data-return="/applications/ns/web"' in page.text
    assert 'name="username"' in page.text
    assert 'name="password"' in page.text


async def test_pages_carry_the_api_servers_content_security_policy_and_frame_refusal(
    api_server: ApiServer,
) -> None:
    async with api_server.client() as client:
        page = await client.get("/login")
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
    assert page.headers["x-frame-options"] == "DENY"


async def test_tenant_text_in_an_application_reaches_the_page_escaped(
    api_server: ApiServer, kube: Client
) -> None:
    ns = api_server.namespace
    body = tetherenv.application("web", ns, "https://git.example.test/apps.git", HOSTILE, ns)
    tetherenv.create(kube, body)
    token = await api_server.user("alice", ("get", "default/*"))
    async with api_server.client(token) as client:
        await listed(client, 1)
        for path in ("/applications", f"/applications/{ns}/web"):
            page = await client.get(path)
            assert page.status_code == 200, page.text
            assert HOSTILE not in page.text
        listing = await client.get("/applications")
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in listing.text


async def test_the_list_page_shows_only_the_apps_the_user_may_see(
    api_server: ApiServer, kube: Client
) -> None:
    ns = api_server.namespace
    make_app(kube, ns, "web")
    make_app(kube, ns, "secret-app", project="hidden")
    token = await api_server.user("alice", ("get", "default/*"))
    async with api_server.client(token) as client:
        await listed(client, 1)
        page = await client.get("/applications")
    assert f'data-app="{ns}/web"' in page.text
    assert "secret-app" not in page.text


async def test_an_app_the_user_may_not_see_looks_like_a_missing_one_as_in_the_api(
    api_server: ApiServer, kube: Client
) -> None:
    ns = api_server.namespace
    make_app(kube, ns, "secret-app", project="hidden")
    make_app(kube, ns, "web")
    token = await api_server.user("alice", ("get", "default/*"))
    async with api_server.client(token) as client:
        await listed(client, 1)
        hidden = await client.get(f"/applications/{ns}/secret-app")
        missing = await client.get(f"/applications/{ns}/no-such-app")
    assert hidden.status_code == missing.status_code == 403
    assert hidden.text.replace("secret-app", "no-such-app") == missing.text


async def test_the_ui_assets_are_revalidated_rather_than_fetched_again_on_every_page(
    api_server: ApiServer,
) -> None:
    async with api_server.client() as client:
        first = await client.get("/assets/ui.css")
        again = await client.get("/assets/ui.css", headers={"If-None-Match": first.headers["etag"]})
    assert first.status_code == 200
    assert first.headers["cache-control"] == "no-cache"
    assert again.status_code == 304


async def test_a_name_in_the_pages_address_never_adds_a_query_to_the_apis_call(
    api_server: ApiServer, kube: Client
) -> None:
    ns = api_server.namespace
    make_app(kube, ns, "web")
    token = await api_server.user("alice", ("get", "default/*"))
    async with api_server.client(token) as client:
        await listed(client, 1)
        assert (await client.get(f"/applications/{ns}/web")).status_code == 200
        smuggled = await client.get(f"/applications/{ns}/web%3Frefresh%3Dhard")
    assert smuggled.status_code == 403, smuggled.text[:3000]
