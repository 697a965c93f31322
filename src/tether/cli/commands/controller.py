"""``tether run`` (the controller, in this process) and ``tether install-crds``."""

from __future__ import annotations

import asyncio
import datetime
import socket
from typing import Any

import click

from tether import bootstrap
from tether.cli import logs
from tether.cli.commands import rendering_options, server as server_options
from tether.controller import main as controller_main
from tether.core.cluster import sharding as shards
from tether.settings import Settings

kubeconfig_option = server_options.kubeconfig_option

CONFIGURABLE_FLAGS: dict[str, str] = {
    # Flag parameter: the Settings field Argo CD's ConfigMaps also set (docs/configuration.md).
    # Given on the command line, the flag wins; left at its default, the ConfigMap does.
    "resync": "resync_period",
    "workers": "workers",
    "log_format": "log_format",
    "log_level": "log_level",
    "verbose": "log_level",  # -v and -vv set the level too
}


def explicit_fields(ctx: click.Context) -> frozenset[str]:
    """The Settings fields whose flags were given on the command line (or the environment)."""
    return frozenset(
        field
        for param, field in CONFIGURABLE_FLAGS.items()
        if ctx.get_parameter_source(param)
        not in (None, click.core.ParameterSource.DEFAULT, click.core.ParameterSource.DEFAULT_MAP)
    )


@click.command()
@kubeconfig_option
@server_options.namespaces_option("reconcile")
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
    help="host:port for /metrics, /healthz and /readyz (port 0 picks a free port).",
)
@click.option("--leader-election/--no-leader-election", default=True, show_default=True)
@click.option(
    "--sharding/--no-sharding",
    default=False,
    show_default=True,
    help="Replicas split the Applications between them, each holding a Lease of its own, "
    "instead of one leader reconciling all (docs/operations.md, Sharding).",
)
@click.option(
    "--replica-name",
    default="",
    help="This replica's name among the shards (default: the host name, a StatefulSet Pod's).",
)
@rendering_options.rendering_options
@click.option(
    "--repo-server",
    "repo_server",
    default="",
    metavar="URL",
    help="Render through this tether repo-server (http(s)://host:port) instead of in this "
    "process; the controller then runs no tool.",
)
@click.option(
    "--repo-server-token-file",
    type=click.Path(dir_okay=False, exists=True),
    default=None,
    help="The file holding the repo-server's bearer token (required with --repo-server).",
)
@click.option(
    "--repo-server-ca",
    type=click.Path(dir_okay=False, exists=True),
    default=None,
    help="The CA that signed an https repo-server's certificate (default: the system's).",
)
@click.option(
    "--allow-cluster-exec",
    "cluster_exec_commands",
    multiple=True,
    metavar="COMMAND",
    help="A credential plugin cluster Secrets may run (execProviderConfig.command, as written); "
    "repeat for more. None by default.",
)
@server_options.api_options
@click.option("--no-api", is_flag=True, help="Run the controller without the API server.")
@logs.options
def run(
    kubeconfig: str | None,
    namespaces: tuple[str, ...],
    resync: int,
    workers: int,
    metrics_address: str,
    leader_election: bool,
    sharding: bool,
    replica_name: str,
    repo_server: str,
    repo_server_token_file: str | None,
    repo_server_ca: str | None,
    cluster_exec_commands: tuple[str, ...],
    api_address: str,
    api_tls_cert: str | None,
    api_tls_key: str | None,
    insecure: bool,
    no_api: bool,
    log_format: str,
    log_level: str,
    verbose: int,
    **rendering: Any,
) -> None:
    """Run the controller and the API server against the current cluster until interrupted."""
    api = server_options.options_of(api_address, api_tls_cert, api_tls_key, insecure)
    if repo_server and not repo_server_token_file:
        raise click.UsageError("--repo-server needs --repo-server-token-file")
    if not repo_server and (repo_server_token_file or repo_server_ca):
        raise click.UsageError("--repo-server-token-file and --repo-server-ca need --repo-server")
    if repo_server and (
        rendering["allow_local_repos"] or rendering["remote_hosts"] or rendering["plugin_dirs"]
    ):
        # They would do nothing here: the repo-server fetches and renders.
        raise click.UsageError(
            "with --repo-server, pass --allow-local-repos, --remote-host and --plugin-dir to "
            "the repo-server"
        )
    replica_name = replica_name or socket.gethostname().split(".")[0].lower()
    if sharding and (problem := shards.replica_name_problem(replica_name)):
        raise click.BadParameter(problem, param_hint="--replica-name")
    settings = Settings(
        app_namespaces=namespaces,
        resync_period=datetime.timedelta(seconds=resync),
        workers=workers,
        metrics_address=metrics_address,
        leader_election=leader_election,
        sharding=sharding,
        replica_name=replica_name,
        repo_server=repo_server,
        repo_server_token_file=repo_server_token_file or "",
        repo_server_ca=repo_server_ca or "",
        cluster_exec_commands=cluster_exec_commands,
        log_format=log_format,
        log_level=logs.level_of(log_level, verbose),
        explicit=explicit_fields(click.get_current_context()),
    )
    settings = rendering_options.apply(settings, **rendering)
    logs.configure(settings.log_level, settings.log_format, requests=verbose > 0)
    beside = () if no_api else (server_options.beside_controller(api),)
    given = settings

    def configured(effective: Settings) -> None:
        # What argocd-cmd-params-cm set at start; flags given explicitly were kept by Settings.
        if (effective.log_format, effective.log_level) != (given.log_format, given.log_level):
            logs.configure(effective.log_level, effective.log_format, requests=verbose > 0)

    asyncio.run(
        controller_main.run(
            settings,
            kubeconfig=kubeconfig,
            beside=beside,
            api_address="" if no_api else api.address,
            configured=configured,
        )
    )


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
