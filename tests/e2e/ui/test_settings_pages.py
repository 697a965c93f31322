"""The settings pages in Debian's Chromium: repositories, clusters, projects and accounts, each as
much as its user may see through the API, and never a credential."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
from playwright.async_api import Browser, Page, expect

from tests.support import uienv
from tests.support.apiusers import ApiUsers
from tether.api.context import TOKEN_COOKIE
from tether.model.project import default_project

pytestmark = [pytest.mark.timeout(240), pytest.mark.usefixtures("full_cluster")]

PRIVATE_REPO = "https://git.example.test/team/private.git"
TEAM = "ui-team"


def team_project(namespace: str, repo: str) -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AppProject",
        "metadata": {"name": TEAM, "namespace": namespace},
        "spec": {
            "description": "The team's apps",
            "sourceRepos": [repo],
            "destinations": [{"server": "https://kubernetes.default.svc", "namespace": "team-*"}],
            "clusterResourceWhitelist": [{"group": "", "kind": "Namespace"}],
            "namespaceResourceBlacklist": [{"group": "", "kind": "ResourceQuota"}],
            "roles": [
                {
                    "name": "ci",
                    "description": "CI deploys",
                    "policies": [f"p, proj:{TEAM}:ci, applications, sync, {TEAM}/*, allow"],
                    "groups": ["ci-bots"],
                }
            ],
            "syncWindows": [
                {
                    "kind": "deny",
                    "schedule": "0 22 * * *",
                    "duration": "8h",
                    "applications": ["*"],
                    "manualSync": True,
                }
            ],
        },
    }


def admin_api(site: uienv.Site) -> httpx2.Client:
    """A client of the site's API signed in as ``admin``."""
    body = {"username": "admin", "password": site.admin_password}
    answer = httpx2.post(site.url + "/api/v1/session", json=body, timeout=30)
    assert answer.status_code == 200, answer.text
    token = answer.json()["token"]
    return httpx2.Client(
        base_url=site.url, timeout=30, headers={"Authorization": f"Bearer {token}"}
    )


@pytest.fixture(scope="module")
def settings(site: uienv.Site) -> Iterator[dict[str, str]]:
    """What ``tether install`` and an administrator would have made: the default project, a
    team's project with a role token, and the demo's repository, all through the API."""
    with admin_api(site) as api:
        for project in (default_project(site.namespace), team_project(site.namespace, "*")):
            answer = api.post("/api/v1/projects", json={"project": project})
            assert answer.status_code == 200, answer.text
        answer = api.post("/api/v1/repositories", json={"repo": site.repo.url})
        assert answer.status_code == 200, answer.text
        answer = api.post(
            f"/api/v1/projects/{TEAM}/roles/ci/token", json={"id": "ci-build", "expiresIn": 3600}
        )
        assert answer.status_code == 200, answer.text
        yield {"project_token": answer.json()["token"]}


@pytest.fixture(scope="module")
def users(site: uienv.Site, full_cluster: Any) -> ApiUsers:
    """Accounts and grants of the site's API, made as an administrator makes them."""
    return ApiUsers(site.url, full_cluster.kubeconfig, site.namespace)


async def as_token(browser: Browser, site: uienv.Site, token: str) -> Page:
    """A page whose session cookie is ``token`` (an API key, as a browser would hold it)."""
    context = await browser.new_context(viewport=uienv.LAPTOP)
    await context.add_cookies([{"name": TOKEN_COOKIE, "value": token, "url": site.url}])
    return await context.new_page()


