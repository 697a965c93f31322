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

FILTER_FORM = "app-filters"
"""The filter form: its requests put the filters' own URL in the address bar."""


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
            project=q.get("project", "").strip(),
            sync=tuple(dict.fromkeys(s for s in q.getlist("sync") if s in look.SYNC)),
            health=tuple(dict.fromkeys(h for h in q.getlist("health") if h in look.HEALTH)),
            labels=q.get("labels", "").strip(),
            cluster=q.get("cluster", "").strip(),
            namespace=q.get("namespace", "").strip(),
            repo=q.get("repo", "").strip(),
            search=q.get("search", "").strip(),
            view=view if view in VIEWS else "tiles",
            after=q.get("continue", ""),
        )

    @property
    def narrowed(self) -> bool:
        """Whether any filter is set (the view and the page are no filters)."""
        return bool(
            self.project
            or self.sync
            or self.health
            or self.labels
            or self.cluster
            or self.namespace
            or self.repo
            or self.search
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

    def stream_url(self) -> str:
        """The stream that tells this page to refresh.

        Only the filters an app seldom leaves (its project, its labels) narrow the stream: a
        status, cluster or search filter must still hear an app that stops matching, to drop it.
        """
        params = {"project": self.project, "selector": self.labels}
        query = urlencode({k: v for k, v in params.items() if v})
        return "/api/v1/stream/applications" + (f"?{query}" if query else "")

    def url(self, **changes: Any) -> str:
        """This page's URL with ``changes`` applied."""
        f = dataclasses.replace(self, **changes)
        pairs: list[tuple[str, str]] = [
            (k, v)
            for k, v in (
                ("search", f.search),
                ("project", f.project),
                ("labels", f.labels),
                ("cluster", f.cluster),
                ("namespace", f.namespace),
                ("repo", f.repo),
            )
            if v
        ]
        pairs += [("sync", s) for s in f.sync] + [("health", h) for h in f.health]
        if f.view != "tiles":
            pairs.append(("view", f.view))
        if f.after:
            pairs.append(("continue", f.after))
        return "/applications" + (f"?{urlencode(pairs)}" if pairs else "")

    def only_sync(self, status: str) -> str:
        """The first page of these filters with the sync filter set to ``status`` alone."""
        return self.url(sync=(status,), after="")

    def only_health(self, status: str) -> str:
        """The first page of these filters with the health filter set to ``status`` alone."""
        return self.url(health=(status,), after="")


QUIET_OPERATIONS = frozenset({"Succeeded"})
"""Operation phases a tile or row leaves out: a finished, successful sync says nothing the sync
badge does not; a running, failed or erroneous one is news."""

EMPTY_COUNTS: dict[str, Any] = {"total": 0, "sync": {}, "health": {}}


async def _items(api: apicall.Api, path: str) -> list[Any]:
    """A settings list's items, to suggest and name things with.

    A list the user may not read (or that fails) gives nothing: the filters still take whatever
    is typed, and a destination shows as its spec gives it.
    """
    try:
        answer = await api.get(path)
    except apicall.NotSignedIn:
        raise
    except apicall.ApiCallFailed:
        return []
    items = answer.get("items") if isinstance(answer, dict) else None
    return items if isinstance(items, list) else []


def _dig(item: Any, path: str) -> str:
    for part in path.split("."):
        item = item.get(part) if isinstance(item, dict) else None
    return item if isinstance(item, str) else ""


async def _names(api: apicall.Api, path: str, field: str) -> list[str]:
    """Each item's ``field`` from a settings list, sorted: suggestions for a filter."""
    return sorted({value for item in await _items(api, path) if (value := _dig(item, field))})


async def _cluster_names(api: apicall.Api) -> dict[str, str]:
    """Each visible cluster's server URL and the name it goes by (``in-cluster``).

    Argo CD shows a destination by its cluster's name: a name reads better than a URL and fits
    a tile.
    """
    return {
        server: name
        for item in await _items(api, "/api/v1/clusters")
        if (server := _dig(item, "server")) and (name := _dig(item, "name"))
    }


async def _list(api: apicall.Api, filters: Filters) -> dict[str, Any]:
    """What the list shows; a filter the API refuses (a bad label selector) is said so."""
    try:
        answer = await api.get("/api/v1/applications", filters.api_params())
    except apicall.NotSignedIn:
        raise
    except apicall.ApiCallFailed as exc:
        if exc.status != 400:
            raise
        return {
            "apps": [],
            "counts": EMPTY_COUNTS,
            "next_page": "",
            "remaining": None,
            "resource_version": "",
            "error": exc.message,
        }
    metadata = answer.get("metadata") or {}
    remaining = metadata.get("remainingItemCount")
    return {
        "apps": [appview.app_view(item) for item in answer.get("items") or []],
        "counts": metadata.get("counts") or EMPTY_COUNTS,
        "next_page": metadata.get("continue") or "",
        "remaining": remaining if isinstance(remaining, int) else None,
        "resource_version": metadata.get("resourceVersion") or "",
        "error": "",
    }


@router.get("/applications", name="applications_page")
async def applications_page(request: Request) -> HTMLResponse:
    """The whole page, or only the list when htmx asks for it."""
    api = apicall.api_of(request)
    filters = Filters.of(request)
    listed = await _list(api, filters)  # first: it is the one that finds no session
    cluster_names = await _cluster_names(api)
    values: dict[str, Any] = {
        "filters": filters,
        "sync_statuses": list(look.SYNC),
        "health_statuses": list(look.HEALTH),
        "quiet_operations": QUIET_OPERATIONS,
        "cluster_names": cluster_names,
        **listed,
    }
    if request.headers.get("hx-target") == LIST_TARGET and not request.headers.get(
        "hx-history-restore-request"
    ):
        response = render.html(request, "_app_list.html", **values)
        if request.headers.get("hx-trigger") == FILTER_FORM:
            # The form sends every field, empty ones too; the address bar gets the short form.
            response.headers["HX-Push-Url"] = filters.url()
        return response
    userinfo = await api.get("/api/v1/session/userinfo")
    return render.html(
        request,
        "applications.html",
        section="applications",
        user=userinfo.get("username") or "",
        projects=await _names(api, "/api/v1/projects", "metadata.name"),
        clusters=sorted({*cluster_names, *cluster_names.values()}),
        repos=await _names(api, "/api/v1/repositories", "repo"),
        **values,
    )
