"""``tether repo-server``: render for controllers in a process that holds no cluster credentials."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import click

from tether import bootstrap
from tether.cli import logs
from tether.cli.commands import rendering_options
from tether.reposerver import app as server_app, main as server_main
from tether.services import diskcache
from tether.settings import Settings


@click.command("repo-server")
@click.option(
    "--listen",
    default=server_main.DEFAULT_LISTEN,
    show_default=True,
    metavar="HOST:PORT",
    help="Where to serve the render API (port 0 picks a free port and prints it).",
)
@click.option(
    "--token-file",
    required=True,
    type=click.Path(dir_okay=False, exists=True),
    help="The file holding the bearer token every request must carry.",
)
@click.option(
    "--tls-cert",
    type=click.Path(dir_okay=False, exists=True),
    default=None,
    help="Serve https with this certificate (PEM; with --tls-key).",
)
@click.option(
    "--tls-key",
    type=click.Path(dir_okay=False, exists=True),
    default=None,
    help="The certificate's private key (PEM).",
)
@click.option(
    "--ssh-known-hosts-file",
    type=click.Path(dir_okay=False),
    default="",
    help="The SSH hosts Git trusts (known_hosts; a mounted argocd-ssh-known-hosts-cm's "
    "ssh_known_hosts), re-read when it changes. None by default.",
)
@click.option(
    "--tls-certs-dir",
    type=click.Path(file_okay=False),
    default="",
    help="Per-host CAs Git and Helm trust instead of the system's: one PEM file per host name "
    "(a mounted argocd-tls-certs-cm), re-read when they change.",
)
@rendering_options.rendering_options
@click.option("-v", "--verbose", count=True)
def repo_server(
    listen: str,
    token_file: str,
    tls_cert: str | None,
    tls_key: str | None,
    ssh_known_hosts_file: str,
    tls_certs_dir: str,
    verbose: int,
    **rendering: Any,
) -> None:
    """Serve POST /v1/render for controllers started with --repo-server, until interrupted.

    It needs no kubeconfig and reads none: each request brings the Application, the repository
    credentials it may use and argocd-cm's build options. Whom it trusts and which plugins it
    runs are its own files. Prints the URL it listens on.
    """
    try:
        address = bootstrap.Listen.parse(listen, tls_cert or "", tls_key or "")
    except ValueError as err:
        raise click.UsageError(str(err)) from None
    settings = rendering_options.apply(
        Settings(ssh_known_hosts_file=ssh_known_hosts_file, tls_certs_dir=tls_certs_dir),
        **rendering,
    )
    token = bootstrap.read_token_file(token_file)
    rendering_parts = bootstrap.repo_server_rendering(settings)
    # Log lines written while a request renders are scrubbed of that request's secrets too.
    logs.configure(verbose, rendering_parts.credentials.secret_values)

    def listening(url: str) -> None:
        click.echo(f"tether repo-server listening on {url}")

    asyncio.run(serve(rendering_parts, address, token, listening=listening))


async def serve(
    rendering: bootstrap.Rendering,
    address: bootstrap.Listen,
    token: str,
    *,
    listening: Callable[[str], None],
) -> None:
    """Serve the render API over ``rendering``, pruning its disk caches alongside."""
    app = server_app.create_app(rendering.manifests, rendering.credentials, token)
    period = rendering.disk.settings.disk_prune_period

    async def prune() -> None:
        await diskcache.prune_periodically(rendering.disk, period)

    await bootstrap.serve_http(app, address, background=[prune], listening=listening)
