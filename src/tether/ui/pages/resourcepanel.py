"""The resource panel: one resource's statuses, live and desired manifests, diff and Events.

A managed resource's manifests come from ``managed-resources`` (the comparison the controller
makes, Secrets masked by the API); a live child's from ``resource``; Events by the object's UID.
Each part that fails says why in its place: the rest of the panel still shows.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from tether.ui import apicall, appview, manifestview, render, treeview
from tether.ui.pages.resources import TABS, PageState, app_params, fetch_tree, graph_of

TARGET = "resource-panel"
"""The region the panel loads into."""


@dataclasses.dataclass(frozen=True)
class Part:
    """What one API call gave the panel: its answer, or the API's message."""

    value: Any = None
    error: str = ""


async def _part(call: Awaitable[Any]) -> Part:
    try:
        return Part(value=await call)
    except apicall.NotSignedIn:
        raise
    except apicall.ApiCallFailed as err:
        return Part(error=err.message)


async def _nothing() -> Any:
    return None


def _managed_params(namespace: str, node: treeview.GraphNode) -> dict[str, str]:
    return app_params(namespace) | {
        "namespace": node.namespace,
        "name": node.name,
        "group": node.group,
        "kind": node.kind,
    }


def _resource_params(namespace: str, node: treeview.GraphNode) -> dict[str, str]:
    # Argo CD's names for one object of the tree.
    return app_params(namespace) | {
        "resourceName": node.name,
        "namespace": node.namespace,
        "group": node.group,
        "version": node.version,
        "kind": node.kind,
    }


def _events_params(namespace: str, node: treeview.GraphNode) -> dict[str, str]:
    return app_params(namespace) | {
        "resourceName": node.name,
        "resourceNamespace": node.namespace,
        "resourceUID": node.uid,
    }


async def _manifests(
    api: apicall.Api, name: str, namespace: str, node: treeview.GraphNode
) -> manifestview.Manifests | str:
    """The node's texts, or why the API could not give them."""
    base = apicall.app_path(name)
    if node.managed:
        part = await _part(api.get(base + "/managed-resources", _managed_params(namespace, node)))
        if part.error:
            return part.error
        items = (part.value or {}).get("items") or []
        if not items:
            return "The comparison does not list this resource (yet): refresh the app."
        return manifestview.of_managed(items[0])
    if not node.uid:
        return "Not in the cluster."
    part = await _part(api.get(base + "/resource", _resource_params(namespace, node)))
    if part.error:
        return part.error
    return manifestview.of_live(str((part.value or {}).get("manifest") or ""))


async def panel(
    request: Request, api: apicall.Api, namespace: str, name: str, state: PageState
) -> HTMLResponse:
    """The panel of the resource ``state`` selects (empty when none)."""
    key = state.key
    if key is None:
        return render.html(request, "_resource_panel.html", node=None, gone="")
    obj, tree = await asyncio.gather(
        api.get(apicall.app_path(name), app_params(namespace)),
        fetch_tree(api, name, namespace),
    )
    graph = graph_of(obj, tree)
    node = graph.find(key)
    if node is None:
        return render.html(
            request,
            "_resource_panel.html",
            node=None,
            gone=treeview.node_param(key),
            close_url=state.url(node="", tab=""),
        )
    manifests, events = await asyncio.gather(
        _manifests(api, name, namespace, node),
        _part(
            api.get(apicall.app_path(name, "/events"), _events_params(namespace, node))
            if node.uid
            else _nothing()
        ),
    )
    by_id = {n.id: n for n in graph.nodes}
    # A grouped node hangs from its group; its owner is the group's parent.
    owners = [
        by_id[by_id[p].parents[0]] if by_id[p].role == "group" else by_id[p] for p in node.parents
    ]
    return render.html(
        request,
        "_resource_panel.html",
        app=appview.app_view(obj),
        node=node,
        owners=[owner for owner in owners if owner.role == "resource"],
        resource={
            "group": node.group,
            "version": node.version,
            "kind": node.kind,
            "namespace": node.namespace,
            "name": node.name,
        },
        manifests=manifests if isinstance(manifests, manifestview.Manifests) else None,
        manifests_error=manifests if isinstance(manifests, str) else "",
        events=manifestview.events(events.value or {}),
        events_error=events.error,
        tabs=TABS,
        tab=state.tab or ("diff" if node.sync == "OutOfSync" else "summary"),
        state=state,
        close_url=state.url(node="", tab=""),
    )
