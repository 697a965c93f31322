"""An application's page in Debian's Chromium: its resource tree, its list, a resource's diff.

The demo apps under a real ``tether run`` on the full tier (kube-controller-manager makes the
ReplicaSets, EndpointSlices and Pods; kwok runs the Pods). Changes by hand go to apps the tests
create without automated sync, so they stay OutOfSync until the test syncs them.
"""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import AsyncIterator

import pytest
from lightkube import ApiError
from lightkube.resources.apps_v1 import Deployment
from lightkube.resources.core_v1 import ConfigMap, Namespace
from lightkube.types import PatchType
from playwright.async_api import Locator, Page, ViewportSize

from tests.support import tetherenv, uienv
from tests.support.tetherenv import Application

pytestmark = [pytest.mark.timeout(240), pytest.mark.usefixtures("full_cluster")]

WIDE: ViewportSize = {"width": 1920, "height": 1080}
LIVE_S = 60_000
"""How long the page may take to show a change (the watch, a refresh, the stream), in ms."""

NO_DIFFERENCES = "() => document.querySelector('[data-diff-summary]')?.innerText.startsWith('No ')"
"""The open diff says there is nothing left to show."""

SERVER_WRITTEN = ("managedFields", "resourceVersion", "creationTimestamp", "uid:", "status:")
"""What the API server adds to a live object; none of it may show as a difference."""


def node(page: Page, kind: str, name: str = "") -> Locator:
    """A node of the drawn tree."""
    named = f"[data-node-name='{name}']" if name else ""
    return page.locator(f"#resource-tree [data-node-kind='{kind}']{named}")


async def open_from_list(page: Page, site: uienv.Site, name: str) -> None:
    await page.locator(f"[data-app='{site.namespace}/{name}'] a").first.click()
    await page.wait_for_url(f"**/applications/{site.namespace}/{name}")
    await page.locator("#resource-tree[data-tree-ready=true]").wait_for()


async def parents(locator: Locator) -> list[str]:
    return (await locator.get_attribute("data-parents") or "").split()


@contextlib.asynccontextmanager
async def hand_app(site: uienv.Site, label: str) -> AsyncIterator[tuple[str, str]]:
    """An app of the demo's plain YAML without automated sync, synced once: (name, namespace)."""
    name = f"{label}-{uuid.uuid4().hex[:6]}"
    target = f"{site.namespace}-{name}"
    body = tetherenv.application(
        name,
        site.namespace,
        site.repo.url,
        "plain",
        target,
        syncPolicy={"syncOptions": ["CreateNamespace=true"]},
    )
    tetherenv.create(site.kube, body)
    try:
        await tetherenv.eventually(
            lambda: tetherenv.sync_status(site.kube, site.namespace, name), what="a comparison"
        )
        tetherenv.start_sync(site.kube, site.namespace, name)
        await tetherenv.eventually(
            lambda: tetherenv.synced_healthy(site.kube, site.namespace, name),
            timeout=90,
            what=f"{name} synced",
        )
        yield name, target
    finally:
        site.kube.delete(Application, name, namespace=site.namespace)
        with contextlib.suppress(ApiError):  # never made if the app never synced
            site.kube.delete(Namespace, target)


