"""The login page in Debian's Chromium: a local account's form, its errors, where it returns to,
the keyboard alone, and SSO through a real Dex.

This module's own site (the ``site`` fixture is per module) gets ``oidc.config`` in its
``argocd-cm``: no other module's site sees SSO.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import httpx2
import pytest
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import ConfigMap, Secret
from playwright.async_api import Page, expect

from tests.support import dex as dexsupport, uienv
from tests.support.apiusers import ApiUsers
from tether.api.context import TOKEN_COOKIE

pytestmark = [pytest.mark.timeout(240), pytest.mark.usefixtures("full_cluster")]

SSO_NAME = "Dex"
SSO_WAIT_S = 30.0
"""The server reads argocd-cm through a cache of a few seconds."""


def oidc_config(issuer: str) -> str:
    return "\n".join(
        [
            f"name: {SSO_NAME}",
            f"issuer: {issuer}",
            "clientID: tether",
            "clientSecret: $oidc.dex.clientSecret",
            "requestedScopes: [openid, profile, email, groups]",
        ]
    )


@pytest.fixture(scope="module")
def dex(
    site: uienv.Site, full_cluster: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dexsupport.Dex]:
    """A Dex this module's site signs in through, its group allowed to read (role:readonly)."""
    client = dexsupport.Client("tether", secrets.token_urlsafe(16), (site.url + "/auth/callback",))
    # Started from the module's own thread: Dex dies with the thread that spawned it.
    served = dexsupport.start(tmp_path_factory.mktemp("dex"), [client])
    try:
        meta = ObjectMeta(name="argocd-cm", namespace=site.namespace)
        settings = {"url": site.url, "oidc.config": oidc_config(served.issuer)}
        site.kube.apply(ConfigMap(metadata=meta, data=settings), field_manager="ui-login-test")
        meta = ObjectMeta(name="argocd-secret", namespace=site.namespace)
        secret = Secret(metadata=meta, stringData={"oidc.dex.clientSecret": client.secret})
        site.kube.apply(secret, field_manager="ui-login-test")
        users = ApiUsers(site.url, full_cluster.kubeconfig, site.namespace)
        asyncio.run(users.assign(dexsupport.USER_GROUP, "role:readonly"))
        deadline = time.monotonic() + SSO_WAIT_S
        while "oidcConfig" not in httpx2.get(site.url + "/api/v1/settings", timeout=10).json():
            assert time.monotonic() < deadline, "the server never read oidc.config"
            time.sleep(0.2)
        yield served
    finally:
        served.stop()


async def focus_is_visible(page: Page) -> bool:
    """Whether the focused element shows it (``:focus-visible`` with a visible outline)."""
    return bool(
        await page.evaluate(
            """() => {
                const el = document.activeElement;
                if (!el || el === document.body || !el.matches(':focus-visible')) return false;
                const style = getComputedStyle(el);
                return style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0;
            }"""
        )
    )


async def test_sso_signs_in_through_dex_and_comes_back_to_the_applications(site, dex, shots):
    async with uienv.chromium() as browser:
        page = await (await browser.new_context(viewport=uienv.LAPTOP)).new_page()
        await page.goto(site.url + "/applications")
        await page.wait_for_url("**/login?return=%2Fapplications")
        button = page.locator("#sso-login")
        await expect(button).to_have_text(f"Log in via {SSO_NAME}")
        await shots.take(page, "login-with-sso")
        assert await uienv.accessibility_violations(page) == []
        await button.click()
        await page.wait_for_url(dex.issuer + "/**")
        await page.fill("input[name=login]", dexsupport.USER_EMAIL)
        await page.fill("input[name=password]", dex.password)
        await shots.take(page, "dex")
        await page.click("button[type=submit]")
        await page.wait_for_url(site.url + "/applications")
        tile = page.locator(f"[data-app='{site.namespace}/demo-plain']")
        await expect(tile).to_have_count(1)
        assert await page.locator(".top .user").count() == 1
        await shots.take(page, "signed-in-by-sso")
        cookies = await page.context.cookies()
        token = next(c["value"] for c in cookies if c["name"] == TOKEN_COOKIE)
        async with httpx2.AsyncClient(base_url=site.url) as http:
            info = await http.get(
                "/api/v1/session/userinfo", headers={"Authorization": f"Bearer {token}"}
            )
        assert info.json()["groups"] == [dexsupport.USER_GROUP]


