"""``tether app list|get|history|diff`` through an API server, printing as core mode does.

``diff`` asks the server for ``managed-resources`` (its comparison, Secret values masked); with
``--revision`` it compares the server's render of that revision, and with ``--local`` a render
of a local directory made here (as ``tether render`` does), against the live objects.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import os
import pathlib
import urllib.parse
from collections.abc import Sequence
from typing import Any

import click
import yaml

from tether import bootstrap
from tether.cli import dependency_view, diffs, output
from tether.cli.commands import app_remote as remote, app_wait as waiting
from tether.core.app import policy, syncwindows
from tether.model.application import parse_application
from tether.model.errors import InvalidInputError, RemoteError, TetherError
from tether.model.project import DEFAULT_PROJECT_NAME, parse_project
from tether.services import apps, manifests
from tether.settings import Settings


def list_(
    api: bootstrap.ApiClient,
    *,
    namespace: str,
    all_namespaces: bool,
    selector: str,
    projects: Sequence[str],
    fmt: str,
) -> None:
    """``tether app list`` against the server."""
    found = remote.list_apps(
        api,
        namespace="" if all_namespaces else namespace,
        selector=selector,
        projects=projects,
    )
    shown = output.app_list(found, fmt, qualify=all_namespaces)
    if shown:  # an empty list by name prints nothing, not a blank line
        click.echo(shown)


def get(
    api: bootstrap.ApiClient, name: str, namespace: str, *, fmt: str, refresh: str, timeout: float
) -> None:
    """``tether app get`` against the server."""
    obj = refreshed(api, name, namespace, refresh, timeout) if refresh else None
    obj = obj or remote.get_app(api, name, namespace)
    if fmt != "table":
        click.echo(output.dump(obj, fmt))
        return
    click.echo(output.summary(obj, windows_now(api, obj, bootstrap.now())))
    # The apps the caller may list, every namespace's: one elsewhere may depend on this one.
    graph = dependency_view.section(obj, remote.list_apps(api))
    if graph:
        click.echo("\n" + graph)
    rows = output.resource_rows(obj)
    if rows:
        click.echo("")
        click.echo(output.table(output.RESOURCE_HEADERS, rows))


def windows_now(
    api: bootstrap.ApiClient, obj: dict[str, Any], now: datetime.datetime
) -> apps.Windows | None:
    """The app's sync windows at ``now``, judged here from its project as the server returns it.

    ``None`` (not shown) when the project cannot be read: the caller may see apps but not
    projects.
    """
    try:
        app = parse_application(obj)
    except InvalidInputError:
        return None
    name = app.spec.project or DEFAULT_PROJECT_NAME
    try:
        found = api.get(f"/api/v1/projects/{urllib.parse.quote(name, safe='')}")
        project = parse_project(found)
    except RemoteError as err:
        if err.code not in remote.GONE_CODES:
            return None
        # Not stored: the built-in default project, as the controller reads it.
        project_or_none = policy.project_or_default(name, None, app.namespace or "")
        if project_or_none is None:
            return None
        project = project_or_none
    except InvalidInputError:
        return None
    return apps.Windows(
        syncwindows.check(project, app, now=now, manual=False),
        syncwindows.check(project, app, now=now, manual=True),
    )


def refreshed(
    api: bootstrap.ApiClient, name: str, namespace: str, level: str, timeout: float
) -> dict[str, Any]:
    """Refresh the app (the server waits a little) and follow it until the controller is done."""
    obj = remote.get_app(api, name, namespace, refresh=level)
    if not apps.refresh_pending(obj):
        return obj
    done = remote.follow_until(
        api, name, namespace, waiting.Refreshed(), timeout, since=remote.version_of(obj)
    )
    assert done is not None
    return done


def history(api: bootstrap.ApiClient, name: str, namespace: str) -> None:
    """``tether app history`` against the server."""
    obj = remote.get_app(api, name, namespace)
    click.echo(output.table(output.HISTORY_HEADERS, output.history_rows(obj)))


def diff(
    api: bootstrap.ApiClient,
    name: str,
    namespace: str,
    *,
    revision: str,
    hard_refresh: bool,
    local: pathlib.Path | None,
    local_repo_root: pathlib.Path | None,
) -> tuple[str, int]:
    """The report of ``tether app diff`` against the server and the number of differences."""
    if hard_refresh:
        refreshed(api, name, namespace, "hard", 120.0)
    items = api.get(remote.app_path(name, "managed-resources"), **remote.scope(namespace))
    resources = [i for i in items.get("items") or [] if isinstance(i, dict)]
    if local is not None:
        app = remote.get_app(api, name, namespace)
        return diffs.local_report(render_local(app, local, local_repo_root), resources)
    if revision:
        answer = api.get(
            remote.app_path(name, "manifests"), revision=revision, **remote.scope(namespace)
        )
        wanted = [json.loads(m) for m in answer.get("manifests") or []]
        return diffs.local_report([m for m in wanted if isinstance(m, dict)], resources)
    return diffs.server_report(resources)


def render_local(
    app: dict[str, Any], directory: pathlib.Path, repo_root: pathlib.Path | None
) -> list[dict[str, Any]]:
    """The app's objects rendered from ``directory`` instead of its Git source.

    ``directory`` stands for the source's path; ``repo_root`` (default: ``directory``) for the
    repository's root, so paths a kustomization or chart reaches outside ``directory`` resolve.

    Raises:
        InvalidInputError: the app has several sources or a chart, or the directory is outside
            the repository root.
        TetherError: rendering failed.
    """
    spec = dict(app.get("spec") or {})
    source = spec.get("source")
    if spec.get("sources") or not isinstance(source, dict):
        raise InvalidInputError("--local needs an application with one source (spec.source)")
    if source.get("chart"):
        raise InvalidInputError("--local cannot stand for a chart from a Helm repository")
    directory = directory.resolve()
    root = (repo_root or directory).resolve()
    if not directory.is_dir():
        raise InvalidInputError(f"--local {directory}: not a directory")
    if not directory.is_relative_to(root):
        raise InvalidInputError(f"--local {directory} is not inside --local-repo-root {root}")
    spec["source"] = {**source, "path": os.path.relpath(directory, root)}
    meta = app.get("metadata") or {}
    local_app = {
        "apiVersion": app.get("apiVersion", "argoproj.io/v1alpha1"),
        "kind": "Application",
        "metadata": {"name": meta.get("name", ""), "namespace": meta.get("namespace", "")},
        "spec": spec,
    }
    text = yaml.safe_dump(local_app, sort_keys=False)
    result = asyncio.run(
        manifests.render_manifest(text, bootstrap.renderer(Settings()), repo_root=os.fspath(root))
    )
    if isinstance(result, manifests.RenderFailed):
        raise TetherError(f"rendering {directory}: {result.message}")
    return [dict(m) for m in result.manifests]
