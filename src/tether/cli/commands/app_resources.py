"""``tether app manifests|resources|delete-resource``: an app's objects, via an API server.

Resources are found in the app's ``resource-tree`` by kind, name, group and namespace (the
server acts only on objects of that tree); the resource's namespace is ``--resource-namespace``,
since ``-n`` names the Application's.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import click
import yaml

from tether import bootstrap
from tether.cli import output
from tether.cli.commands import app_common as common, app_remote as remote, connection
from tether.core.diff import secrets
from tether.core.sources.rendered import RenderFailed
from tether.model.application import parse_application
from tether.model.errors import TetherError
from tether.services import apps

TREE_HEADERS = ("GROUP", "KIND", "NAMESPACE", "NAME", "HEALTH", "ORPHANED")


def _api() -> bootstrap.ApiClient:
    api = connection.client()
    if api is None:
        raise click.UsageError(
            "this command goes through an API server: tether login SERVER (or --server), "
            "without --core"
        )
    return api


def tree_nodes(tree: dict[str, Any], *, orphaned: bool) -> Iterator[tuple[dict[str, Any], bool]]:
    """The tree's nodes with whether each is orphaned (orphans only when asked for)."""
    for node in tree.get("nodes") or []:
        yield node, False
    if orphaned:
        for node in tree.get("orphanedNodes") or []:
            yield node, True


def matching(
    tree: dict[str, Any],
    *,
    kind: str,
    name: str = "",
    group: str | None = None,
    namespace: str = "",
) -> list[dict[str, Any]]:
    """The tree's (managed) nodes of ``kind`` with the given name, group and namespace."""
    found = []
    for node, _ in tree_nodes(tree, orphaned=False):
        if node.get("kind") != kind or (name and node.get("name") != name):
            continue
        if group is not None and (node.get("group") or "") != group:
            continue
        if namespace and (node.get("namespace") or "") != namespace:
            continue
        found.append(node)
    return found


def resource_query(node: dict[str, Any]) -> dict[str, str]:
    """The query (or body fields) naming one node for the ``resource`` calls."""
    return {
        "namespace": str(node.get("namespace") or ""),
        "resourceName": str(node.get("name") or ""),
        "version": str(node.get("version") or ""),
        "group": str(node.get("group") or ""),
        "kind": str(node.get("kind") or ""),
    }


def fetch_tree(api: bootstrap.ApiClient, name: str, namespace: str) -> dict[str, Any]:
    """The app's resource tree, as the API server gives it."""
    found = api.get(remote.app_path(name, "resource-tree"), **remote.scope(namespace))
    return found if isinstance(found, dict) else {}


@click.command()
@common.target_options
@click.argument("name")
@click.option("--revision", default="", help="Render this revision instead of the target one.")
@click.option(
    "--source",
    "origin",
    type=click.Choice(["git", "live"]),
    default="git",
    show_default=True,
    help="What Git renders, or what the cluster holds.",
)
def manifests(
    kubeconfig: str | None,
    namespace: str,
    control_plane_namespace: str,
    name: str,
    revision: str,
    origin: str,
) -> None:
    """Print an app's manifests as a YAML stream (Secret values masked)."""
    api = connection.client()
    if api is None:
        if origin == "live":
            raise click.UsageError("--source live goes through an API server (no --core)")
        target = common.target_of(kubeconfig, namespace, control_plane_namespace)
        objects = common.run(target, _rendered(target, name, revision))
        click.echo(yaml.safe_dump_all(objects, sort_keys=False, default_flow_style=False), nl=False)
        return
    given = common.given_namespace(namespace)
    with api:
        if origin == "live":
            items = api.get(remote.app_path(name, "managed-resources"), **remote.scope(given))
            texts = [i.get("liveState") for i in items.get("items") or []]
        else:
            answer = api.get(
                remote.app_path(name, "manifests"), revision=revision, **remote.scope(given)
            )
            texts = answer.get("manifests") or []
    objects = [json.loads(t) for t in texts if t and t != "null"]
    click.echo(yaml.safe_dump_all(objects, sort_keys=False, default_flow_style=False), nl=False)


