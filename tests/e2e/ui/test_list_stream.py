"""The applications page listens for changes from the list's own version on, never a replay."""

from __future__ import annotations

import pytest

from tests.support import tetherenv, uienv

pytestmark = [pytest.mark.timeout(240), pytest.mark.usefixtures("full_cluster")]

LISTEN = """() => {
  window.listChanged = false;
  document.addEventListener("tether:changed", () => { window.listChanged = true; });
}"""


async def test_the_list_streams_changes_after_its_own_version_and_reloads_on_one(site, shots):
    async with uienv.chromium() as browser:
        page = await uienv.signed_in(browser, site, "admin", site.admin_password)
        listed = page.locator("#app-list")
        stream = await listed.get_attribute("data-stream")
        version = await page.locator("#list-bar").get_attribute("data-resource-version")
        # From the list's version on: with none, the stream would first send every app the user
        # may see, on every visit (10,000 of them in the bench), and the page reload at once.
        assert version
        assert stream is not None
        assert f"resourceVersion={version}" in stream
        await page.evaluate(LISTEN)
        tetherenv.patch_app(
            site.kube, site.namespace, "demo-plain", {"metadata": {"labels": {"seen": "yes"}}}
        )
        await page.wait_for_function("() => window.listChanged === true", timeout=60_000)
        await shots.take(page, "list-after-a-change")
