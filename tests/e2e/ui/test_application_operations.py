"""More of the application page in Debian's Chromium: who sees which button, terminating a sync
that cannot finish, deleting without cascade, and running a resource's action.
"""

from __future__ import annotations

import re

import httpx2
import pytest
from lightkube.resources.apps_v1 import Deployment
from lightkube.resources.core_v1 import ConfigMap
from playwright.async_api import expect

from tests.e2e.ui import apppage
from tests.support import tetherenv, uienv
from tests.support.apiusers import ApiUsers
from tether.ui import appview, render

pytestmark = [pytest.mark.timeout(240), pytest.mark.usefixtures("full_cluster")]

VIEWER_PASSWORD = "viewer-password-1"

STUCK = """\
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: never-bound
  annotations: {argocd.argoproj.io/sync-wave: "0"}
spec:
  storageClassName: tether-test-no-such-class
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 1Mi}}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: after
  annotations: {argocd.argoproj.io/sync-wave: "1"}
data: {a: "1"}
"""
"""Wave 0 never becomes healthy (no such storage class binds the claim), so wave 1 waits."""

PANEL = (
    '{% from "_resource_actions.html" import resource_actions %}'
    "{{ resource_actions(app, resource) }}"
)
"""How the resource panel includes a resource's actions."""


async def synced_by_hand(site: uienv.Site, name: str) -> None:
    """Sync app ``name`` without the UI and wait until its operation is over."""
    ns = site.namespace
    await tetherenv.eventually(
        lambda: tetherenv.sync_status(site.kube, ns, name) == "OutOfSync", 60
    )
    tetherenv.start_sync(site.kube, ns, name)
    app = await tetherenv.eventually(lambda: tetherenv.finished_app(site.kube, ns, name), 90)
    assert app["status"]["operationState"]["phase"] == "Succeeded", app["status"]


async def test_a_read_only_user_sees_no_sync_delete_or_rollback_and_the_api_refuses_their_sync(
    site, shots, full_cluster
):
    users = ApiUsers(site.url, full_cluster.kubeconfig, site.namespace)
    await users.user("viewer")
    await users.assign("viewer", "role:readonly")
    await users.set_password("viewer", VIEWER_PASSWORD)
    async with uienv.chromium() as browser:
        page = await uienv.signed_in(browser, site, "viewer", VIEWER_PASSWORD)
        await page.goto(apppage.url(site, "demo-plain"))
        await apppage.sync_shows(page, "Synced")
        actions = apppage.header(page).locator(".app-actions")
        await expect(actions.locator("[data-action=refresh]")).to_be_visible()
        for hidden in ("sync", "delete", "terminate"):
            assert await actions.locator(f"[data-action={hidden}]").count() == 0, hidden
        assert await page.locator("#sync-dialog, #delete-dialog").count() == 0
        await page.click("[data-action=history]")
        rows = page.locator("#history-dialog tr[data-history-id]")
        await expect(rows.first).to_be_visible()
        assert await page.locator("#history-dialog [data-action=rollback]").count() == 0
        await shots.take(page, "read-only-history")

    async with httpx2.AsyncClient(base_url=site.url, timeout=30) as http:
        login = {"username": "viewer", "password": VIEWER_PASSWORD}
        token = (await http.post("/api/v1/session", json=login)).json()["token"]
        refused = await http.post(
            "/api/v1/applications/demo-plain/sync",
            params={"appNamespace": site.namespace},
            json={},
            headers={"Authorization": f"Bearer {token}"},
        )
    assert refused.status_code == 403, refused.text


