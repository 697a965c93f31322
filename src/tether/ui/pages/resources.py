"""An application page's state and its resources as the page reads them, shared by its parts.

The state is the query string (``view``: tree or list; ``node``: the selected resource; ``tab``:
the panel's tab), so a view or a resource can be linked. The tree is one resource-tree call.
"""

from __future__ import annotations

import dataclasses
from typing import Any
from urllib.parse import urlencode

from fastapi import Request

from tether.ui import apicall, appview, treeview

VIEWS = ("tree", "list")
"""The resources as a graph, or as a table."""

TABS: dict[str, str] = {
    "summary": "Summary",
    "live": "Live manifest",
    "desired": "Desired manifest",
    "diff": "Diff",
    "events": "Events",
}
"""The resource panel's tabs and their names."""


def app_params(namespace: str) -> dict[str, str]:
    """The API's parameters naming an app's namespace."""
    return {"appNamespace": namespace}


@dataclasses.dataclass(frozen=True)
class PageState:
    """What the query string selects: the view, the resource of the panel and its tab."""

    base: str
    view: str = "tree"
    node: str = ""
    tab: str = ""

    @classmethod
    def of(cls, request: Request, base: str) -> PageState:
        """The state ``request`` asks for (an unknown view is the tree, an unknown tab none)."""
        q = request.query_params
        view = q.get("view", "tree")
        node = q.get("node", "")
        tab = q.get("tab", "")
        return cls(
            base=base,
            view=view if view in VIEWS else "tree",
            node=node if treeview.parse_node_param(node) else "",
            tab=tab if tab in TABS else "",
        )

    @property
    def key(self) -> treeview.Key | None:
        """The selected resource."""
        return treeview.parse_node_param(self.node)

    def url(self, **changes: str) -> str:
        """This page's URL with ``changes`` (defaults are left out of the query)."""
        state = dataclasses.replace(self, **changes)
        query = {
            "view": state.view if state.view != "tree" else "",
            "node": state.node,
            "tab": state.tab if state.node else "",
        }
        encoded = urlencode({k: v for k, v in query.items() if v})
        return state.base + ("?" + encoded if encoded else "")

    def node_url(self, node: treeview.GraphNode) -> str:
        """The URL selecting ``node``: an OutOfSync resource opens on its diff."""
        return self.url(node=node.param, tab="diff" if node.sync == "OutOfSync" else "")


async def fetch_tree(api: apicall.Api, name: str, namespace: str) -> dict[str, Any] | str:
    """The app's resource tree, or why the API could not give it (the page shows the rest)."""
    try:
        tree = await api.get(apicall.app_path(name, "/resource-tree"), app_params(namespace))
    except apicall.NotSignedIn:
        raise
    except apicall.ApiCallFailed as err:
        return err.message
    return tree if isinstance(tree, dict) else {}


def graph_of(obj: dict[str, Any], tree: dict[str, Any] | str) -> treeview.Graph:
    """The graph of the app ``obj`` from its resource tree (just the app when there is none)."""
    app = appview.app_view(obj)
    root = {
        "name": app.name,
        "namespace": app.namespace,
        "health": app.health,
        "health_message": app.health_message,
        "sync": app.sync,
    }
    resources = (obj.get("status") or {}).get("resources") or []
    return treeview.build(root, tree if isinstance(tree, dict) else {}, resources)