async def test_an_app_opened_from_the_list_shows_its_workload_and_its_services_endpointslice(
    site, shots
):
    async with uienv.chromium() as browser:
        page = await uienv.signed_in(browser, site, "admin", site.admin_password)
        await open_from_list(page, site, "demo-plain")
        deployment = node(page, "Deployment", "web")
        replicaset = node(page, "ReplicaSet")
        pod = node(page, "Pod")
        service = node(page, "Service", "web")
        endpoints = node(page, "EndpointSlice")
        assert await deployment.get_attribute("data-health") == "Healthy"
        assert await deployment.get_attribute("data-sync") == "Synced"
        assert await deployment.get_attribute("data-node-namespace") == site.destination(
            "demo-plain"
        )
        assert await parents(deployment) == ["n0"]
        assert await parents(replicaset) == [await deployment.get_attribute("data-node-id")]
        assert await parents(pod) == [await replicaset.get_attribute("data-node-id")]
        assert await pod.get_attribute("data-health") == "Healthy"
        assert await pod.get_attribute("data-sync") == ""  # a live child: no sync status
        # The Service's addresses, from kube-controller-manager: a child of the Service.
        assert (await endpoints.get_attribute("data-node-name") or "").startswith("web-")
        assert await parents(endpoints) == [await service.get_attribute("data-node-id")]
        assert (
            await page.get_by_role(
                "link", name=re.compile(r"^Deployment web Healthy Synced")
            ).count()
            == 1
        )
        assert await uienv.accessibility_violations(page) == []
        await shots.take(page, "tree")
        await page.set_viewport_size(WIDE)
        await shots.take(page, "tree-wide")

        # Without a mouse: Enter on a node opens its panel, Escape closes it and comes back.
        await deployment.focus()
        await page.keyboard.press("Enter")
        await page.locator("#resource-panel-title").wait_for()
        assert await page.evaluate("document.activeElement.id") == "resource-panel-title"
        assert "node=apps%2FDeployment%2F" in page.url
        assert await deployment.get_attribute("aria-current") == "true"
        await page.keyboard.press("Escape")
        await page.locator("#resource-panel-title").wait_for(state="detached")
        assert await page.evaluate("document.activeElement.dataset.nodeKind") == "Deployment"
        assert "node=" not in page.url

        await page.locator("[data-view=list]").focus()
        await page.keyboard.press("Enter")
        await page.wait_for_url("**view=list**")
        rows = page.locator("#app-resources tr[data-node-kind]")
        await rows.first.wait_for()
        kinds = [await r.get_attribute("data-node-kind") or "" for r in await rows.all()]
        assert sorted(set(kinds)) == [
            "ConfigMap",
            "Deployment",
            "EndpointSlice",
            "Pod",
            "ReplicaSet",
            "Service",
        ]
        assert await uienv.accessibility_violations(page) == []
        await shots.take(page, "list")


async def test_a_change_by_hand_shows_live_as_out_of_sync_and_the_diff_shows_exactly_it(
    site, shots
):
    async with hand_app(site, "hand") as (name, target), uienv.chromium() as browser:
        page = await uienv.signed_in(browser, site, "admin", site.admin_password)
        await page.goto(f"{site.url}/applications/{site.namespace}/{name}")
        configmap = node(page, "ConfigMap", "web-config")
        await configmap.and_(page.locator("[data-sync=Synced]")).wait_for()
        await page.evaluate("window.stayedOnPage = true")

        site.kube.patch(
            ConfigMap,
            "web-config",
            {"data": {"greeting": "changed by hand"}},
            namespace=target,
            patch_type=PatchType.MERGE,
        )
        await configmap.and_(page.locator("[data-sync=OutOfSync]")).wait_for(timeout=LIVE_S)
        assert await node(page, "Application", name).get_attribute("data-sync") == "OutOfSync"
        assert await page.evaluate("window.stayedOnPage") is True  # updated live, not reloaded
        await shots.take(page, "out-of-sync")

        await configmap.click()  # an OutOfSync resource opens on its diff
        diff = page.locator("[data-diff][data-diff-ready]")
        await diff.wait_for()
        changed = page.locator(".diff-split td.code:not(.same)")
        assert [
            (
                await cell.get_attribute("data-side"),
                await cell.get_attribute("data-change"),
                await cell.locator(".text").text_content(),
            )
            for cell in await changed.all()
        ] == [
            ("live", "removed", "  greeting: changed by hand"),
            ("desired", "added", "  greeting: hello from plain YAML"),
        ]
        for text in (
            await diff.get_attribute("data-diff-live"),
            await diff.get_attribute("data-diff-desired"),
        ):
            assert text and "greeting:" in text
            assert not [field for field in SERVER_WRITTEN if field in text]
        assert await uienv.accessibility_violations(page) == []
        await shots.take(page, "diff-side-by-side")

        await page.get_by_role("button", name="Unified").click()
        lines = page.locator(".diff-unified tr:is([data-change=removed], [data-change=added])")
        assert [
            (await line.get_attribute("data-change"), await line.locator(".text").text_content())
            for line in await lines.all()
        ] == [
            ("removed", "  greeting: changed by hand"),
            ("added", "  greeting: hello from plain YAML"),
        ]
        assert await uienv.accessibility_violations(page) == []
        await shots.take(page, "diff-unified")

        # Synced again (through the API; the header's sync button is another test's): the tree
        # and the open diff follow without a reload.
        tetherenv.start_sync(site.kube, site.namespace, name)
        await configmap.and_(page.locator("[data-sync=Synced]")).wait_for(timeout=LIVE_S)
        summary = page.locator("[data-diff-summary]")
        await page.wait_for_function(NO_DIFFERENCES, timeout=LIVE_S)
        assert await page.evaluate("window.stayedOnPage") is True
        assert "No differences" in await summary.inner_text()
        await shots.take(page, "synced")

        # A Deployment's live object carries status, managedFields and server defaults: none of
        # them is a difference, and none shows in what the diff compares.
        deployment = f"apps/Deployment/{target}/web"
        await page.goto(
            f"{site.url}/applications/{site.namespace}/{name}?node={deployment}&tab=diff"
        )
        await diff.wait_for()
        assert "No differences" in await summary.inner_text()
        assert not await page.locator(".diff-table td.code:not(.same)").count()
        for text in (
            await diff.get_attribute("data-diff-live"),
            await diff.get_attribute("data-diff-desired"),
        ):
            assert text and "replicas: 1" in text
            assert not [field for field in SERVER_WRITTEN if field in text]