@click.command()
@common.target_options
@click.argument("name")
@click.option("--orphaned", is_flag=True, help="Also the namespace's objects nobody manages.")
@click.option(
    "-o", "--output", "fmt", type=click.Choice(["table", "json", "yaml"]), default="table"
)
def resources(
    kubeconfig: str | None,
    namespace: str,
    control_plane_namespace: str,
    name: str,
    orphaned: bool,
    fmt: str,
) -> None:
    """List an app's objects (through an API server: its resource tree, with what they own)."""
    api = connection.client()
    if api is None:
        target = common.target_of(kubeconfig, namespace, control_plane_namespace)
        tree = common.run(target, _status_tree(target, name))
    else:
        with api:
            tree = fetch_tree(api, name, common.given_namespace(namespace))
    if fmt != "table":
        click.echo(output.dump(tree, fmt))
        return
    rows = [
        (
            str(node.get("group") or ""),
            str(node.get("kind") or ""),
            str(node.get("namespace") or ""),
            str(node.get("name") or ""),
            str((node.get("health") or {}).get("status") or ""),
            "Yes" if orphan else "No",
        )
        for node, orphan in tree_nodes(tree, orphaned=orphaned)
    ]
    click.echo(output.table(TREE_HEADERS, rows))


async def _rendered(target: common.Target, name: str, revision: str) -> list[dict[str, Any]]:
    """Core mode: the app rendered here (at ``revision``), Secret values masked."""
    async with common.connect(target) as rt:
        application = parse_application(await apps.get(rt.cluster, target.namespace, name))
        if revision:
            application = apps.with_revision(application, revision)
        for problem in await rt.reload_credentials():
            click.echo(f"warning: {problem}", err=True)
        served = await rt.versions_for(application)
        result = await rt.manifests.render_application(
            application, kube_version=served.kube_version, api_versions=served.api_versions
        )
    if isinstance(result, RenderFailed):
        raise TetherError(result.message)
    return [secrets.mask(m) for m in result.manifests]


async def _status_tree(target: common.Target, name: str) -> dict[str, Any]:
    """Core mode: the app's managed objects from its status, in the shape of a resource tree."""
    async with common.connect(target) as rt:
        obj = await apps.get(rt.cluster, target.namespace, name)
    return {"nodes": list((obj.get("status") or {}).get("resources") or [])}


def _one(
    tree: dict[str, Any], kind: str, resource_name: str, group: str | None, resource_ns: str
) -> dict[str, Any]:
    found = matching(tree, kind=kind, name=resource_name, group=group, namespace=resource_ns)
    what = f"{kind} {resource_name}"
    if not found:
        raise click.ClickException(f"the app has no {what}")
    if len(found) > 1:
        raise click.ClickException(
            f"{len(found)} objects are {what}: give --group and the namespace"
        )
    return found[0]


resource_options = (
    click.option("--kind", required=True, help="The object's kind."),
    click.option("--group", default=None, help="Its API group (empty for the core group)."),
    click.option("--resource-namespace", default="", help="Its namespace."),
)


@click.command("delete-resource")
@common.target_options
@click.argument("name")
@resource_options[0]
@click.option("--resource-name", required=True, help="The object's name.")
@resource_options[1]
@resource_options[2]
@click.option("--force", is_flag=True, help="Delete at once (grace period 0).")
@click.option("--orphan", is_flag=True, help="Leave the objects it owns.")
def delete_resource(
    kubeconfig: str | None,
    namespace: str,
    control_plane_namespace: str,
    name: str,
    kind: str,
    resource_name: str,
    group: str | None,
    resource_namespace: str,
    force: bool,
    orphan: bool,
) -> None:
    """Delete one of an app's objects from its cluster."""
    del kubeconfig, control_plane_namespace
    given = common.given_namespace(namespace)
    with _api() as api:
        node = _one(fetch_tree(api, name, given), kind, resource_name, group, resource_namespace)
        query: dict[str, Any] = {**resource_query(node), **remote.scope(given)}
        query.update(force=force, orphan=orphan)
        api.call("DELETE", remote.app_path(name, "resource"), params=query)
    click.echo(f"{kind} {resource_name} of application {name} deleted")


COMMANDS = (manifests, resources, delete_resource)
