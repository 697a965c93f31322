"""The application page's state in its URL, and its tree and list as HTML (tenant text escaped)."""

from __future__ import annotations

import types
from typing import Any

from starlette.requests import Request

from tether.ui import render, treeview
from tether.ui.pages.resources import PageState

BASE = "/applications/apps/shop"


def request(query: str) -> Request:
    return Request(
        {
            "type": "http",
            "method": "GET",
            "path": BASE,
            "query_string": query.encode(),
            "headers": [],
        }
    )


def test_the_url_keeps_only_what_differs_from_the_default_view():
    state = PageState(base=BASE)
    assert state.url() == BASE
    assert state.url(view="list") == BASE + "?view=list"
    assert state.url(node="apps/Deployment/shop/web", tab="diff") == (
        BASE + "?node=apps%2FDeployment%2Fshop%2Fweb&tab=diff"
    )
    assert state.url(tab="diff") == BASE  # a tab means nothing without a resource


def test_unknown_views_tabs_and_resources_in_the_query_are_dropped():
    state = PageState.of(request("view=graph&tab=secrets&node=nonsense"), BASE)
    assert (state.view, state.tab, state.node) == ("tree", "", "")
    state = PageState.of(request("view=list&tab=events&node=%2FService%2Fshop%2Fweb"), BASE)
    assert (state.view, state.tab, state.key) == ("list", "events", ("", "Service", "shop", "web"))


def test_an_out_of_sync_resource_opens_on_its_diff():
    graph = treeview.build(
        {"name": "shop", "namespace": "apps"},
        {"nodes": [{"kind": "ConfigMap", "namespace": "shop", "name": "a", "uid": "1"}]},
        [{"kind": "ConfigMap", "namespace": "shop", "name": "a", "status": "OutOfSync"}],
    )
    (configmap,) = graph.resources
    assert PageState(base=BASE).node_url(configmap).endswith("&tab=diff")


def rendered(template: str, message: str, view: str = "tree") -> str:
    tree: dict[str, Any] = {
        "nodes": [
            {
                "kind": "Pod",
                "namespace": "shop",
                "name": "web-1",
                "uid": "1",
                "health": {"status": "Degraded", "message": message},
            }
        ]
    }
    graph = treeview.build({"name": "shop", "namespace": "apps"}, tree)
    app = types.SimpleNamespace(name="shop", namespace="apps")
    return render.ENVIRONMENT.get_template(template).render(
        graph=graph, app=app, state=PageState(base=BASE, view=view)
    )


def test_tenant_text_reaches_the_tree_and_the_list_only_as_text():
    hostile = '"><script>alert(1)</script>'
    for template in ("_tree.html", "_resource_list.html"):
        html = rendered(template, hostile)
        assert "<script>" not in html
        assert "&lt;script&gt;" in html


def test_every_node_carries_its_kind_name_namespace_and_statuses_for_tests_and_scripts():
    html = rendered("_tree.html", "crash loop")
    assert 'data-node-kind="Pod" data-node-name="web-1" data-node-namespace="shop"' in html
    assert 'data-health="Degraded" data-sync=""' in html
    assert 'data-node-kind="Application" data-node-name="shop"' in html
