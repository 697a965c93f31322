"""The applications page: tiles or a table, filters, counts per status, pages, live updates.

Filtering, counting and paging happen in the API (``GET /api/v1/applications`` with tether's
``sync``, ``health``, ``cluster``, ``destNamespace``, ``search``, ``counts``, ``limit`` and
``continue``), so the page costs the same with ten apps or ten thousand.
"""

from __future__ import annotations

import dataclasses
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from tether.ui import apicall, appview, look, render

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 60
"""Apps per page: a screenful of tiles on a wide screen, a few on a laptop."""

VIEWS = ("tiles", "table")

LIST_TARGET = "app-list"
"""The element htmx replaces when a filter changes or the stream reports a change."""


@dataclasses.dataclass(frozen=True)
class Filters:
    """The filters in the page's query string (what the form sends and the URL keeps)."""

    project: str = ""
    sync: tuple[str, ...] = ()
    health: tuple[str, ...] = ()
    labels: str = ""
    cluster: str = ""
    namespace: str = ""
    repo: str = ""
    search: str = ""
    view: str = "tiles"
    after: str = ""

    @classmethod
    def of(cls, request: Request) -> Filters:
        """The filters ``request`` asks for (unknown statuses and views are dropped)."""
        q = request.query_params
        view = q.get("view", "tiles")
        return cls(
            project=q.get("project", ""),
            sync=tuple(s for s in q.getlist("sync") if s in look.SYNC),
            health=tuple(h for h in q.getlist("health") if h in look.HEALTH),
            labels=q.get("labels", ""),
            cluster=q.get("cluster", ""),
            namespace=q.get("namespace", ""),
            repo=q.get("repo", ""),
            search=q.get("search", ""),
            view=view if view in VIEWS else "tiles",
            after=q.get("continue", ""),
        )

    def api_params(self) -> dict[str, Any]:
        """The API's parameters for this page."""
        params: dict[str, Any] = {"limit": PAGE_SIZE, "counts": "true"}
        wanted = {
            "project": self.project,
            "sync": list(self.sync),
            "health": list(self.health),
            "selector": self.labels,
            "cluster": self.cluster,
            "destNamespace": self.namespace,
            "repo": self.repo,
            "search": self.search,
            "continue": self.after,
        }
        params.update({k: v for k, v in wanted.items() if v})
        return params

    def stream_params(self, resource_version: str) -> str:
        """The query of the stream telling this page to refresh, from the list's version on.

        The stream filters by project and labels. Without a version it would start with every
        app the user may see (10,000 events of 2 KB in S8, on each visit), and the page would
        reload itself once they arrived.
        """
        params = {
            "project": self.project,
            "selector": self.labels,
            "resourceVersion": resource_version,
        }
        return urlencode({k: v for k, v in params.items() if v})

    def url(self, **changes: Any) -> str:
        """This page's URL with ``changes`` applied."""
        f = dataclasses.replace(self, **changes)
        pairs: list[tuple[str, str]] = [
            (k, v)
            for k, v in (
                ("project", f.project),
                ("labels", f.labels),
                ("cluster", f.cluster),
                ("namespace", f.namespace),
                ("repo", f.repo),
                ("search", f.search),
            )
            if v
        ]
        pairs += [("sync", s) for s in f.sync] + [("health", h) for h in f.health]
        if f.view != "tiles":
            pairs.append(("view", f.view))
        if f.after:
            pairs.append(("continue", f.after))
        return "/applications" + (f"?{urlencode(pairs)}" if pairs else "")


async def _projects(api: apicall.Api) -> list[str]:
    try:
        answer = await api.get("/api/v1/projects")
    except apicall.NotSignedIn:
        raise
    except apicall.ApiCallFailed:
        return []  # a user who may not list projects still filters by typing one
    return sorted(str((p.get("metadata") or {}).get("name")) for p in answer.get("items") or [])


@router.get("/applications", name="applications_page")
async def applications_page(request: Request) -> HTMLResponse:
    """The whole page, or only the list when htmx asks for it."""
    api = apicall.api_of(request)
    filters = Filters.of(request)
    answer = await api.get("/api/v1/applications", filters.api_params())
    metadata = answer.get("metadata") or {}
    values: dict[str, Any] = {
        "apps": [appview.app_view(item) for item in answer.get("items") or []],
        "filters": filters,
        "counts": metadata.get("counts") or {"total": 0, "sync": {}, "health": {}},
        "next_page": metadata.get("continue") or "",
        "resource_version": metadata.get("resourceVersion") or "",
        "sync_statuses": list(look.SYNC),
        "health_statuses": list(look.HEALTH),
    }
    if request.headers.get("hx-target") == LIST_TARGET:
        return render.html(request, "_app_list.html", **values)
    userinfo = await api.get("/api/v1/session/userinfo")
    return render.html(
        request,
        "applications.html",
        section="applications",
        user=userinfo.get("username") or "",
        projects=await _projects(api),
        **values,
    )
