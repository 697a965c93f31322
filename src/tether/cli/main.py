"""The ``tether`` command: one group, subcommands registered from ``tether.cli.commands``."""

from __future__ import annotations

import importlib
import sys

import click

from tether import __version__
from tether.cli import progress
from tether.core import redact
from tether.model.errors import RemoteError, TetherError

SUBCOMMANDS: dict[str, tuple[str, str, str]] = {
    "account": (
        "account",
        "account",
        "Local accounts at the API server: passwords, API tokens and what they may do.",
    ),
    "app": (
        "app",
        "app",
        "Inspect Applications and ask the controller to sync, roll back or delete them.",
    ),
    "cluster": (
        "cluster",
        "cluster",
        "Register, list and remove the other clusters apps may deploy to.",
    ),
    "context": ("login", "context", "List the contexts, or make CONTEXT the current one."),
    "demo": (
        "demo",
        "demo",
        "Deploy a sample app of apps from Git to a local cluster and watch it converge.",
    ),
    "dev-cluster": (
        "devcluster",
        "dev_cluster",
        "A real etcd + kube-apiserver (and, for --tier full, controllers and kwok nodes).",
    ),
    "install-crds": (
        "controller",
        "install_crds",
        "Install the Application and AppProject CRDs, the namespace and the default project.",
    ),
    "kubeflow": (
        "kubeflow",
        "kubeflow",
        "Deploy Kubeflow from a fork of kubeflow/manifests with one root Application.",
    ),
    "login": (
        "login",
        "login",
        "Log in to the API server at SERVER (HOST:PORT) and make it the current context.",
    ),
    "logout": (
        "login",
        "logout",
        "End the session of CONTEXT (the current one) at its server and forget its token.",
    ),
    "preview": (
        "preview",
        "preview",
        "Show what the change BASE..HEAD does to the rendered objects of every app it affects.",
    ),
    "proj": (
        "proj",
        "proj",
        "AppProjects at the API server: what their apps may deploy, from where, to where.",
    ),
    "render": (
        "render",
        "render",
        "Print the objects an Application renders to, as a YAML stream; exit 1 if it cannot.",
    ),
    "repo": (
        "repo",
        "repo",
        "Repositories at the API server, with their credentials (write-only).",
    ),
    "repo-server": (
        "reposerver",
        "repo_server",
        "Serve POST /v1/render for controllers started with --repo-server, until interrupted.",
    ),
    "run": (
        "controller",
        "run",
        "Run the controller and the API server against the current cluster until interrupted.",
    ),
    "server": (
        "server",
        "server",
        "Serve the API alone, reading state from the cluster (any number of replicas).",
    ),
}
"""Each subcommand: its module under ``tether.cli.commands``, the command in it, and its line in
``tether --help``. Imported only when run: importing them all (and bootstrap, the API server,
every adapter) made ``tether --help`` take seconds. A unit test keeps the lines true."""


class LazyGroup(click.Group):
    """A group whose subcommands in ``SUBCOMMANDS`` are imported when first used."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Every subcommand, lazy and eager, by name."""
        return sorted({*super().list_commands(ctx), *SUBCOMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The subcommand ``cmd_name``, importing its module the first time."""
        found = super().get_command(ctx, cmd_name)
        if found is not None or cmd_name not in SUBCOMMANDS:
            return found
        module, attribute, _ = SUBCOMMANDS[cmd_name]
        command = getattr(importlib.import_module(f"tether.cli.commands.{module}"), attribute)
        assert isinstance(command, click.Command)
        self.add_command(command, cmd_name)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The commands' help lines, without importing the lazy ones."""
        rows = []
        for name in self.list_commands(ctx):
            if name in SUBCOMMANDS and name not in self.commands:
                rows.append((name, SUBCOMMANDS[name][2]))
            elif (command := self.get_command(ctx, name)) is not None and not command.hidden:
                rows.append((name, command.get_short_help_str(formatter.width)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
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
    from tether import bootstrap  # here, not at the top: every other command would pay for it

    with progress.Progress() as shown:
        for component in components or bootstrap.tool_components():
            shown.start(f"{component}: looking for a cached build, else building it")
            for name, path in bootstrap.build_tools(component, progress=shown.note).items():
                shown.done(f"{name}: ready")
                click.echo(f"{name}: {path}")


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
