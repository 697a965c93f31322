"""``tether proj``: AppProjects through an API server (list, get, create, delete)."""

from __future__ import annotations

import pathlib
import sys
import urllib.parse
from typing import Any

import click

from tether.cli import output
from tether.cli.commands import connection
from tether.cli.commands.remote_common import format_option, remote_client
from tether.core.sources import kubeyaml
from tether.model.errors import InvalidInputError

PROJECTS = "/api/v1/projects"
HEADERS = ("NAME", "DESCRIPTION", "DESTINATIONS", "SOURCES")


def _path(name: str) -> str:
    return f"{PROJECTS}/{urllib.parse.quote(name, safe='')}"


def destinations(project: dict[str, Any]) -> list[str]:
    """``server,namespace`` (or ``name,namespace``) of each destination."""
    found = []
    for entry in (project.get("spec") or {}).get("destinations") or []:
        where = entry.get("server") or entry.get("name") or ""
        found.append(f"{where},{entry.get('namespace') or ''}")
    return found


def project_row(project: dict[str, Any]) -> output.Row:
    """One project's row of ``HEADERS``."""
    spec = project.get("spec") or {}
    return (
        str((project.get("metadata") or {}).get("name") or ""),
        str(spec.get("description") or ""),
        ", ".join(destinations(project)) or "<none>",
        ", ".join(spec.get("sourceRepos") or []) or "<none>",
    )


def project_body(
    name: str, description: str, dests: tuple[str, ...], sources: tuple[str, ...]
) -> dict[str, Any]:
    """An AppProject from ``create``'s flags (``--dest SERVER,NAMESPACE``, ``--src REPO``).

    Raises:
        InvalidInputError: a destination is not ``SERVER,NAMESPACE``.
    """
    spec: dict[str, Any] = {}
    if description:
        spec["description"] = description
    entries = []
    for text in dests:
        where, sep, namespace = text.partition(",")
        if not sep or not where:
            raise InvalidInputError(f"--dest {text!r}: expected SERVER,NAMESPACE")
        key = "server" if "://" in where else "name"
        entries.append({key: where, "namespace": namespace})
    if entries:
        spec["destinations"] = entries
    if sources:
        spec["sourceRepos"] = list(sources)
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AppProject",
        "metadata": {"name": name},
        "spec": spec,
    }


@click.group("proj")
def proj() -> None:
    """AppProjects at the API server: what their apps may deploy, from where, to where."""


@proj.command("list")
@connection.connection_options
@format_option("table", "json", "yaml", "name")
def list_(fmt: str) -> None:
    """Every project you may see."""
    with remote_client() as api:
        items = api.get(PROJECTS).get("items") or []
    if fmt in ("json", "yaml"):
        click.echo(output.dump(items, fmt))
    elif fmt == "name":
        for item in items:
            click.echo(str((item.get("metadata") or {}).get("name") or ""))
    else:
        click.echo(output.table(HEADERS, [project_row(p) for p in items]))


@proj.command()
@connection.connection_options
@click.argument("name")
@format_option("table", "json", "yaml")
def get(name: str, fmt: str) -> None:
    """One project."""
    with remote_client() as api:
        found = api.get(_path(name))
    if fmt != "table":
        click.echo(output.dump(found, fmt))
        return
    _, description, dests, sources = project_row(found)
    spec = found.get("spec") or {}
    click.echo(f"Name:          {name}")
    click.echo(f"Description:   {description}")
    click.echo(f"Destinations:  {dests}")
    click.echo(f"Repositories:  {sources}")
    roles = ", ".join(str(r.get("name") or "") for r in spec.get("roles") or [])
    click.echo(f"Roles:         {roles or '<none>'}")
    windows = len(spec.get("syncWindows") or [])
    click.echo(f"Sync windows:  {windows or '<none>'}")


@proj.command()
@connection.connection_options
@click.argument("name", required=False, default="")
@click.option(
    "-f",
    "--file",
    "manifest_file",
    type=click.Path(dir_okay=False, allow_dash=True, path_type=pathlib.Path),
    help="An AppProject manifest ('-' reads standard input) instead of flags.",
)
@click.option("--description", default="")
@click.option("-d", "--dest", "dests", multiple=True, metavar="SERVER,NAMESPACE")
@click.option("-s", "--src", "sources", multiple=True, metavar="REPO", help="A source repository.")
@click.option("--upsert", is_flag=True, help="Replace the project if it exists and differs.")
def create(
    name: str,
    manifest_file: pathlib.Path | None,
    description: str,
    dests: tuple[str, ...],
    sources: tuple[str, ...],
    upsert: bool,
) -> None:
    """Create a project from flags or from a manifest (-f)."""
    if manifest_file is not None:
        text = sys.stdin.read() if str(manifest_file) == "-" else manifest_file.read_text()
        docs = [d for d in kubeyaml.parse_stream(text, str(manifest_file)) if d.get("kind")]
        if len(docs) != 1 or docs[0].get("kind") != "AppProject":
            raise InvalidInputError(f"{manifest_file}: expected exactly one AppProject")
        body = dict(docs[0])
        if name:
            body.setdefault("metadata", {})["name"] = name
    elif not name:
        raise click.UsageError("name the project, or give -f FILE")
    else:
        body = project_body(name, description, dests, sources)
    with remote_client() as api:
        created = api.call("POST", PROJECTS, body={"project": body, "upsert": upsert})
    click.echo(f"project {(created.get('metadata') or {}).get('name', name)} created")


@proj.command()
@connection.connection_options
@click.argument("name")
def delete(name: str) -> None:
    """Delete a project (refused while apps use it)."""
    with remote_client() as api:
        api.call("DELETE", _path(name))
    click.echo(f"project {name} deleted")
