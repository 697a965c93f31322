"""``tether repo``: repositories and their credentials through an API server (list, add, rm).

Credentials go to the server and never come back (the server answers without them); a password
or key is read from a prompt or a file, never echoed.
"""

from __future__ import annotations

import pathlib
import urllib.parse
from typing import Any

import click

from tether.cli import output
from tether.cli.commands import connection
from tether.cli.commands.remote_common import format_option, remote_client
from tether.core import redact

REPOSITORIES = "/api/v1/repositories"
HEADERS = ("TYPE", "NAME", "REPO", "PROJECT", "STATUS", "MESSAGE")


def repository_body(
    url: str,
    *,
    kind: str,
    name: str,
    project: str,
    username: str,
    password: str,
    ssh_private_key: str,
    insecure: bool,
) -> dict[str, Any]:
    """The Repository ``add`` sends (only what was given)."""
    given = {"name": name, "project": project, "username": username, "password": password}
    given["sshPrivateKey"] = ssh_private_key
    body: dict[str, Any] = {"repo": url, "type": kind, **{k: v for k, v in given.items() if v}}
    if insecure:
        body["insecure"] = True
    return body


def repository_row(repo: dict[str, Any]) -> output.Row:
    """One repository's row of ``HEADERS``."""
    state = repo.get("connectionState") or {}
    return (
        str(repo.get("type") or "git"),
        str(repo.get("name") or ""),
        str(repo.get("repo") or ""),
        str(repo.get("project") or ""),
        str(state.get("status") or ""),
        str(state.get("message") or ""),
    )


@click.group("repo")
def repo() -> None:
    """Repositories at the API server, with their credentials (write-only)."""


@repo.command("list")
@connection.connection_options
@format_option("table", "json", "yaml")
def list_(fmt: str) -> None:
    """Every repository you may see."""
    with remote_client() as api:
        items = api.get(REPOSITORIES).get("items") or []
    if fmt != "table":
        click.echo(output.dump(items, fmt))
        return
    click.echo(output.table(HEADERS, [repository_row(r) for r in items]))


@repo.command()
@connection.connection_options
@click.argument("url")
@click.option("--type", "kind", type=click.Choice(["git", "helm"]), default="git")
@click.option("--name", default="", help="A name (Helm repositories need one).")
@click.option("--project", default="", help="The project the repository is scoped to.")
@click.option("--username", default="")
@click.option("--password", default="", help="Prompted for, hidden, when --username is alone.")
@click.option(
    "--ssh-private-key-path",
    type=click.Path(dir_okay=False, exists=True, path_type=pathlib.Path),
    help="A file holding an SSH private key.",
)
@click.option("--insecure-skip-server-verification", "skip_verify", is_flag=True)
@click.option("--upsert", is_flag=True, help="Replace the repository if it exists and differs.")
def add(
    url: str,
    kind: str,
    name: str,
    project: str,
    username: str,
    password: str,
    ssh_private_key_path: pathlib.Path | None,
    skip_verify: bool,
    upsert: bool,
) -> None:
    """Add a repository (and its credentials) for apps to use."""
    if username and not password:
        password = click.prompt("Password", hide_input=True)
    key = ssh_private_key_path.read_text() if ssh_private_key_path else ""
    body = repository_body(
        url,
        kind=kind,
        name=name,
        project=project,
        username=username,
        password=password,
        ssh_private_key=key,
        insecure=skip_verify,
    )
    with remote_client() as api:
        api.call("POST", REPOSITORIES, params={"upsert": upsert}, body=body)
    click.echo(f"repository {redact.text(url)} added")


@repo.command()
@connection.connection_options
@click.argument("url")
def rm(url: str) -> None:
    """Remove a repository (and its credentials)."""
    with remote_client() as api:
        api.call("DELETE", f"{REPOSITORIES}/{urllib.parse.quote(url, safe='')}")
    click.echo(f"repository {redact.text(url)} removed")
