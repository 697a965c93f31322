"""``tether cluster``: the clusters apps may deploy to besides the one tether runs in.

Each is an Argo CD cluster Secret in the control-plane namespace; ``add`` makes one the way
``argocd cluster add`` does. Nothing here ever prints a credential.
"""

from __future__ import annotations

import asyncio
import urllib.parse
from typing import Any

import click

from tether import bootstrap
from tether.cli import output
from tether.cli.commands import connection
from tether.cli.commands.app_common import DEFAULT_NAMESPACE
from tether.model.clusters import ClusterEntry, ClusterRegistry
from tether.services import clusters

FIELD_MANAGER = "tether-cli"

kubeconfig_option = click.option(
    "--kubeconfig",
    envvar="KUBECONFIG",
    default=None,
    help="Kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the Pod's "
    "service account).",
)
control_context_option = click.option(
    "--control-context",
    default=None,
    help="The kubeconfig context of the cluster tether runs in (default: the current one).",
)
namespace_option = click.option(
    "--control-plane-namespace",
    default=DEFAULT_NAMESPACE,
    show_default=True,
    help="Where the controller reads cluster Secrets.",
)


@click.group("cluster")
def cluster() -> None:
    """Register, list and remove the other clusters apps may deploy to."""


@cluster.command("add")
@click.argument("context")
@kubeconfig_option
@control_context_option
@namespace_option
@click.option("--name", default="", help="The cluster's name in destinations (default: CONTEXT).")
@click.option(
    "--server",
    default="",
    help="The API server URL the controller reaches it at (default: the context's).",
)
@click.option(
    "--token-ttl-days",
    type=click.IntRange(1, 3650),
    default=clusters.DEFAULT_TOKEN_TTL_S // 86400,
    show_default=True,
    help="How long the ServiceAccount token lives; add again to renew it.",
)
def add(
    context: str,
    kubeconfig: str | None,
    control_context: str | None,
    control_plane_namespace: str,
    name: str,
    server: str,
    token_ttl_days: int,
) -> None:
    """Give tether an account in the cluster of CONTEXT and record it as a cluster Secret."""

    async def work() -> ClusterEntry:
        async with (
            bootstrap.cluster_client(kubeconfig, context) as (target, url, ca, insecure),
            bootstrap.cluster_client(kubeconfig, control_context) as (control, *_),
        ):
            return await clusters.add(
                control,
                target,
                name=name or context,
                server=server or url,
                ca_data=ca,
                insecure=insecure,
                namespace=control_plane_namespace,
                field_manager=FIELD_MANAGER,
                token_ttl_s=token_ttl_days * 86400,
            )

    entry = asyncio.run(work())
    click.echo(f"cluster {entry.name!r} ({entry.server}) added as Secret {entry.secret}")


@cluster.command("list")
@kubeconfig_option
@control_context_option
@namespace_option
@connection.connection_options
def list_(
    kubeconfig: str | None, control_context: str | None, control_plane_namespace: str
) -> None:
    """The clusters the controller knows, the one it runs in first."""
    api = connection.client()
    if api is not None:
        with api:
            items = api.get(CLUSTERS).get("items") or []
        rows = [remote_row(c) for c in items]
        click.echo(output.table(REMOTE_HEADERS, rows))
        return
    known = asyncio.run(_registry(kubeconfig, control_context, control_plane_namespace))
    rows = [("NAME", "SERVER", "SECRET")]
    rows += [(e.name, e.server, e.secret or "(built in)") for e in known.entries]
    widths = [max(len(row[i]) for row in rows) for i in range(2)]
    for row in rows:
        click.echo(f"{row[0]:<{widths[0]}}  {row[1]:<{widths[1]}}  {row[2]}".rstrip())
    for problem in known.problems:
        click.echo(f"skipped: {problem}", err=True)


@cluster.command("get")
@click.argument("name")
@kubeconfig_option
@control_context_option
@namespace_option
@connection.connection_options
def get(
    name: str, kubeconfig: str | None, control_context: str | None, control_plane_namespace: str
) -> None:
    """One cluster: where it is, what tether may manage there, how it signs in (no secrets)."""
    api = connection.client()
    if api is not None:
        with api:
            found = api.get(
                f"{CLUSTERS}/{urllib.parse.quote(name, safe='')}",
                **{"id.type": "server" if "://" in name else "name"},
            )
        name_, server, project, namespaces = remote_row(found)
        insecure = ((found.get("config") or {}).get("tlsClientConfig") or {}).get("insecure")
        click.echo(f"Name:              {name_}")
        click.echo(f"Server:            {server}")
        click.echo(f"Project:           {project or '(none)'}")
        click.echo(f"Namespaces:        {namespaces}")
        click.echo(f"Cluster resources: {'yes' if found.get('clusterResources') else 'no'}")
        click.echo(f"TLS:               {'insecure' if insecure else 'verified'}")
        return
    known = asyncio.run(_registry(kubeconfig, control_context, control_plane_namespace))
    found = known.find(name)
    if not found:
        raise click.ClickException(f"no cluster named {name!r}")
    for entry in found:
        credentials = entry.credentials
        auth = "the controller's own" if credentials is None else _auth_kind(entry)
        click.echo(f"Name:              {entry.name}")
        click.echo(f"Server:            {entry.server}")
        click.echo(f"Secret:            {entry.secret or '(built in)'}")
        click.echo(f"Namespaces:        {', '.join(entry.namespaces) or '(all)'}")
        click.echo(f"Cluster resources: {'yes' if entry.manages_cluster_scoped else 'no'}")
        click.echo(f"Credentials:       {auth}")


@cluster.command("rm")
@click.argument("name")
@kubeconfig_option
@control_context_option
@namespace_option
def rm(
    name: str, kubeconfig: str | None, control_context: str | None, control_plane_namespace: str
) -> None:
    """Remove a cluster's Secret; its apps stop syncing there (nothing there is deleted)."""

    async def work() -> ClusterEntry:
        async with bootstrap.cluster_client(kubeconfig, control_context) as (control, *_):
            return await clusters.remove(control, control_plane_namespace, name)

    entry = asyncio.run(work())
    click.echo(
        f"cluster {entry.name!r} removed (Secret {entry.secret}); its ServiceAccount "
        f"{clusters.MANAGER_NAMESPACE}/{clusters.MANAGER_ACCOUNT} stays in the cluster"
    )


async def _registry(
    kubeconfig: str | None, control_context: str | None, namespace: str
) -> ClusterRegistry:
    async with bootstrap.cluster_client(kubeconfig, control_context) as (control, *_):
        return await clusters.registry(control, namespace)


CLUSTERS = "/api/v1/clusters"
REMOTE_HEADERS = ("NAME", "SERVER", "PROJECT", "NAMESPACES")


def remote_row(found: dict[str, Any]) -> output.Row:
    """One cluster of ``GET /api/v1/clusters`` as a row of ``REMOTE_HEADERS``."""
    return (
        str(found.get("name") or ""),
        str(found.get("server") or ""),
        str(found.get("project") or ""),
        ", ".join(found.get("namespaces") or []) or "(all)",
    )


def _auth_kind(entry: ClusterEntry) -> str:
    credentials = entry.credentials
    assert credentials is not None
    kinds = [
        kind
        for kind, present in (
            ("bearer token", credentials.bearer_token),
            ("client certificate", credentials.cert_data),
            ("basic auth", credentials.username),
        )
        if present
    ]
    trust = "insecure" if credentials.insecure else ("CA" if credentials.ca_data else "system CAs")
    return f"{', '.join(kinds) or 'none'}; TLS: {trust}"
