"""``tether dev-cluster up|down|status``: a real local control plane for trying tether out."""

from __future__ import annotations

import json
import os
import pathlib

import click

from tether import bootstrap

TIERS = ("minimal", "full")


def default_dir() -> pathlib.Path:
    """Where the dev cluster keeps its state unless ``--dir`` says otherwise."""
    base = os.environ.get("XDG_STATE_HOME") or os.path.expanduser("~/.local/state")
    return pathlib.Path(base) / "tether" / "dev-cluster"


dir_option = click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=pathlib.Path),
    default=default_dir,
    show_default="~/.local/state/tether/dev-cluster",
    help="Directory for certificates, logs, etcd data and the kubeconfig.",
)


@click.group("dev-cluster")
def dev_cluster() -> None:
    """A real etcd + kube-apiserver (and, for --tier full, controllers and kwok nodes)."""


@dev_cluster.command()
@click.option(
    "--tier",
    type=click.Choice(TIERS),
    default="minimal",
    show_default=True,
    help="minimal: etcd + kube-apiserver. full: adds controller-manager, scheduler "
    "and simulated kwok nodes, so Deployments become Available.",
)
@dir_option
def up(tier: str, directory: pathlib.Path) -> None:
    """Build what is missing, start the control plane, and print how to use it."""
    cluster = bootstrap.dev_cluster_up(
        directory, tier, progress=lambda msg: click.echo(f"  {msg}", err=True)
    )
    click.echo(f"# tether dev cluster ({cluster.tier}) at {cluster.server}", err=True)
    click.echo(f"export KUBECONFIG={cluster.kubeconfig}")


@dev_cluster.command()
@dir_option
def down(directory: pathlib.Path) -> None:
    """Stop every process the control plane started."""
    stopped = bootstrap.dev_cluster_down(directory)
    click.echo("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))


@dev_cluster.command()
@dir_option
@click.option("-o", "--output", type=click.Choice(["text", "json"]), default="text")
def status(directory: pathlib.Path, output: str) -> None:
    """Show whether the control plane is running and ready."""
    info = bootstrap.dev_cluster_status(directory)
    if output == "json":
        click.echo(json.dumps(info, indent=2))
        return
    if not info.get("running") and "components" not in info:
        click.echo(f"not running (no state in {directory})")
        raise SystemExit(1)
    click.echo(f"tier:       {info['tier']}")
    click.echo(f"server:     {info['server']}")
    click.echo(f"ready:      {'yes' if info['ready'] else 'no'}")
    click.echo(f"kubeconfig: {info['kubeconfig']}")
    for name, alive in info["components"].items():
        click.echo(f"  {name:<24} {'running' if alive else 'stopped'}")
    if not info["running"]:
        raise SystemExit(1)
