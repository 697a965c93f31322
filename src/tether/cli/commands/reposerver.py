"""``tether repo-server``: render for controllers in a process that holds no cluster credentials."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from typing import Any

import click
from prometheus_client import CollectorRegistry
from prometheus_client.core import Metric
from prometheus_client.registry import Collector

from tether import bootstrap
from tether.bootstrap import telemetry
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
@click.option(
    "--metrics-address",
    default="",
    metavar="HOST:PORT",
    help="Serve /metrics (Git requests under Argo CD's names) and /healthz here; off when empty "
    "(port 0 picks a free port and logs it).",
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
@logs.options
def repo_server(
    listen: str,
    token_file: str,
    tls_cert: str | None,
    tls_key: str | None,
    metrics_address: str,
    log_format: str,
    log_level: str,
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
        Settings(
            log_format=log_format,
            log_level=logs.level_of(log_level, verbose),
            ssh_known_hosts_file=ssh_known_hosts_file,
            tls_certs_dir=tls_certs_dir,
        ),
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

    metrics = _serve_metrics(metrics_address, rendering_parts.telemetry)
    try:
        asyncio.run(serve(rendering_parts, address, token, listening=listening))
    finally:
        if metrics is not None:
            metrics.close()


class _GitCollector(Collector):
    def __init__(self, tally: telemetry.Telemetry) -> None:
        self._tally = tally

    def collect(self) -> Iterator[Metric]:
        return telemetry.git_families(self._tally)


def _serve_metrics(address: str, tally: telemetry.Telemetry) -> telemetry.Running | None:
    """The repo-server's ``/metrics`` (its Git requests) and ``/healthz``, when asked for."""
    if not address:
        return None
    registry = CollectorRegistry()
    registry.register(_GitCollector(tally))
    running = telemetry.serve_metrics(address, registry, {"/healthz": lambda: (True, "ok")})
    host = address.rpartition(":")[0] or "127.0.0.1"
    url = f"http://{host}:{running.port}"
    log.info("serving /metrics and /healthz on %s", url, extra={"metrics": url})
    return running


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
