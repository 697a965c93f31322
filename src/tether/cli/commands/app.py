"""``tether app``: list, show, diff and history of Applications, straight from the cluster.

The commands that ask the controller to act (sync, wait, rollback, ...) are in ``app_ops``.
"""

from __future__ import annotations

import pathlib
from typing import Any

import click

from tether import ports
from tether.cli import dependency_view, output
from tether.cli.commands import (
    app_actions,
    app_common as common,
    app_edit,
    app_ops,
    app_remote_views as views,
    app_resources,
    app_wait,
    connection,
)
from tether.model.application import parse_application
from tether.model.errors import TetherError
from tether.services import apps

CACHE_SYNC_TIMEOUT_S = 120.0
"""The first list of every type before a diff; seconds on a small cluster."""


class DiffFailed(click.ClickException):
    """``tether app diff`` could not compare: exit 2, as ``argocd app diff`` does."""

    exit_code = 2

    def show(self, file: Any = None) -> None:
        """Print as every tether error prints."""
        click.echo(f"error: {self.format_message()}", err=True, file=file)


@click.group("app")
def app() -> None:
    """Inspect Applications and ask the controller to sync, roll back or delete them."""


@app.command("list")
@common.target_options
@click.option("-A", "--all-namespaces", is_flag=True, help="Applications of every namespace.")
@click.option("-l", "--selector", default="", help="Only apps with these labels (k=v,k!=v,k).")
@click.option("-p", "--project", "projects", multiple=True, help="Only this project's apps.")
@click.option(
    "-o",
    "--output",
    "fmt",
    type=click.Choice(["table", "wide", "json", "yaml", "name"]),
    default="table",
    show_default=True,
)
def list_(
    kubeconfig: str | None,
    namespace: str,
    control_plane_namespace: str,
    all_namespaces: bool,
    selector: str,
    projects: tuple[str, ...],
    fmt: str,
) -> None:
    """List Applications with their sync and health status."""
    api = connection.client()
    if api is not None:
        with api:
            views.list_(
                api,
                namespace=common.given_namespace(namespace),
                all_namespaces=all_namespaces,
                selector=selector,
                projects=projects,
                fmt=fmt,
            )
        return
    target = common.target_of(kubeconfig, namespace, control_plane_namespace)
    matches = common.label_matcher(selector)

    async def work() -> list[dict[str, Any]]:
        async with common.connect(target) as rt:
            return await apps.list_apps(rt.cluster, "" if all_namespaces else namespace)

    found = [
        obj
        for obj in common.run(target, work())
        if matches(obj) and (not projects or output.project_of(obj) in projects)
    ]
    shown = output.app_list(found, fmt, qualify=all_namespaces)
    if shown:  # an empty list by name prints nothing, not a blank line
        click.echo(shown)


@app.command()
@common.target_options
@click.argument("name")
@click.option(
    "-o",
    "--output",
    "fmt",
    type=click.Choice(["table", "json", "yaml"]),
    default="table",
    show_default=True,
    help="json and yaml print the Application exactly as stored.",
)
@click.option("--refresh", is_flag=True, help="Compare with the latest Git revision first.")
@click.option("--hard-refresh", is_flag=True, help="Also re-render (ignore the render cache).")
@click.option(
    "--timeout",
    type=float,
    default=120.0,
    show_default=True,
    help="Seconds to wait for a requested refresh.",
)
def get(
    kubeconfig: str | None,
    namespace: str,
    control_plane_namespace: str,
    name: str,
    fmt: str,
    refresh: bool,
    hard_refresh: bool,
    timeout: float,
) -> None:
    """Show an Application: its source, status, resources and last operation."""
    api = connection.client()
    if api is not None:
        level = "hard" if hard_refresh else ("normal" if refresh else "")
        with api:
            views.get(
                api,
                name,
                common.given_namespace(namespace),
                fmt=fmt,
                refresh=level,
                timeout=timeout,
            )
        return
    target = common.target_of(kubeconfig, namespace, control_plane_namespace)

    async def work() -> tuple[dict[str, Any], apps.Windows | None, list[dict[str, Any]]]:
        async with common.connect(target) as rt:
            if refresh or hard_refresh:
                obj = await app_wait.refreshed(rt, target, name, hard=hard_refresh, timeout=timeout)
            else:
                obj = await apps.get(rt.cluster, namespace, name)
            if fmt != "table":
                return obj, None, []
            windows = await apps.windows_now(rt.cluster, obj, control_plane_namespace, rt.clock())
            return obj, windows, await _neighbours(rt.cluster, namespace)

    obj, windows, others = common.run(target, work())
    if fmt != "table":
        click.echo(output.dump(obj, fmt))
        return
    click.echo(output.summary(obj, windows))
    graph = dependency_view.section(obj, others)
    if graph:
        click.echo("\n" + graph)
    rows = output.resource_rows(obj)
    if rows:
        click.echo("")
        click.echo(output.table(output.RESOURCE_HEADERS, rows))