async def test_many_quiet_pods_show_as_one_group_that_opens_from_the_keyboard(site, shots):
    async with hand_app(site, "crowd") as (name, target), uienv.chromium() as browser:
        site.kube.patch(
            Deployment,
            "web",
            {"spec": {"replicas": 8}},
            namespace=target,
            patch_type=PatchType.MERGE,
        )
        page = await uienv.signed_in(browser, site, "admin", site.admin_password)
        await page.goto(f"{site.url}/applications/{site.namespace}/{name}")
        group = page.locator("#resource-tree button[data-node-kind=Pod][data-group-count='8']")
        await group.wait_for(timeout=LIVE_S)
        assert await group.get_attribute("aria-expanded") == "false"
        assert await page.locator("#resource-tree a[data-node-kind=Pod]:visible").count() == 0
        await shots.take(page, "grouped")
        await group.focus()
        await page.keyboard.press("Enter")
        await page.locator("#resource-tree a[data-node-kind=Pod]:visible").nth(7).wait_for()
        assert await group.get_attribute("aria-expanded") == "true"
        assert await page.locator("#resource-tree a[data-node-kind=Pod]:visible").count() == 8
        await shots.take(page, "expanded")


async def test_the_root_app_shows_its_child_applications_as_nodes_linking_to_their_pages(
    site, shots
):
    async with uienv.chromium() as browser:
        page = await uienv.signed_in(browser, site, "admin", site.admin_password)
        await open_from_list(page, site, "demo-root")
        for child in uienv.DEMO_CHILDREN:
            link = node(page, "Application", child)
            assert await link.get_attribute("href") == f"/applications/{site.namespace}/{child}"
            assert await link.get_attribute("data-sync") == "Synced"
            assert await link.get_attribute("data-health") == "Healthy"
        assert await uienv.accessibility_violations(page) == []
        await shots.take(page, "app-of-apps")
        await node(page, "Application", "demo-helm").click()
        await page.wait_for_url(f"**/applications/{site.namespace}/demo-helm")
        await page.locator("#resource-tree[data-tree-ready=true]").wait_for()
        assert await node(page, "Deployment", "web").count() == 1
        await shots.take(page, "child-app")
