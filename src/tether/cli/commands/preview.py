"""``tether preview --base REF --head REF``: what a Git change does to every app it affects."""

from __future__ import annotations

import asyncio
import json
import os
import pathlib
import sys

import click

from tether import bootstrap
from tether.core.preview import report
from tether.settings import Settings

COLOURS = {
    # The roles ``report.text`` styles, as a terminal shows them.
    "added": {"fg": "green"},
    "removed": {"fg": "red"},
    "hunk": {"fg": "cyan"},
    "title": {"bold": True},
    "failed": {"fg": "red", "bold": True},
}


def _style(text: str, role: str) -> str:
    # click.echo drops these codes when stdout is not a terminal: colour only on a TTY.
    return click.style(text, **COLOURS.get(role, {}))  # type: ignore[arg-type]


def _relative(path: str, root: pathlib.Path) -> str:
    """An APP_FILES entry as a repository path: one on disk inside the checkout, or as given."""
    candidate = pathlib.Path(path)
    if candidate.is_absolute() or candidate.exists():
        full = candidate.resolve()
        if not full.is_relative_to(root):
            raise click.BadParameter(f"{path}: not inside {root}", param_hint="APP_FILES")
        return full.relative_to(root).as_posix()
    return candidate.as_posix()


@click.command()
@click.option("--base", required=True, help="The commit before the change (a branch, tag or SHA).")
@click.option("--head", required=True, help="The commit after it (e.g. HEAD).")
@click.option(
    "--repo-root",
    type=click.Path(file_okay=False, exists=True, path_type=pathlib.Path),
    default=pathlib.Path("."),
    show_default="the current directory",
    help="The top of a local Git checkout; every repoURL is read from it, at base and at head.",
)
@click.option(
    "-o",
    "--output",
    type=click.Choice(["text", "json", "markdown"]),
    default="text",
    show_default=True,
    help="text for a terminal, json for tools, markdown for a pull-request comment.",
)
@click.argument("app_files", nargs=-1)
def preview(
    base: str, head: str, repo_root: pathlib.Path, output: str, app_files: tuple[str, ...]
) -> None:
    """Show what the change BASE..HEAD does to the rendered objects of every app it affects.

    Applications come from APP_FILES (YAML files or folders, read at each commit), by default
    every Application manifest in the repository at head; an app whose render holds
    Applications (an app of apps) adds them too. Each affected app is rendered at both
    commits with the controller's renderer; Secret values are masked. No cluster is needed.

    Exit codes: 0 when every affected app rendered at head (changed or not); 1 when at least
    one app failed to render at head (the others are still reported); 2 when the preview
    could not run (an unknown ref, not a Git checkout).
    """
    root = repo_root.resolve()
    files = [_relative(path, root) for path in app_files]
    service = bootstrap.previewer(Settings(), os.fspath(root))
    result = asyncio.run(service.preview(base, head, files))
    if output == "json":
        click.echo(json.dumps(report.as_json(result), indent=2))
    elif output == "markdown":
        click.echo(report.markdown(result), nl=False)
    else:
        click.echo(report.text(result, _style), nl=False)
    if result.failed:
        sys.exit(1)