async def test_a_wrong_password_shows_the_apis_error_in_the_form(site, shots):
    async with uienv.chromium() as browser:
        page = await (await browser.new_context(viewport=uienv.LAPTOP)).new_page()
        await page.goto(site.url + "/login")
        await page.fill("input[name=username]", "admin")
        await page.fill("input[name=password]", "not-" + site.admin_password)
        await page.click("button[type=submit]")
        alert = page.locator("#login-form [role=alert]")
        await expect(alert).not_to_be_empty()
        async with httpx2.AsyncClient(base_url=site.url) as http:
            body = {"username": "admin", "password": "not-" + site.admin_password}
            refused = await http.post("/api/v1/session", json=body)
        assert refused.status_code == 401
        assert await alert.inner_text() == refused.json()["message"]
        assert page.url == site.url + "/login"
        await shots.take(page, "wrong-password")
        assert await uienv.accessibility_violations(page) == []


@pytest.mark.parametrize(
    "target", ["//evil.example", "https://evil.example/", "/\\evil.example", "/\t/evil.example"]
)
async def test_the_return_parameter_cannot_send_the_browser_off_site(site, shots, target):
    async with uienv.chromium() as browser:
        page = await (await browser.new_context(viewport=uienv.LAPTOP)).new_page()
        await page.goto(site.url + "/login?" + urlencode({"return": target}))
        assert await page.get_attribute("#login-form", "data-return") == "/applications"
        await page.fill("input[name=username]", "admin")
        await page.fill("input[name=password]", site.admin_password)
        await page.click("button[type=submit]")
        await page.wait_for_url(site.url + "/applications")
        await shots.take(page, "stayed-home")


async def test_a_return_path_on_this_server_is_where_the_login_goes(site, shots):
    async with uienv.chromium() as browser:
        page = await (await browser.new_context(viewport=uienv.LAPTOP)).new_page()
        await page.goto(site.url + "/settings/clusters")
        await page.wait_for_url("**/login?return=%2Fsettings%2Fclusters")
        await page.fill("input[name=username]", "admin")
        await page.fill("input[name=password]", site.admin_password)
        await page.click("button[type=submit]")
        await page.wait_for_url(site.url + "/settings/clusters")
        await shots.take(page, "returned")


async def test_a_keyboard_user_signs_in_and_opens_an_app_with_focus_always_visible(site, shots):
    async with uienv.chromium() as browser:
        page = await (await browser.new_context(viewport=uienv.LAPTOP)).new_page()
        await page.goto(site.url + "/applications")
        await page.wait_for_url("**/login**")
        # The username field has the focus from the start.
        assert await page.evaluate("() => document.activeElement.id") == "username"
        await page.keyboard.type("admin")
        await page.keyboard.press("Tab")
        assert await focus_is_visible(page)
        await page.keyboard.type(site.admin_password)
        await page.keyboard.press("Enter")
        await page.wait_for_url(site.url + "/applications")
        await page.wait_for_selector("[data-app]")
        target = f"/applications/{site.namespace}/demo-plain"
        for _ in range(60):
            await page.keyboard.press("Tab")
            assert await focus_is_visible(page), await page.evaluate(
                "() => document.activeElement.outerHTML.slice(0, 120)"
            )
            if await page.evaluate("() => document.activeElement.getAttribute('href')") == target:
                break
        else:
            raise AssertionError("Tab never reached demo-plain's link")
        await shots.take(page, "keyboard-focus")
        await page.keyboard.press("Enter")
        await page.wait_for_url(site.url + target)
