"""``tether app create|set|unset|patch``: users' edits of Applications, as ``argocd app`` has them.

Through an API server these are ``POST /api/v1/applications`` (``upsert``), ``PUT .../spec`` and
``PATCH``; in core mode the same edits are written to Kubernetes (``app_edit_core``). The bodies
come from ``app_bodies``.
"""

from __future__ import annotations

import json
import pathlib
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from tether.cli import output
from tether.cli.commands import (
    app_bodies as bodies,
    app_common as common,
    app_edit_core as core,
    app_remote as remote,
    connection,
)
from tether.core.sources import kubeyaml
from tether.model.errors import InvalidInputError
from tether.services import appedits

F = TypeVar("F", bound=Callable[..., Any])

_SOURCE_OPTIONS = (
    click.option("--repo", default="", help="The repository URL."),
    click.option("--path", default="", help="The directory in the repository."),
    click.option("--revision", default="", help="The target revision (branch, tag, commit)."),
    click.option("--helm-chart", "chart", default="", help="A chart of a Helm repository."),
    click.option("--release-name", default="", help="The Helm release name."),
    click.option(
        "-p",
        "--parameter",
        "parameters",
        multiple=True,
        metavar="NAME=VALUE",
        help="A Helm parameter (repeatable).",
    ),
    click.option(
        "--helm-set-string",
        "string_parameters",
        multiple=True,
        metavar="NAME=VALUE",
        help="A Helm parameter forced to a string (repeatable).",
    ),
    click.option(
        "--values", "values_files", multiple=True, help="A Helm values file (repeatable)."
    ),
    click.option("--dest-server", default="", help="The destination cluster's API server URL."),
    click.option("--dest-name", default="", help="The destination cluster's name."),
    click.option("--dest-namespace", default="", help="The destination namespace."),
    click.option("--project", default="", help="The project (create: default)."),
    click.option(
        "--sync-policy",
        default="",
        help="manual (none) or automated (auto, automatic).",
    ),
    click.option("--auto-prune/--no-auto-prune", default=None, help="Automated sync prunes."),
    click.option("--self-heal/--no-self-heal", default=None, help="Automated sync self-heals."),
    click.option("--sync-option", "sync_options", multiple=True, help="e.g. CreateNamespace=true."),
    click.option(
        "--source-position",
        type=click.IntRange(min=1),
        default=1,
        show_default=True,
        help="Which source of a multi-source app the source flags change.",
    ),
)


def spec_options(func: F) -> F:
    """The flags of ``create`` and ``set``; the command takes them as keywords for ``SpecFlags``."""
    for option in reversed(_SOURCE_OPTIONS):
        func = option(func)
    return func


@click.command()
@common.target_options
@click.argument("name", required=False, default="")
@click.option(
    "-f",
    "--file",
    "manifest_file",
    type=click.Path(dir_okay=False, allow_dash=True, path_type=pathlib.Path),
    help="An Application manifest ('-' reads standard input) instead of flags.",
)
@click.option("--upsert", is_flag=True, help="Replace the app if it exists and differs.")
@click.option("--label", "app_labels", multiple=True, metavar="KEY=VALUE", help="(repeatable)")
@spec_options
def create(
    kubeconfig: str | None,
    namespace: str,
    control_plane_namespace: str,
    name: str,
    manifest_file: pathlib.Path | None,
    upsert: bool,
    app_labels: tuple[str, ...],
    **flags: Any,
) -> None:
    """Create an Application from flags or from a manifest (-f)."""
    api = connection.client()
    given = common.given_namespace(namespace) if api is not None else namespace
    if manifest_file is not None:
        body = _manifest(manifest_file)
        if name:
            body.setdefault("metadata", {})["name"] = name
        if given:
            body.setdefault("metadata", {})["namespace"] = given
    elif not name:
        raise click.UsageError("name the application, or give -f FILE")
    else:
        body = bodies.create_body(name, given, bodies.SpecFlags(**flags), bodies.labels(app_labels))
    if api is None:
        target = common.target_of(kubeconfig, namespace, control_plane_namespace)
        created = common.run(target, core.create(target, body, upsert=upsert))
    else:
        with api:
            created = api.call("POST", remote.APPS, params={"upsert": upsert}, body=body)
    click.echo(f"application {output.qualified(created)} created")


