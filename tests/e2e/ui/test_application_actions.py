"""The application page's header and actions in Debian's Chromium: sync by hand, roll back.

Each test makes its own app without automated sync (``apppage.test_app``) and drives it only
through the page: its sync dialog, history and hard refresh, watching the live header.
"""

from __future__ import annotations

import pytest
from lightkube.resources.core_v1 import ConfigMap
from lightkube.types import PatchType
from playwright.async_api import expect

from tests.e2e.ui import apppage
from tests.support import tetherenv, uienv

pytestmark = [pytest.mark.timeout(240), pytest.mark.usefixtures("full_cluster")]

GREETING = "hello from plain YAML"


def greeting(site: uienv.Site, namespace: str) -> str | None:
    if not tetherenv.exists(site.kube, ConfigMap, "web-config", namespace):
        return None
    return str(tetherenv.get(site.kube, ConfigMap, "web-config", namespace)["data"]["greeting"])


async def test_a_change_by_hand_turns_the_header_out_of_sync_and_a_sync_from_the_ui_fixes_it(
    site, shots
):
    with apppage.test_app(site, "byhand") as destination:
        async with uienv.chromium() as browser:
            page = await uienv.signed_in(browser, site, "admin", site.admin_password)
            await page.goto(apppage.url(site, "byhand"))
            await apppage.sync_shows(page, "OutOfSync")
            await shots.take(page, "never-synced")

            await page.click("[data-action=sync]")
            dialog = page.locator("#sync-dialog")
            await expect(dialog).to_be_visible()
            # The app's own CreateNamespace=true is shown as in force, and cannot be unticked.
            create_ns = dialog.locator("input[value='CreateNamespace=true']")
            assert await create_ns.is_checked() and await create_ns.is_disabled()
            await shots.take(page, "sync-dialog")
            assert await uienv.accessibility_violations(page) == []
            await dialog.locator("button[type=submit]").click()
            await expect(page.locator("#toasts .toast").last).to_have_text("Sync requested")
            await apppage.sync_shows(page, "Synced")
            await apppage.operation_shows(page, "Succeeded")
            assert greeting(site, destination) == GREETING
            commit = apppage.header(page).locator(".app-facts .commit")
            assert await commit.get_attribute("data-revision") == site.repo.seed.git(
                "rev-parse", "HEAD"
            )
            await expect(commit.locator("[data-commit-author]")).to_have_text(
                "tether tests <tests@tether.invalid>"
            )

            await apppage.mark_page(page)
            site.kube.patch(
                ConfigMap,
                "web-config",
                {"data": {"greeting": "changed by hand"}},
                namespace=destination,
                patch_type=PatchType.MERGE,
            )
            await apppage.sync_shows(page, "OutOfSync")
            assert await apppage.still_same_page(page), "the header changed by reloading the page"
            await shots.take(page, "changed-by-hand")

            await apppage.sync_from_dialog(page)
            await apppage.sync_shows(page, "Synced")
            assert greeting(site, destination) == GREETING
            assert await apppage.still_same_page(page)
            await shots.take(page, "synced-again")


def config_map(value: str) -> str:
    return (
        f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: rolled}}\ndata: {{value: '{value}'}}\n"
    )


def rolled_value(site: uienv.Site, namespace: str) -> str | None:
    if not tetherenv.exists(site.kube, ConfigMap, "rolled", namespace):
        return None
    return str(tetherenv.get(site.kube, ConfigMap, "rolled", namespace)["data"]["value"])


async def test_a_hard_refresh_sees_a_new_commit_and_a_rollback_from_history_restores_the_old_value(
    site, shots
):
    ns = site.namespace
    first = site.repo.commit({"ui-rollback/cm.yaml": config_map("one")}, "Rollback test: one")
    with apppage.test_app(site, "rollback", path="ui-rollback") as destination:
        await tetherenv.eventually(
            lambda: tetherenv.sync_status(site.kube, ns, "rollback") == "OutOfSync", 60
        )
        tetherenv.start_sync(site.kube, ns, "rollback")
        await tetherenv.eventually(lambda: tetherenv.finished_app(site.kube, ns, "rollback"), 60)
        assert rolled_value(site, destination) == "one"

        async with uienv.chromium() as browser:
            page = await uienv.signed_in(browser, site, "admin", site.admin_password)
            await page.goto(apppage.url(site, "rollback"))
            await apppage.sync_shows(page, "Synced")
            commit = apppage.header(page).locator(".app-facts .commit")
            await expect(commit.locator("[data-commit-message]")).to_have_text("Rollback test: one")

            second = site.repo.commit(
                {"ui-rollback/cm.yaml": config_map("two")}, "Rollback test: two"
            )
            await page.click("[data-action=hard-refresh]")
            await expect(page.locator("#toasts .toast").last).to_contain_text("Hard refreshed")
            await apppage.sync_shows(page, "OutOfSync")
            await expect(commit).to_have_attribute("data-revision", second)
            await expect(commit.locator("[data-commit-message]")).to_have_text("Rollback test: two")
            await shots.take(page, "new-commit-seen")

            await apppage.sync_from_dialog(page)
            await apppage.sync_shows(page, "Synced")
            await tetherenv.eventually(lambda: rolled_value(site, destination) == "two", 60)

            await page.click("[data-action=history]")
            rows = page.locator("#history-dialog tr[data-history-id]")
            await expect(rows).to_have_count(2)
            await shots.take(page, "history")
            oldest = rows.last
            assert await oldest.locator("code").get_attribute("title") == first
            await oldest.locator("[data-action=rollback]").click()
            await expect(page.locator("#toasts .toast").last).to_have_text("Rollback requested")
            await tetherenv.eventually(lambda: rolled_value(site, destination) == "one", 60)
            synced = apppage.header(page).locator(".operation [data-synced-revision]")
            await expect(synced).to_have_attribute("data-synced-revision", first, timeout=60_000)
            await apppage.operation_shows(page, "Succeeded")
            await apppage.sync_shows(page, "OutOfSync")  # Git still says "two"
            await shots.take(page, "rolled-back")
