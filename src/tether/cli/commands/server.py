"""``tether server`` (the API alone) and the API options ``tether run`` shares with it.

``tether run`` hosts the API beside its controller; ``tether server`` serves it without one, for
the in-cluster install's server Deployment.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import click

from tether import bootstrap
from tether.api import main as api_main
from tether.cli import logs
from tether.settings import Settings

F = TypeVar("F", bound=Callable[..., Any])

log = logging.getLogger("tether.api")


kubeconfig_option = click.option(
    "--kubeconfig",
    envvar="KUBECONFIG",
    default=None,
    help="Kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the Pod's "
    "service account).",
)


def namespaces_option(verb: str) -> Callable[[F], F]:
    """``--namespace`` (repeatable): the namespaces whose Applications to ``verb``."""
    return click.option(
        "--namespace",
        "namespaces",
        multiple=True,
        default=("tether",),
        show_default=True,
        help=f"Namespace whose Applications to {verb} (repeatable; the first is the "
        "control-plane namespace).",
    )


def api_options(func: F) -> F:
    """``--api-address``, ``--api-tls-cert``, ``--api-tls-key``, ``--insecure``."""
    for option in reversed(
        (
            click.option(
                "--api-address",
                default=api_main.DEFAULT_ADDRESS,
                show_default=True,
                help="host:port to serve the API on (port 0 picks a free port).",
            ),
            click.option(
                "--api-tls-cert",
                type=click.Path(dir_okay=False, exists=True),
                default=None,
                help="Serve https with this certificate (PEM; with --api-tls-key). Without "
                f"one, Secret {api_main.TLS_SECRET} is used when it exists.",
            ),
            click.option(
                "--api-tls-key",
                type=click.Path(dir_okay=False, exists=True),
                default=None,
                help="The certificate's private key (PEM).",
            ),
            click.option(
                "--insecure",
                is_flag=True,
                help="Serve plain HTTP on a non-loopback address (behind a TLS-terminating proxy).",
            ),
        )
    ):
        func = option(func)
    return func


def options_of(
    api_address: str, api_tls_cert: str | None, api_tls_key: str | None, insecure: bool
) -> api_main.ApiOptions:
    """The parsed API options."""
    if bool(api_tls_cert) != bool(api_tls_key):
        raise click.UsageError("--api-tls-cert and --api-tls-key go together")
    return api_main.ApiOptions(api_address, api_tls_cert or "", api_tls_key or "", insecure)


def announce(url: str) -> None:
    """Say where the API answers: a log line (text or JSON, as the process logs)."""
    log.info("API server listening on %s", url)


@click.command()
@kubeconfig_option
@namespaces_option("serve")
@api_options
@logs.options
def server(
    kubeconfig: str | None,
    namespaces: tuple[str, ...],
    api_address: str,
    api_tls_cert: str | None,
    api_tls_key: str | None,
    insecure: bool,
    log_format: str,
    log_level: str,
    verbose: int,
) -> None:
    """Serve the API alone, reading state from the cluster (any number of replicas)."""
    options = options_of(api_address, api_tls_cert, api_tls_key, insecure)
    settings = Settings(
        app_namespaces=namespaces,
        leader_election=False,
        log_format=log_format,
        log_level=logs.level_of(log_level, verbose),
    )
    logs.configure(settings.log_level, settings.log_format, requests=verbose > 0)
    log.info(
        "tether API server starting: Applications in %s",
        ", ".join(namespaces),
        extra={"namespaces": list(namespaces), "api": options.address},
    )
    asyncio.run(api_main.run_alone(settings, options, kubeconfig=kubeconfig, listening=announce))


def beside_controller(
    options: api_main.ApiOptions, *, listening: Callable[[str], None] = announce
) -> Callable[[bootstrap.Runtime, asyncio.Event], Coroutine[Any, Any, None]]:
    """The job ``tether run`` hosts beside its controller: the API over the same runtime."""

    async def job(rt: bootstrap.Runtime, stop: asyncio.Event) -> None:
        await api_main.serve(rt, options, stop=stop, listening=listening)

    return job
