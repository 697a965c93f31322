"""``tether render -f app.yaml``: render an Application from a local working tree, no cluster."""

from __future__ import annotations

import asyncio
import os
import pathlib
import sys

import click
import yaml

from tether import bootstrap
from tether.services import manifests
from tether.settings import Settings


@click.command()
@click.option(
    "-f",
    "--filename",
    "path",
    required=True,
    type=click.Path(dir_okay=False, path_type=pathlib.Path, allow_dash=True),
    help="The file holding one Application ('-' reads standard input).",
)
@click.option(
    "--repo-root",
    type=click.Path(file_okay=False, exists=True, path_type=pathlib.Path),
    default=pathlib.Path("."),
    show_default="the current directory",
    help="Every repoURL of the Application is read from this directory, as it is on disk.",
)
@click.option("--kube-version", default="", help="The Kubernetes version Helm renders for.")
@click.option(
    "--api-versions", multiple=True, help="API versions Helm's .Capabilities offer (repeatable)."
)
def render(
    path: pathlib.Path, repo_root: pathlib.Path, kube_version: str, api_versions: tuple[str, ...]
) -> None:
    """Print the objects an Application renders to, as a YAML stream; exit 1 if it cannot."""
    try:
        text = sys.stdin.read() if str(path) == "-" else path.read_text()
    except OSError as err:
        raise click.ClickException(f"{path}: {err.strerror or err}") from err
    renderer = bootstrap.renderer(Settings())
    result = asyncio.run(
        manifests.render_manifest(
            text,
            renderer,
            repo_root=os.fspath(repo_root.resolve()),
            kube_version=kube_version,
            api_versions=api_versions,
        )
    )
    if isinstance(result, manifests.RenderFailed):
        raise click.ClickException(f"{path}: {result.message}")
    click.echo(
        yaml.safe_dump_all(result.manifests, sort_keys=False, default_flow_style=False),
        nl=False,
    )
