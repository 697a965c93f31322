"""``tether run`` (the controller, in this process) and ``tether install-crds``."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime

import click

from tether import bootstrap
from tether.cli import logs
from tether.controller import main as controller_main
from tether.settings import Settings

kubeconfig_option = click.option(
    "--kubeconfig",
    envvar="KUBECONFIG",
    default=None,
    help="Kubeconfig file (default: $KUBECONFIG, then ~/.kube/config).",
)


@click.command()
@kubeconfig_option
@click.option(
    "--namespace",
    "namespaces",
    multiple=True,
    default=("tether",),
    show_default=True,
    help="Namespace whose Applications to reconcile (repeatable; the first is the "
    "control-plane namespace).",
)
@click.option(
    "--resync",
    type=int,
    default=180,
    show_default=True,
    help="Seconds between periodic refreshes of each Application.",
)
@click.option("--workers", type=int, default=20, show_default=True)
@click.option(
    "--metrics-address",
    default="127.0.0.1:8082",
    show_default=True,
    help="host:port for /metrics (port 0 picks a free port).",
)
@click.option("--leader-election/--no-leader-election", default=True, show_default=True)
@click.option(
    "--allow-local-repos",
    is_flag=True,
    help="Allow file:// and local paths as repoURL (tests and demos only).",
)
@click.option(
    "--remote-host",
    "remote_hosts",
    multiple=True,
    help="A host (glob) that remote references inside repositories may name: kustomize remote "
    "bases, helm value files by URL (repeatable; none by default).",
)
@click.option("--cache-dir", default=None, help="Git mirrors and rendered charts.")
@click.option(
    "--git-trees-kept",
    type=click.IntRange(min=0),
    default=Settings.git_trees_kept,
    show_default=True,
    help="Checked-out commits kept on disk; older idle ones are deleted every 10 minutes.",
)
@click.option(
    "--charts-kept",
    type=click.IntRange(min=0),
    default=Settings.charts_kept,
    show_default=True,
    help="Pulled chart versions kept on disk; older idle ones are deleted every 10 minutes.",
)
@click.option(
    "--render-cache-mib",
    type=click.IntRange(min=1),
    default=Settings.render_cache_mib,
    show_default=True,
    help="Rendered manifests kept in memory, in MiB of JSON; least recently used leave first.",
)
@click.option("-v", "--verbose", count=True)
def run(
    kubeconfig: str | None,
    namespaces: tuple[str, ...],
    resync: int,
    workers: int,
    metrics_address: str,
    leader_election: bool,
    allow_local_repos: bool,
    remote_hosts: tuple[str, ...],
    cache_dir: str | None,
    git_trees_kept: int,
    charts_kept: int,
    render_cache_mib: int,
    verbose: int,
) -> None:
    """Run the controller against the current cluster until interrupted."""
    logs.configure(verbose)
    settings = Settings(
        app_namespaces=namespaces,
        resync_period=datetime.timedelta(seconds=resync),
        workers=workers,
        metrics_address=metrics_address,
        leader_election=leader_election,
        allow_local_repos=allow_local_repos,
        remote_hosts=remote_hosts,
        git_trees_kept=git_trees_kept,
        charts_kept=charts_kept,
        render_cache_mib=render_cache_mib,
    )
    if cache_dir:
        settings = dataclasses.replace(settings, cache_dir=cache_dir)
    asyncio.run(controller_main.run(settings, kubeconfig=kubeconfig))


@click.command("install-crds")
@kubeconfig_option
@click.option(
    "--namespace",
    default="tether",
    show_default=True,
    help="The control-plane namespace to create, with its default AppProject.",
)
def install_crds(kubeconfig: str | None, namespace: str) -> None:
    """Install the Application and AppProject CRDs, the namespace and the default project."""

    async def install() -> list[str]:
        settings = Settings(app_namespaces=(namespace,))
        async with await bootstrap.runtime(
            settings, kubeconfig=kubeconfig, start_cache=False
        ) as rt:
            return await rt.installer.install()

    for line in asyncio.run(install()):
        click.echo(f"{line} configured")