async def test_admin_sees_repositories_clusters_projects_and_accounts_and_adds_a_repository(
    site, settings, shots
):
    password = "hunter-" + secrets.token_hex(8)
    async with uienv.chromium() as browser:
        page = await uienv.signed_in(browser, site, "admin", site.admin_password)
        await page.click("nav[aria-label=Main] >> text=Settings")
        await page.wait_for_url("**/settings")
        await shots.take(page, "settings-index")
        await page.click(".settings-index >> text=Repositories")
        await page.wait_for_url("**/settings/repositories")
        await expect(page.locator(f"tr[data-repo='{site.repo.url}']")).to_have_count(1)

        # A private repository through the form: its password goes to the API and nowhere else.
        await page.click("#add-repository summary")
        await page.fill("#r-repo", PRIVATE_REPO)
        await page.fill("#r-username", "deployer")
        await page.fill("#r-password", password)
        await page.click("#add-repository button[type=submit]")
        row = page.locator(f"tr[data-repo='{PRIVATE_REPO}']")
        await expect(row).to_have_count(1)
        assert "deployer" in await row.inner_text()
        await shots.take(page, "repositories")
        assert password not in await page.content()
        assert await uienv.accessibility_violations(page) == []

        await page.click(".settings-nav >> text=Clusters")
        in_cluster = page.locator("tr[data-cluster='https://kubernetes.default.svc']")
        await expect(in_cluster).to_contain_text("in-cluster")
        await shots.take(page, "clusters")

        await page.click(".settings-nav >> text=Projects")
        await expect(page.locator("tr[data-project]")).to_have_count(2)
        assert "The team's apps" in await page.locator(f"tr[data-project={TEAM}]").inner_text()
        await shots.take(page, "projects")
        await page.click(f"tr[data-project={TEAM}] a")
        await page.wait_for_url(f"**/settings/projects/{TEAM}")
        main = await page.locator("main").inner_text()
        for shown in (
            "The team's apps",
            "team-*",
            "Namespace",  # cluster-scoped allow list
            "ResourceQuota",  # namespaced deny list
            f"p, proj:{TEAM}:ci, applications, sync, {TEAM}/*, allow",
            "ci-bots",
            "ci-build",  # the token's id, never the token
            "0 22 * * *",
        ):
            assert shown in main, shown
        assert settings["project_token"] not in await page.content()
        await shots.take(page, "project")
        assert await uienv.accessibility_violations(page) == []

        await page.goto(site.url + "/settings/projects/default")
        assert "*" in await page.locator("#source-repos").inner_text()

        await page.click(".settings-nav >> text=Accounts")
        admin = page.locator("tr[data-account=admin]")
        await expect(admin).to_contain_text("enabled")
        await expect(admin).to_contain_text("login")
        await shots.take(page, "accounts")

    with admin_api(site) as api:
        listed = api.get("/api/v1/repositories").text
    assert PRIVATE_REPO in listed and password not in listed


async def test_a_read_only_user_sees_what_role_readonly_allows_and_no_add_form(
    site, settings, users, shots
):
    viewer = await users.user("viewer")
    await users.assign("viewer", "role:readonly")
    async with uienv.chromium() as browser:
        page = await as_token(browser, site, viewer)
        await page.goto(site.url + "/settings/repositories")
        await expect(page.locator(f"tr[data-repo='{site.repo.url}']")).to_have_count(1)
        assert await page.locator("#add-repository").count() == 0
        await page.goto(site.url + "/settings/clusters")
        await expect(page.locator("tr[data-cluster]")).to_have_count(1)
        await page.goto(site.url + "/settings/projects")
        await expect(page.locator("tr[data-project]")).to_have_count(2)
        await page.goto(site.url + "/settings/accounts")
        await expect(page.locator("tr[data-account=viewer]")).to_contain_text("(you)")
        assert await page.locator("tr[data-account=admin]").count() == 1
        await shots.take(page, "viewer-accounts")


async def test_a_user_granted_one_project_sees_that_project_and_their_own_account_only(
    site, settings, users, shots
):
    guest = await users.user("guest", ("projects", "get", TEAM))
    async with uienv.chromium() as browser:
        page = await as_token(browser, site, guest)
        await page.goto(site.url + "/settings/projects")
        await expect(page.locator("tr[data-project]")).to_have_count(1)
        assert await page.locator(f"tr[data-project={TEAM}]").count() == 1
        await page.goto(site.url + "/settings/repositories")
        assert await page.locator(".empty").inner_text() == "No repositories you may see."
        await page.goto(site.url + "/settings/clusters")
        assert await page.locator(".empty").inner_text() == "No clusters you may see."
        await page.goto(site.url + "/settings/accounts")
        await expect(page.locator("tr[data-account]")).to_have_count(1)
        assert await page.locator("tr[data-account=guest]").count() == 1
        await page.goto(site.url + "/settings/projects/default")
        assert await page.locator("h1").inner_text() == "Permission denied"
        await shots.take(page, "guest-denied")
