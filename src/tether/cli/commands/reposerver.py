"""``tether repo-server``: render for controllers in a process that holds no cluster credentials."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import click

from tether import bootstrap
from tether.cli import logs
from tether.cli.commands import rendering_options
from tether.reposerver import app as server_app, main as server_main
from tether.services import diskcache
from tether.settings import Settings

log = logging.getLogger("tether.reposerver")


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
@rendering_options.rendering_options
@logs.options
def repo_server(
    listen: str,
    token_file: str,
    tls_cert: str | None,
    tls_key: str | None,
    log_format: str,
    log_level: str,
    verbose: int,
    **rendering: Any,
) -> None:
    """Serve POST /v1/render for controllers started with --repo-server, until interrupted.

    It needs no kubeconfig and reads none: each request brings the Application and the
    repository credentials it may use. Prints the URL it listens on.
    """
    try:
        address = bootstrap.Listen.parse(listen, tls_cert or "", tls_key or "")
    except ValueError as err:
        raise click.UsageError(str(err)) from None
    settings = rendering_options.apply(
        Settings(log_format=log_format, log_level=logs.level_of(log_level, verbose)),
        **rendering,
    )
    token = bootstrap.read_token_file(token_file)
    rendering_parts = bootstrap.repo_server_rendering(settings)
    # Log lines written while a request renders are scrubbed of that request's secrets too.
    logs.configure(
        settings.log_level,
        settings.log_format,
        rendering_parts.credentials.secret_values,
        requests=verbose > 0,
    )

    def listening(url: str) -> None:
        click.echo(f"tether repo-server listening on {url}")  # stdout: for whoever started it
        log.info(
            "tether repo-server listening on %s",
            url,
            extra={"url": url, "cache_dir": settings.cache_dir, "tls": bool(tls_cert)},
        )

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
