"""``tether run`` (the controller, in this process) and ``tether install-crds``."""

from __future__ import annotations

import asyncio
import datetime
from typing import Any

import click

from tether import bootstrap
from tether.cli import logs
from tether.cli.commands import rendering_options
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
@rendering_options.rendering_options
@click.option("-v", "--verbose", count=True)
def run(
    kubeconfig: str | None,
    namespaces: tuple[str, ...],
    resync: int,
    workers: int,
    metrics_address: str,
    leader_election: bool,
    verbose: int,
    **rendering: Any,
) -> None:
    """Run the controller against the current cluster until interrupted."""
    logs.configure(verbose)
    settings = Settings(
        app_namespaces=namespaces,
        resync_period=datetime.timedelta(seconds=resync),
        workers=workers,
        metrics_address=metrics_address,
        leader_election=leader_election,
    )
    settings = rendering_options.apply(settings, **rendering)
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
