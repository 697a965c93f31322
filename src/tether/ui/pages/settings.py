"""The settings pages: repositories, clusters, projects and accounts the user may see.

Each page lists what the API lists for its user (the API filters by RBAC and never answers a
credential); adding a repository is a form the browser sends to the API, shown only to users
the API's can-i allows.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from tether.ui import apicall, render, settingsview

router = APIRouter(include_in_schema=False)

SECTIONS = (
    # (path, title, what it holds): the index and every page's sub-navigation.
    ("repositories", "Repositories", "Git and Helm repositories configured with credentials"),
    ("clusters", "Clusters", "Where applications deploy to"),
    ("projects", "Projects", "What each project's applications may deploy, from where, to where"),
    ("accounts", "Accounts", "Local accounts and their API keys"),
)

REPO_TYPES = ("git", "helm")
"""The repository types the add form offers (the API's ``type``)."""


async def _page(
    request: Request, api: apicall.Api, template: str, current: str, **values: Any
) -> HTMLResponse:
    userinfo = await api.get("/api/v1/session/userinfo")
    return render.html(
        request,
        template,
        section="settings",
        user=userinfo.get("username") or "",
        sections=SECTIONS,
        current=current,
        **values,
    )


async def _items(api: apicall.Api, path: str) -> list[Any]:
    answer = await api.get(path)
    items = answer.get("items") if isinstance(answer, dict) else None
    return items if isinstance(items, list) else []


@router.get("/settings", name="settings_page")
async def settings_page(request: Request) -> HTMLResponse:
    """The settings index."""
    api = apicall.api_of(request)
    return await _page(request, api, "settings.html", "")


@router.get("/settings/repositories", name="settings_repositories")
async def repositories_page(request: Request) -> HTMLResponse:
    """The repositories the user may see, and the add form when they may add one."""
    api = apicall.api_of(request)
    repos = settingsview.views(await _items(api, "/api/v1/repositories"), settingsview.repo_view)
    return await _page(
        request,
        api,
        "settings_repositories.html",
        "repositories",
        repos=repos,
        may_create=await api.may("repositories", "create", "*"),
        repo_types=REPO_TYPES,
    )


@router.get("/settings/clusters", name="settings_clusters")
async def clusters_page(request: Request) -> HTMLResponse:
    """The clusters the user may see."""
    api = apicall.api_of(request)
    found = settingsview.views(await _items(api, "/api/v1/clusters"), settingsview.cluster_view)
    return await _page(request, api, "settings_clusters.html", "clusters", clusters=found)


@router.get("/settings/projects", name="settings_projects")
async def projects_page(request: Request) -> HTMLResponse:
    """The projects the user may see, each with a summary of its rules."""
    api = apicall.api_of(request)
    found = settingsview.views(await _items(api, "/api/v1/projects"), settingsview.project_view)
    return await _page(request, api, "settings_projects.html", "projects", projects=found)


@router.get("/settings/projects/{name}", name="settings_project")
async def project_page(request: Request, name: str) -> HTMLResponse:
    """One project: its sources, destinations, resource lists, roles and sync windows."""
    api = apicall.api_of(request)
    answer = await api.get(f"/api/v1/projects/{quote(name, safe='')}/detailed")
    return await _page(
        request,
        api,
        "settings_project.html",
        "projects",
        project=settingsview.project_view(answer.get("project") or {}),
        repos=settingsview.views(answer.get("repositories") or [], settingsview.repo_view),
        clusters=settingsview.views(answer.get("clusters") or [], settingsview.cluster_view),
    )


@router.get("/settings/accounts", name="settings_accounts")
async def accounts_page(request: Request) -> HTMLResponse:
    """The accounts the user may see (their own at least)."""
    api = apicall.api_of(request)
    found = settingsview.views(await _items(api, "/api/v1/account"), settingsview.account_view)
    return await _page(request, api, "settings_accounts.html", "accounts", accounts=found)