def _manifest(path: pathlib.Path) -> dict[str, Any]:
    try:
        text = sys.stdin.read() if str(path) == "-" else path.read_text()
    except OSError as err:
        raise click.ClickException(f"{path}: {err.strerror or err}") from err
    docs = [d for d in kubeyaml.parse_stream(text, str(path)) if d.get("kind") == "Application"]
    if len(docs) != 1:
        raise InvalidInputError(f"{path}: expected exactly one Application")
    found = dict(docs[0])
    found.pop("status", None)
    found.pop("operation", None)
    return found


def _change_spec(
    target: common.Target, name: str, change: Callable[[dict[str, Any]], dict[str, Any]]
) -> None:
    """Set the app's spec to ``change(its spec)``: through the API server, or in core mode."""
    api = connection.client()
    if api is None:
        stored = common.run(
            target,
            core.edit(target, name, lambda obj: {**obj, "spec": change(obj.get("spec") or {})}),
        )
        click.echo(f"application {output.qualified(stored)} updated")
        return
    namespace = common.given_namespace(target.namespace)
    with api:
        app = remote.get_app(api, name, namespace)
        spec = change(app.get("spec") or {})
        api.call("PUT", remote.app_path(name, "spec"), params=remote.scope(namespace), body=spec)
    click.echo(f"application {output.qualified(app)} updated")


@click.command("set")
@common.target_options
@click.argument("name")
@spec_options
def set_(
    kubeconfig: str | None,
    namespace: str,
    control_plane_namespace: str,
    name: str,
    **flags: Any,
) -> None:
    """Change an Application's spec: source, destination, project, sync policy, parameters."""
    target = common.target_of(kubeconfig, namespace, control_plane_namespace)
    _change_spec(target, name, bodies.SpecFlags(**flags).apply)


@click.command()
@common.target_options
@click.argument("name")
@click.option("-p", "--parameter", "parameters", multiple=True, help="A Helm parameter's name.")
@click.option("--values", "values_files", multiple=True, help="A Helm values file.")
@click.option("--revision", is_flag=True, help="The target revision (back to HEAD).")
@click.option("--path", is_flag=True, help="The source's path.")
@click.option("--release-name", is_flag=True, help="The Helm release name.")
@click.option("--sync-policy", is_flag=True, help="Automated sync (back to manual).")
@click.option("--sync-option", "sync_options", multiple=True, help="A sync option, by key.")
@click.option("--source-position", type=click.IntRange(min=1), default=1, show_default=True)
def unset(
    kubeconfig: str | None,
    namespace: str,
    control_plane_namespace: str,
    name: str,
    **flags: Any,
) -> None:
    """Remove parts of an Application's spec (parameters, values files, revision ...)."""
    target = common.target_of(kubeconfig, namespace, control_plane_namespace)
    _change_spec(target, name, bodies.UnsetFlags(**flags).apply)


@click.command()
@common.target_options
@click.argument("name")
@click.option("--patch", "patch_text", required=True, help="The patch, as JSON.")
@click.option(
    "--type",
    "patch_type",
    type=click.Choice(bodies.PATCH_TYPES),
    default="json",
    show_default=True,
    help="json (RFC 6902) or merge (RFC 7386).",
)
def patch(
    kubeconfig: str | None,
    namespace: str,
    control_plane_namespace: str,
    name: str,
    patch_text: str,
    patch_type: str,
) -> None:
    """Patch an Application (its spec and user metadata; never status or operation)."""
    try:
        json.loads(patch_text)
    except ValueError as err:
        raise click.BadParameter(f"not JSON: {err}", param_hint="--patch") from None
    api = connection.client()
    if api is None:
        target = common.target_of(kubeconfig, namespace, control_plane_namespace)
        stored = common.run(
            target,
            core.edit(target, name, lambda obj: appedits.patched(obj, patch_text, patch_type)),
        )
        click.echo(f"application {output.qualified(stored)} patched")
        return
    given = common.given_namespace(namespace)
    with api:
        patched = api.call(
            "PATCH",
            remote.app_path(name),
            params=remote.scope(given),
            body={"patch": patch_text, "patchType": patch_type},
        )
    click.echo(f"application {output.qualified(patched)} patched")


COMMANDS = (create, set_, unset, patch)
