"""The applications page in Debian's Chromium: sign in, see the demo apps, filter and search."""

from __future__ import annotations

import pytest

from tests.support import uienv

pytestmark = [pytest.mark.timeout(240), pytest.mark.usefixtures("full_cluster")]


async def test_admin_signs_in_and_sees_the_demo_apps_with_their_statuses(site, shots):
    async with uienv.chromium() as browser:
        page = await uienv.signed_in(browser, site, "admin", site.admin_password)
        assert await page.title() == "Applications · tether"
        for name in ("demo-root", *uienv.DEMO_CHILDREN):
            tile = page.locator(f"[data-app='{site.namespace}/{name}']")
            await tile.wait_for()
            assert await tile.locator("[data-sync]").get_attribute("data-sync") == "Synced"
        await shots.take(page, "applications")
        assert "4" in await page.locator("#app-counts strong").inner_text()


async def test_search_and_filters_narrow_the_list_on_the_server(site, shots):
    async with uienv.chromium() as browser:
        page = await uienv.signed_in(browser, site, "admin", site.admin_password)
        await page.fill("#f-search", "helm")
        await page.wait_for_url("**search=helm**")
        rows = page.locator("[data-app]")
        await rows.first.wait_for()
        assert await rows.count() == 1
        assert await rows.first.get_attribute("data-app") == f"{site.namespace}/demo-helm"
        await shots.take(page, "search")
        await page.goto(
            site.url + "/applications?view=table&namespace=" + site.destination("demo-plain")
        )
        assert await page.locator("tr[data-app]").count() == 1
        await page.goto(site.url + "/applications?health=Degraded")
        assert await page.locator("[data-app]").count() == 0
        assert await page.locator(".empty").inner_text() == "No applications match."
