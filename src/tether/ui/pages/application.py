"""An application's page: its header and operation, its resource tree, its resources' panels.

htmx asks the page's own URL for its parts and names the part in ``HX-Target``: the resources
region (the tree or the list, one resource-tree call) or the resource panel (``resourcepanel``).
The whole page never waits for a panel: a selected resource's panel loads itself afterwards.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from tether.ui import apicall, appview, render, treeview
from tether.ui.pages import appheader, resourcepanel
from tether.ui.pages.resources import PageState, app_params, fetch_tree, graph_of

__all__ = ["app_params", "router"]

router = APIRouter(include_in_schema=False)

RESOURCES_TARGET = "app-resources"
"""The live region holding the tree or the list."""

FRAGMENT_HEADERS = {"Vary": "HX-Request, HX-Target", "Cache-Control": "no-store"}
"""A part and the whole page share a URL: no cache may answer one with the other."""


def stream_url(app: appview.AppView) -> str:
    """The API's stream of this one app's changes."""
    return "/api/v1/stream/applications?" + urlencode(
        {"name": app.name, "appNamespace": app.namespace}
    )


def resources_values(
    obj: dict[str, Any], tree: dict[str, Any] | str, state: PageState
) -> dict[str, Any]:
    """What ``_resources.html`` shows."""
    app = appview.app_view(obj)
    return {
        "app": app,
        "graph": graph_of(obj, tree),
        "tree_error": tree if isinstance(tree, str) else "",
        "state": state,
        "stream": stream_url(app),
    }


async def _app(api: apicall.Api, name: str, namespace: str) -> dict[str, Any]:
    obj: dict[str, Any] = await api.get(apicall.app_path(name), app_params(namespace))
    return obj


@router.get("/applications/{namespace}/{name}", name="application_page")
async def application_page(request: Request, namespace: str, name: str) -> HTMLResponse:
    """The whole page, or the part of it htmx names in ``HX-Target``."""
    api = apicall.api_of(request)
    state = PageState.of(request, treeview.app_href(namespace, name))
    part = request.headers.get("hx-target", "") if request.headers.get("hx-request") else ""
    if part == resourcepanel.TARGET:
        response = await resourcepanel.panel(request, api, namespace, name, state)
    elif part == RESOURCES_TARGET:
        obj, tree = await asyncio.gather(
            _app(api, name, namespace), fetch_tree(api, name, namespace)
        )
        response = render.html(request, "_resources.html", **resources_values(obj, tree, state))
    else:
        obj, userinfo, tree = await asyncio.gather(
            _app(api, name, namespace),
            api.get("/api/v1/session/userinfo"),
            fetch_tree(api, name, namespace),
        )
        values: dict[str, Any] = {"obj": obj, **resources_values(obj, tree, state)}
        values |= await appheader.values(api, obj)
        response = render.html(
            request,
            "application.html",
            section="applications",
            user=userinfo.get("username") or "",
            **values,
        )
    response.headers.update(FRAGMENT_HEADERS)
    return response