async def _neighbours(cluster: ports.Cluster, namespace: str) -> list[dict[str, Any]]:
    """The Applications an app's dependency graph is drawn from.

    Every namespace's (an app elsewhere may depend on it), or its own namespace's when the
    caller may not list them all.
    """
    try:
        return await apps.list_apps(cluster)
    except TetherError:
        try:
            return await apps.list_apps(cluster, namespace)
        except TetherError:
            return []


@app.command()
@common.target_options
@click.argument("name")
def history(
    kubeconfig: str | None, namespace: str, control_plane_namespace: str, name: str
) -> None:
    """List the successful syncs kept for rollback (``status.history``)."""
    api = connection.client()
    if api is not None:
        with api:
            views.history(api, name, common.given_namespace(namespace))
        return
    target = common.target_of(kubeconfig, namespace, control_plane_namespace)

    async def work() -> dict[str, Any]:
        async with common.connect(target) as rt:
            return await apps.get(rt.cluster, namespace, name)

    obj = common.run(target, work())
    click.echo(output.table(output.HISTORY_HEADERS, output.history_rows(obj)))


@app.command()
@common.target_options
@click.argument("name")
@click.option("--revision", help="Compare with this revision instead of the target revision.")
@click.option("--hard-refresh", is_flag=True, help="Resolve and re-render, bypassing caches.")
@click.option(
    "--local",
    type=click.Path(file_okay=False, exists=True, path_type=pathlib.Path),
    help="Compare this directory (standing for the source's path) instead of Git "
    "(through an API server).",
)
@click.option(
    "--local-repo-root",
    type=click.Path(file_okay=False, exists=True, path_type=pathlib.Path),
    help="The repository root --local is inside (default: --local itself).",
)
def diff(
    kubeconfig: str | None,
    namespace: str,
    control_plane_namespace: str,
    name: str,
    revision: str | None,
    hard_refresh: bool,
    local: pathlib.Path | None,
    local_repo_root: pathlib.Path | None,
) -> None:
    """Show how the cluster differs from Git; exit 1 when it does, 0 when not, 2 on error.

    In core mode the comparison runs here, as the controller's would: render, server-side dry
    run, diff. Through an API server it is the server's. Secret values are masked.
    """
    api = connection.client()
    if api is not None:
        try:
            with api:
                text, count = views.diff(
                    api,
                    name,
                    common.given_namespace(namespace),
                    revision=revision or "",
                    hard_refresh=hard_refresh,
                    local=local,
                    local_repo_root=local_repo_root,
                )
        except (TetherError, TimeoutError) as err:
            raise DiffFailed(str(err) or "timed out") from err
        if count:
            click.echo(text, nl=False)
            raise SystemExit(1)
        return
    if local is not None:
        raise DiffFailed("--local needs an API server (tether login), not --core")
    target = common.target_of(kubeconfig, namespace, control_plane_namespace)

    async def work() -> tuple[str, int]:
        async with common.connect(target) as rt:
            obj = await apps.get(rt.cluster, namespace, name)
            application = parse_application(obj)
            project = await apps.project_of(rt.cluster, application, control_plane_namespace)
            if project is None:
                raise TetherError(
                    f"application {application.qualified_name} references project "
                    f"{application.spec.project!r}, which does not exist"
                )
            if revision:
                application = apps.with_revision(application, revision)
            # As the controller does: argocd-cm's health checks, ignore rules and exclusions.
            await rt.config.load()
            await rt.live_start()
            await rt.live.wait_synced(CACHE_SYNC_TIMEOUT_S)
            # As the controller does: private repositories' credentials, and the app's own
            # cluster when its destination is another one.
            for problem in await rt.reload_credentials():
                click.echo(f"warning: {problem}", err=True)
            destination = await rt.destinations.for_app(application)
            comparison = await destination.comparer.compare(application, project, hard=hard_refresh)
            if not comparison.desired_known:
                raise TetherError(comparison.failure)
            for kind, message in comparison.errors:
                click.echo(f"warning: {kind}: {message}", err=True)
            return output.diff_report(comparison.resources)

    try:
        text, count = common.run(target, work())
    except (TetherError, TimeoutError) as err:
        raise DiffFailed(str(err) or "timed out reading the cluster") from err
    if count:
        click.echo(text, nl=False)
        raise SystemExit(1)


for _command in (
    *app_ops.COMMANDS,
    *app_edit.COMMANDS,
    *app_resources.COMMANDS,
    *app_actions.COMMANDS,
):
    app.add_command(_command)