async def test_a_sync_stuck_in_its_first_wave_shows_its_waves_and_is_terminated_from_the_ui(
    site, shots
):
    site.repo.commit({"ui-stuck/stuck.yaml": STUCK}, "A claim that never binds")
    with apppage.test_app(site, "stuck", path="ui-stuck") as destination:
        async with uienv.chromium() as browser:
            page = await uienv.signed_in(browser, site, "admin", site.admin_password)
            await page.goto(apppage.url(site, "stuck"))
            await apppage.sync_shows(page, "OutOfSync")
            await apppage.sync_from_dialog(page)
            await apppage.operation_shows(page, "Running")
            waves = apppage.header(page).locator(".waves")
            first = waves.locator("[data-phase=Sync][data-wave='0']")
            then = waves.locator("[data-phase=Sync][data-wave='1']")
            await expect(first).to_have_attribute("data-state", "running", timeout=60_000)
            await expect(then).to_have_attribute("data-state", "pending")
            await first.locator("summary").click()
            await shots.take(page, "waves-running")

            await page.click("[data-action=terminate]")
            await expect(page.locator("#toasts .toast").last).to_have_text(
                "Terminating the operation"
            )
            await apppage.operation_shows(page, "Failed")
            await expect(apppage.header(page).locator(".operation-message")).to_have_text(
                re.compile("terminated", re.IGNORECASE)
            )
            assert await apppage.header(page).locator("[data-action=terminate]").count() == 0
            # The wave it stopped in, and the one it never ran; the list opened stays open.
            await expect(first).to_have_attribute("data-state", "stopped")
            await expect(then).to_have_attribute("data-state", "not run")
            await expect(first.locator("details")).to_have_attribute("open", "")
            assert not tetherenv.exists(site.kube, ConfigMap, "after", destination)
            await shots.take(page, "terminated")
            await page.set_viewport_size({"width": 1920, "height": 1080})
            await shots.take(page, "terminated-wide")


async def test_deleting_without_cascade_from_the_ui_leaves_the_resources(site, shots):
    with apppage.test_app(site, "keep") as destination:
        await synced_by_hand(site, "keep")
        async with uienv.chromium() as browser:
            page = await uienv.signed_in(browser, site, "admin", site.admin_password)
            await page.goto(apppage.url(site, "keep"))
            await page.click("[data-action=delete]")
            dialog = page.locator("#delete-dialog")
            await expect(dialog).to_be_visible()
            await dialog.get_by_label(re.compile("Keep them")).check()
            submit = dialog.locator("button[type=submit]")
            await expect(submit).to_be_disabled()
            await dialog.get_by_label(re.compile("to confirm")).fill("keep")
            await expect(submit).to_be_enabled()
            await shots.take(page, "delete-dialog")
            await submit.click()
            await page.wait_for_url("**/applications")
            await tetherenv.eventually(
                lambda: (
                    not tetherenv.exists(site.kube, tetherenv.Application, "keep", site.namespace)
                ),
                60,
                "the app to be deleted",
            )
            assert tetherenv.exists(site.kube, ConfigMap, "web-config", destination)
            assert tetherenv.exists(site.kube, Deployment, "web", destination)
            await shots.take(page, "after-delete")


async def test_a_resource_action_restarts_a_deployment_from_the_ui(site, shots):
    with apppage.test_app(site, "restart") as destination:
        await synced_by_hand(site, "restart")
        async with uienv.chromium() as browser:
            page = await uienv.signed_in(browser, site, "admin", site.admin_password)
            await page.goto(apppage.url(site, "restart"))
            # What the resource panel does: render the macro into the page, htmx loads it.
            app = appview.app_view(
                tetherenv.get(site.kube, tetherenv.Application, "restart", site.namespace)
            )
            resource = {
                "group": "apps",
                "version": "v1",
                "kind": "Deployment",
                "namespace": destination,
                "name": "web",
            }
            panel = render.ENVIRONMENT.from_string(PANEL).render(app=app, resource=resource)
            await page.evaluate(
                """html => {
                    const panel = document.createElement('section');
                    panel.id = 'panel-under-test';
                    panel.innerHTML = html;
                    document.querySelector('main').append(panel);
                    window.htmx.process(panel);
                }""",
                panel,
            )
            restart = page.locator("#panel-under-test [data-action=resource-restart]")
            await expect(restart).to_be_visible()
            await shots.take(page, "resource-actions")
            await restart.click()
            await expect(page.locator("#toasts .toast").last).to_contain_text("Restart")

            def restarted_at() -> str | None:
                deployment = tetherenv.get(site.kube, Deployment, "web", destination)
                annotations = deployment["spec"]["template"]["metadata"].get("annotations") or {}
                return annotations.get("kubectl.kubernetes.io/restartedAt")

            assert await tetherenv.eventually(restarted_at, 30, "the restart annotation")
