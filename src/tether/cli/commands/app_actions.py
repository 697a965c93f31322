"""``tether app actions list|run``: the actions an app's objects offer, and running them.

Through an API server: the objects of the app's resource tree, the server's RBAC and argocd-cm.
In core mode: the objects of the app's status, of kinds and namespaces its project permits, on
its destination cluster; argocd-cm read from the control-plane namespace; the patch written
under the CLI's field manager with the caller's Kubernetes credentials.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import click

from tether import bootstrap
from tether.cli import output
from tether.cli.commands import (
    app_common as common,
    app_remote as remote,
    app_resources,
    connection,
)
from tether.core.app import luaactions, policy, resourceactions
from tether.model.application import parse_application
from tether.model.errors import TetherError
from tether.model.resources import ResourceKey
from tether.services import apps, resourceactions as actionwrites

HEADERS = ("GROUP", "KIND", "NAME", "ACTION", "DISABLED")

T = TypeVar("T")

Filters = dict[str, Any]
"""``kind``, ``name``, ``group`` and ``namespace`` as ``app_resources.matching`` takes them."""


@dataclasses.dataclass(frozen=True)
class Live:
    """Core mode: one matching object of the app, live, with what an action on it needs."""

    query: dict[str, str]
    """The object's group, version, kind, namespace and name (as ``resource_query`` gives)."""
    obj: dict[str, Any]
    sources: tuple[resourceactions.ActionSource, ...]
    now: datetime.datetime
    write: Callable[[dict[str, Any]], Awaitable[None]]
    """Writes an action's patch to this object, under the CLI's field manager."""

    @property
    def what(self) -> str:
        """``Kind name``, for messages."""
        return f"{self.query['kind']} {self.query['resourceName']}"


@click.group()
def actions() -> None:
    """The actions an app's objects offer (built-in, or argocd-cm's Lua), and running them."""


@actions.command("list")
@common.target_options
@click.argument("name")
@click.option("--kind", default="", help="Only objects of this kind.")
@click.option("--resource-name", default="", help="Only objects with this name.")
@app_resources.resource_options[1]
@app_resources.resource_options[2]
@click.option(
    "-o", "--output", "fmt", type=click.Choice(["table", "json", "yaml"]), default="table"
)
def actions_list(
    kubeconfig: str | None,
    namespace: str,
    control_plane_namespace: str,
    name: str,
    kind: str,
    resource_name: str,
    group: str | None,
    resource_namespace: str,
    fmt: str,
) -> None:
    """List the actions of an app's (matching) objects."""
    filters: Filters = {
        "kind": kind,
        "name": resource_name,
        "group": group,
        "namespace": resource_namespace,
    }
    api = connection.client()
    if api is None:
        target = common.target_of(kubeconfig, namespace, control_plane_namespace)

        async def offered(live: Live) -> list[dict[str, Any]]:
            return [
                {
                    "name": a.name,
                    "disabled": a.disabled,
                    "iconClass": a.icon_class,
                    "displayName": a.display_name or a.name,
                    **live.query,
                }
                for a in resourceactions.offered(live.obj, live.sources)
            ]

        found = common.run(target, _core(target, name, filters, offered))
        listed = [action for per_object in found for action in per_object]
    else:
        with api:
            listed = _remote_list(api, name, common.given_namespace(namespace), filters)
    if fmt != "table":
        click.echo(output.dump(listed, fmt))
        return
    rows: list[output.Row] = [
        (
            a["group"],
            a["kind"],
            a["resourceName"],
            str(a.get("name") or ""),
            "true" if a.get("disabled") else "false",
        )
        for a in listed
    ]
    click.echo(output.table(HEADERS, rows))


@actions.command("run")
@common.target_options
@click.argument("name")
@click.argument("action")
@app_resources.resource_options[0]
@click.option("--resource-name", default="", help="The object's name (default: every one).")
@app_resources.resource_options[1]
@app_resources.resource_options[2]
@click.option("--all", "every", is_flag=True, help="Run on every matching object.")
def actions_run(
    kubeconfig: str | None,
    namespace: str,
    control_plane_namespace: str,
    name: str,
    action: str,
    kind: str,
    resource_name: str,
    group: str | None,
    resource_namespace: str,
    every: bool,
) -> None:
    """Run ACTION on an app's object (or with --all, on every matching one)."""
    filters: Filters = {
        "kind": kind,
        "name": resource_name,
        "group": group,
        "namespace": resource_namespace,
    }
    api = connection.client()
    if api is not None:
        with api:
            _remote_run(api, name, common.given_namespace(namespace), action, filters, every)
        return
    target = common.target_of(kubeconfig, namespace, control_plane_namespace)

    async def run_one(live: Live) -> str:
        outcome = resourceactions.run_for(live.obj, action, live.now, live.sources)
        if outcome is None:
            raise TetherError(f"action {action!r} is not available for {live.what}")
        if outcome.creates:
            # Creations are checked against the project with the destination's live cache,
            # which the API server keeps and a one-off command does not.
            raise TetherError(
                f"action {action!r} on {live.what} creates objects: run it through an API "
                "server (tether login), not --core"
            )
        await live.write(outcome.patch)
        return live.what

    done = common.run(target, _core(target, name, filters, run_one, single=not every))
    for what in done:
        click.echo(f"action {action} run on {what}")


