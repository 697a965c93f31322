"""The applications page in Debian's Chromium: sign in, see the demo apps, filter and search on
the server, switch views, page through many apps, and watch the list follow the stream."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from lightkube import ApiError
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import Namespace
from playwright.async_api import Page, Request, ViewportSize, expect

from tests.support import tetherenv, uienv

pytestmark = [pytest.mark.timeout(240), pytest.mark.usefixtures("full_cluster")]

PAGING_PROJECT = "ui-paging"
PAGING_APPS = 65
"""More than a page (60): the list must page on the server."""
PAGING_REPO = "https://git.example.test/paging.git"
WIDE: ViewportSize = {"width": 1920, "height": 1080}
WAIT_MS = 30_000


def paging_app(namespace: str, i: int) -> dict[str, Any]:
    """An app of a project that allows nothing: the controller never renders or deploys it."""
    body = tetherenv.application(
        f"page-{i:02d}", namespace, PAGING_REPO, "plain", f"{namespace}-nowhere"
    )
    body["spec"]["project"] = PAGING_PROJECT
    body["metadata"]["labels"] = {"batch": "paging", "parity": "odd" if i % 2 else "even"}
    if i < 3:  # a few name a cluster that is not registered
        body["spec"]["destination"] = {"name": "elsewhere", "namespace": f"{namespace}-nowhere"}
    return body


def delete_quietly(site: uienv.Site, kind: Any, name: str, namespace: str | None) -> None:
    try:
        site.kube.delete(kind, name, namespace=namespace)
    except ApiError as err:
        if err.status.code != 404:
            raise


@pytest.fixture(scope="module")
def paging(site: uienv.Site) -> Iterator[list[str]]:
    """``PAGING_APPS`` apps in a project of their own, gone again after the module."""
    project = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AppProject",
        "metadata": {"name": PAGING_PROJECT, "namespace": site.namespace},
        "spec": {"description": "No sources, no destinations: nothing of it ever deploys"},
    }
    tetherenv.create(site.kube, project)
    names = []
    try:
        for i in range(PAGING_APPS):
            body = paging_app(site.namespace, i)
            tetherenv.create(site.kube, body)
            names.append(body["metadata"]["name"])
        yield names
    finally:
        for name in names:
            delete_quietly(site, tetherenv.Application, name, site.namespace)
        delete_quietly(site, tetherenv.AppProject, PAGING_PROJECT, site.namespace)


def query_of(page: Page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query)


async def open_list(page: Page, site: uienv.Site, query: str = "") -> None:
    """Go to the list and wait until its stream is open (so no change is missed)."""
    await page.goto(site.url + "/applications" + query)
    await page.wait_for_selector("#app-list[data-live-state=open]")


async def test_admin_signs_in_and_sees_the_demo_apps_with_their_statuses(site, shots):
    async with uienv.chromium() as browser:
        page = await uienv.signed_in(browser, site, "admin", site.admin_password)
        assert await page.title() == "Applications · tether"
        for name in ("demo-root", *uienv.DEMO_CHILDREN):
            tile = page.locator(f"[data-app='{site.namespace}/{name}']")
            await tile.wait_for()
            assert await tile.locator("[data-sync]").get_attribute("data-sync") == "Synced"
            assert await tile.locator("[data-health]").get_attribute("data-health") == "Healthy"
        plain = page.locator(f"[data-app='{site.namespace}/demo-plain']")
        text = await plain.inner_text()
        for shown in ("default", site.destination("demo-plain"), site.repo.url, "plain"):
            assert shown in text
        cluster = plain.locator(".cluster span")  # the destination by its cluster's name
        assert await cluster.inner_text() == "in-cluster"
        assert await cluster.get_attribute("title") == "https://kubernetes.default.svc"
        assert len(await plain.locator("code").inner_text()) == 7  # the short commit
        await shots.take(page, "applications-laptop")
        assert await page.locator("#app-counts strong").inner_text() == "4"
        assert await page.locator("[data-count-sync=Synced] .n").inner_text() == "4"
        assert await page.locator("[data-count-health=Healthy] .n").inner_text() == "4"
        assert await uienv.accessibility_violations(page) == []
        await page.set_viewport_size(WIDE)
        await shots.take(page, "applications-wide")


async def test_search_and_filters_narrow_the_list_on_the_server(site, shots):
    async with uienv.chromium() as browser:
        page = await uienv.signed_in(browser, site, "admin", site.admin_password)
        await page.fill("#f-search", "helm")
        await page.wait_for_url("**search=helm**")
        assert query_of(page) == {"search": ["helm"]}  # the short form: no empty fields
        rows = page.locator("[data-app]")
        await expect(rows).to_have_count(1)
        assert await rows.first.get_attribute("data-app") == f"{site.namespace}/demo-helm"
        await shots.take(page, "search")
        await page.goto(
            site.url + "/applications?view=table&namespace=" + site.destination("demo-plain")
        )
        assert await page.locator("tr[data-app]").count() == 1
        await page.goto(site.url + "/applications?health=Degraded")
        assert await page.locator("[data-app]").count() == 0
        assert await page.locator(".empty").inner_text() == "No applications match."


async def test_each_filter_of_the_form_asks_the_server_and_the_address_keeps_it(
    site, paging, shots
):
    ns = site.namespace
    async with uienv.chromium() as browser:
        page = await uienv.signed_in(browser, site, "admin", site.admin_password)
        counts = page.locator("#app-counts strong")
        await expect(counts).to_have_text(str(4 + PAGING_APPS), timeout=WAIT_MS)

        await page.select_option("#f-project", PAGING_PROJECT)
        await page.wait_for_url(f"**project={PAGING_PROJECT}**")
        await expect(counts).to_have_text(str(PAGING_APPS))
        await expect(page.locator("[data-app]")).to_have_count(60)  # one page

        await page.fill("#f-labels", "parity=odd")
        await page.wait_for_url("**labels=parity**")
        await expect(counts).to_have_text(str(PAGING_APPS // 2))
        await page.fill("#f-labels", "parity in (")
        await expect(page.locator("#app-list [role=alert]")).to_contain_text("selector")
        await page.fill("#f-labels", "")
        await expect(counts).to_have_text(str(PAGING_APPS))

        await page.fill("#f-cluster", "elsewhere")
        await page.wait_for_url("**cluster=elsewhere**")
        await expect(page.locator("[data-app]")).to_have_count(3)
        # A registered cluster's name finds the apps that give its server URL.
        await page.fill("#f-cluster", "in-cluster")
        await page.wait_for_url("**cluster=in-cluster**")
        await expect(counts).to_have_text(str(PAGING_APPS - 3))
        await page.fill("#f-cluster", "")

        await page.select_option("#f-project", "")
        await page.fill("#f-repo", PAGING_REPO)
        await page.wait_for_url("**repo=**")
        await expect(counts).to_have_text(str(PAGING_APPS))
        await page.fill("#f-repo", "")
        await expect(counts).to_have_text(str(4 + PAGING_APPS))

        await page.check("input[name=sync][value=Synced]")
        await page.wait_for_url("**sync=Synced**")
        await expect(counts).to_have_text("4")
        await page.check("input[name=health][value=Healthy]")
        await page.wait_for_url("**health=Healthy**")
        await page.fill("#f-namespace", site.destination("demo-kustomize"))
        await expect(page.locator("[data-app]")).to_have_count(1)
        assert await page.locator("[data-app]").get_attribute("data-app") == (
            f"{ns}/demo-kustomize"
        )
        await shots.take(page, "filtered")
        wanted = {
            "sync": ["Synced"],
            "health": ["Healthy"],
            "namespace": [site.destination("demo-kustomize")],
        }
        assert query_of(page) == wanted

        # A reload keeps the filters, in the list and in the form.
        await page.reload()
        await expect(page.locator("[data-app]")).to_have_count(1)
        assert await page.is_checked("input[name=sync][value=Synced]")
        assert await page.input_value("#f-namespace") == site.destination("demo-kustomize")

        # Back and Forward walk the filters, the form agreeing with the list.
        await page.go_back()
        await page.wait_for_url(lambda url: "namespace=" not in url)
        await expect(counts).to_have_text("4")
        assert await page.input_value("#f-namespace") == ""
        assert await page.is_checked("input[name=health][value=Healthy]")
        await page.go_forward()
        await expect(page.locator("[data-app]")).to_have_count(1)
        assert await page.input_value("#f-namespace") == site.destination("demo-kustomize")

        # The view switch keeps the filters.
        await page.click("nav.views >> text=Table")
        await page.wait_for_url("**view=table**")
        assert query_of(page) == {**wanted, "view": ["table"]}
        await expect(page.locator("tr[data-app]")).to_have_count(1)
        assert await page.is_checked("input[name=sync][value=Synced]")


async def test_a_count_is_a_link_that_applies_its_status_filter(site, paging, shots):
    async with uienv.chromium() as browser:
        page = await uienv.signed_in(browser, site, "admin", site.admin_password)
        await page.wait_for_selector("[data-count-sync=Unknown]")
        assert await page.locator("[data-count-sync=Unknown] .n").inner_text() == str(PAGING_APPS)
        await page.click("[data-count-sync=Unknown]")
        await page.wait_for_url("**sync=Unknown**")
        await expect(page.locator("#app-counts strong")).to_have_text(str(PAGING_APPS))
        assert await page.is_checked("input[name=sync][value=Unknown]")
        assert not await page.is_checked("input[name=sync][value=Synced]")
        await expect(page.locator("[data-count-sync=Unknown]")).to_have_attribute(
            "aria-current", "true"
        )
        await shots.take(page, "count-filter")


async def test_the_table_shows_every_column_and_passes_the_accessibility_check(site, shots):
    async with uienv.chromium() as browser:
        page = await uienv.signed_in(browser, site, "admin", site.admin_password)
        await page.goto(site.url + "/applications?view=table&project=default")
        headers = await page.locator(".apps-table thead th").all_inner_texts()
        assert headers == [
            "Name",
            "Sync",
            "Health",
            "Revision",
            "Project",
            "Cluster",
            "Namespace",
            "Repository",
        ]
        row = page.locator(f"tr[data-app='{site.namespace}/demo-plain']")
        cells = await row.locator("th, td").all_inner_texts()
        assert cells[0] == "demo-plain"
        assert "Synced" in cells[1] and "Healthy" in cells[2]
        assert len(cells[3].split()[0]) == 7 and "main" in cells[3]
        assert cells[4:7] == ["default", "in-cluster", site.destination("demo-plain")]
        assert cells[7] == f"{site.repo.url} plain"
        await row.locator("a").click()
        await page.wait_for_url(f"**/applications/{site.namespace}/demo-plain")
        await page.go_back()
        await shots.take(page, "table-laptop")
        assert await uienv.accessibility_violations(page) == []
        await page.set_viewport_size(WIDE)
        await shots.take(page, "table-wide")


async def test_pages_follow_the_apis_continue_tokens(site, paging, shots):
    async with uienv.chromium() as browser:
        page = await uienv.signed_in(browser, site, "admin", site.admin_password)
        await page.goto(site.url + f"/applications?project={PAGING_PROJECT}")
        tiles = page.locator("[data-app]")
        await expect(tiles).to_have_count(60, timeout=WAIT_MS)
        await expect(page.locator("#remaining")).to_have_text(str(PAGING_APPS - 60))
        first_page = await tiles.evaluate_all("els => els.map(e => e.dataset.app)")
        await page.click("text=Next page")
        await page.wait_for_url("**continue=**")
        await expect(tiles).to_have_count(PAGING_APPS - 60)
        second_page = await tiles.evaluate_all("els => els.map(e => e.dataset.app)")
        everything = [f"{site.namespace}/{name}" for name in paging]
        assert first_page + second_page == everything
        assert await page.locator("text=Next page").count() == 0
        await shots.take(page, "second-page")
        await page.click("text=First page")
        await page.wait_for_url(lambda url: "continue=" not in url)
        await expect(tiles).to_have_count(60)
        await page.go_back()  # to the second page again
        await expect(tiles).to_have_count(PAGING_APPS - 60)


async def test_many_changes_at_once_cost_a_few_refreshes_and_the_last_one_shows(
    site, paging, shots
):
    async with uienv.chromium() as browser:
        page = await uienv.signed_in(browser, site, "admin", site.admin_password)
        fragments: list[Request] = []
        page.on(
            "request",
            lambda r: fragments.append(r) if r.headers.get("hx-target") == "app-list" else None,
        )
        await open_list(page, site, f"?project={PAGING_PROJECT}&labels=batch%3Dpaging")
        # The stream's start is no change: the list does not reload itself for it.
        await page.wait_for_timeout(2_000)
        assert fragments == []
        for name in paging:
            patch = {"metadata": {"labels": {"touched": "yes"}}}
            await asyncio.to_thread(tetherenv.patch_app, site.kube, site.namespace, name, patch)
        last = page.locator(f"[data-app='{site.namespace}/{paging[0]}'] .labels")
        await expect(last).to_contain_text("touched=yes", timeout=WAIT_MS)
        await expect(page.locator(".labels", has_text="touched=yes")).to_have_count(60)
        assert 1 <= len(fragments) < PAGING_APPS // 4, [r.url for r in fragments]
        await shots.take(page, "after-many-changes")


async def test_the_list_follows_the_stream_without_a_reload(site, shots):
    ns = site.namespace
    live_ns = f"{ns}-live"
    site.kube.create(Namespace(metadata=ObjectMeta(name=live_ns)))
    project = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AppProject",
        "metadata": {"name": "ui-live", "namespace": ns},
        "spec": {
            "sourceRepos": ["*"],
            "destinations": [{"server": "*", "namespace": live_ns}],
        },
    }
    tetherenv.create(site.kube, project)
    try:
        async with uienv.chromium() as browser:
            page = await uienv.signed_in(browser, site, "admin", site.admin_password)
            streams: list[str] = []
            page.on(
                "request",
                lambda r: streams.append(r.url) if "/api/v1/stream/" in r.url else None,
            )
            await open_list(page, site)
            # A filter from the form: the stream follows it.
            await page.select_option("#f-project", "ui-live")
            await page.wait_for_url("**project=ui-live**")
            await expect(page.locator(".empty")).to_be_visible()
            await page.wait_for_selector("#app-list[data-live-state=open]")
            assert any("project=ui-live" in url for url in streams), streams
            # From the list's own version on: without one the stream would first replay every
            # app the user may see (10,000 in the bench) and the page would reload at once.
            assert all("resourceVersion=" in url for url in streams), streams
            await page.evaluate("window.tetherStillHere = true")

            body = tetherenv.application("live-one", ns, site.repo.url, "plain", live_ns)
            body["spec"]["project"] = "ui-live"  # no automated sync: it stays OutOfSync
            tetherenv.create(site.kube, body)
            tile = page.locator(f"[data-app='{ns}/live-one']")
            await expect(tile).to_have_count(1, timeout=WAIT_MS)
            await expect(tile.locator("[data-sync]")).to_have_attribute(
                "data-sync", "OutOfSync", timeout=WAIT_MS
            )
            await shots.take(page, "live-out-of-sync")

            await asyncio.to_thread(tetherenv.start_sync, site.kube, ns, "live-one")
            await expect(tile.locator("[data-sync]")).to_have_attribute(
                "data-sync", "Synced", timeout=WAIT_MS
            )
            await expect(page.locator("[data-count-sync=Synced] .n")).to_have_text("1")
            await shots.take(page, "live-synced")

            delete_quietly(site, tetherenv.Application, "live-one", ns)
            await expect(tile).to_have_count(0, timeout=WAIT_MS)
            assert await page.evaluate("window.tetherStillHere === true")  # never reloaded
    finally:
        delete_quietly(site, tetherenv.Application, "live-one", ns)
        delete_quietly(site, tetherenv.AppProject, "ui-live", ns)
        delete_quietly(site, Namespace, live_ns, None)
