"""The ``tether`` command: one group, subcommands registered from ``tether.cli.commands``."""

from __future__ import annotations

import sys

import click

from tether import __version__, bootstrap
from tether.cli import progress
from tether.cli.commands import (
    account,
    app,
    cluster,
    controller,
    demo,
    devcluster,
    kubeflow,
    login,
    preview,
    proj,
    render,
    repo,
    reposerver,
    server,
)
from tether.core import redact
from tether.model.errors import RemoteError, TetherError


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="tether")
def cli() -> None:
    """tether keeps clusters in the state Git describes, speaking Argo CD's Application API."""


@cli.group()
def tools() -> None:
    """The external binaries tether runs (built once per machine from Go modules)."""


@tools.command("build")
@click.argument("components", nargs=-1)
def tools_build(components: tuple[str, ...]) -> None:
    """Build the control plane, helm, kustomize, kwok, Dex, the registry, tether-goeval if needed.

    Each component is said on stderr as it starts and ends, with the time it took (a cold
    build takes minutes); its directory goes to stdout.
    """
    with progress.Progress() as shown:
        for component in components or bootstrap.tool_components():
            shown.start(f"{component}: looking for a cached build, else building it")
            for name, path in bootstrap.build_tools(component, progress=shown.note).items():
                shown.done(f"{name}: ready")
                click.echo(f"{name}: {path}")


cli.add_command(devcluster.dev_cluster)
cli.add_command(controller.run)
cli.add_command(controller.install_crds)
cli.add_command(demo.demo)
cli.add_command(kubeflow.kubeflow)
cli.add_command(app.app)
cli.add_command(cluster.cluster)
cli.add_command(render.render)
cli.add_command(preview.preview)
cli.add_command(reposerver.repo_server)
cli.add_command(server.server)
cli.add_command(account.account)
cli.add_command(proj.proj)
cli.add_command(repo.repo)
for _command in login.COMMANDS:
    cli.add_command(_command)


def main() -> None:
    """Run the CLI, turning tether's errors into a one-line message and exit code 2."""
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        sys.exit(130)
    except click.UsageError as err:
        err.show()
        sys.exit(err.exit_code)
    except click.ClickException as err:
        click.echo(f"Error: {redact.text(err.format_message())}", err=True)
        sys.exit(err.exit_code)
    except RemoteError as err:
        hint = " (log in again: tether login SERVER)" if err.status == 401 else ""
        click.echo(f"error: {redact.text(str(err))}{hint}", err=True)
        sys.exit(2)
    except TetherError as err:
        click.echo(f"error: {redact.text(str(err))}", err=True)
        sys.exit(2)
    except click.exceptions.Exit as err:
        sys.exit(err.exit_code)