async def _core(
    target: common.Target,
    name: str,
    filters: Filters,
    work: Callable[[Live], Awaitable[T]],
    *,
    single: bool | None = None,
) -> list[T]:
    """Core mode: ``work`` on each matching object of the app, live from its destination.

    ``single`` (running): at least one object must match, and only one unless it is False.
    """
    async with common.connect(target) as rt:
        stored = await apps.get(rt.cluster, target.namespace, name)
        application = parse_application(stored)
        project = await apps.project_of(rt.cluster, application, target.control_plane_namespace)
        if project is None:
            raise TetherError(
                f"application {application.qualified_name} references project "
                f"{application.spec.project!r}, which does not exist"
            )
        for problem in await rt.reload_credentials():
            click.echo(f"warning: {problem}", err=True)
        destination = await rt.destinations.for_app(application)
        config = await actionwrites.lua_config(rt.cluster, target.control_plane_namespace)
        now = rt.clock()
        sources = luaactions.sources(config, now)
        tree = {"nodes": list((stored.get("status") or {}).get("resources") or [])}
        nodes = app_resources.matching(tree, **filters) if filters["kind"] else tree["nodes"]
        if single is not None:
            _check_count(nodes, filters, single=single)
        results = []
        for node in nodes:
            query = app_resources.resource_query(node)
            key = ResourceKey(
                query["group"], query["kind"], query["namespace"], query["resourceName"]
            )
            problem = policy.resource_problem(project, key, cluster=destination.entry)
            if problem:
                raise TetherError(f"{key.kind} {key.name}: {problem}")
            api_version = "/".join(p for p in (query["group"], query["version"]) if p)
            obj = await destination.cluster.get(api_version, key.kind, key.name, key.namespace)
            if obj is None:
                raise TetherError(f"{key.kind} {key.namespace}/{key.name} not found")

            async def write(
                patch: dict[str, Any], key: ResourceKey = key, version: str = api_version
            ) -> None:
                await actionwrites.write(
                    destination.cluster,
                    version,
                    key,
                    patch,
                    field_manager=rt.settings.field_manager,
                )

            results.append(await work(Live(query, obj, sources, now, write)))
        return results


def _check_count(nodes: list[dict[str, Any]], filters: Filters, *, single: bool) -> None:
    what = f"{filters['kind']} {filters['name']}".rstrip()
    if not nodes:
        raise click.ClickException(f"the app has no {what}")
    if single and len(nodes) > 1:
        raise click.ClickException(f"{len(nodes)} objects match: name one, or give --all")


def _remote_list(
    api: bootstrap.ApiClient, name: str, given: str, filters: Filters
) -> list[dict[str, Any]]:
    tree = app_resources.fetch_tree(api, name, given)
    if filters["kind"]:
        nodes = app_resources.matching(tree, **filters)
    else:
        nodes = [n for n, _ in app_resources.tree_nodes(tree, orphaned=False)]
    listed: list[dict[str, Any]] = []
    for node in nodes:
        query = app_resources.resource_query(node)
        found = api.get(
            remote.app_path(name, "resource", "actions"), **query, **remote.scope(given)
        )
        listed.extend({**action, **query} for action in found.get("actions") or [])
    return listed


def _remote_run(
    api: bootstrap.ApiClient, name: str, given: str, action: str, filters: Filters, every: bool
) -> None:
    nodes = app_resources.matching(app_resources.fetch_tree(api, name, given), **filters)
    _check_count(nodes, filters, single=not every)
    for node in nodes:
        body = {**app_resources.resource_query(node), "action": action}
        api.call(
            "POST",
            remote.app_path(name, "resource", "actions", "v2"),
            params=remote.scope(given),
            body={**body, "resourceActionParameters": []},
        )
        click.echo(f"action {action} run on {node.get('kind')} {node.get('name')}")


COMMANDS = (actions,)
