"""``tether preview --base REF --head REF``: what a Git change does to every app it affects."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import pathlib
import sys

import click

from tether import bootstrap
from tether.cli import output as shown
from tether.cli.commands import app_common as common
from tether.core import redact
from tether.core.preview import report
from tether.core.preview.changes import AppPreview, Outcome, Preview
from tether.model.application import Application
from tether.model.errors import TetherError
from tether.services import apps
from tether.services.preview import Previewer
from tether.settings import Settings

CACHE_SYNC_TIMEOUT_S = 120.0
"""The first list of every type before comparing with the cluster (as ``tether app diff``)."""

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
@click.option(
    "--base",
    required=True,
    help="The commit before the change: HEAD, a branch, a tag, origin/main or a SHA "
    "(for HEAD~1, pass $(git rev-parse HEAD~1)).",
)
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
@click.option(
    "--cluster",
    is_flag=True,
    help="Also compare each rendered app's head render with the live cluster, server-side, "
    "as `tether app diff` does (needs a kubeconfig).",
)
@click.option(
    "--kubeconfig",
    envvar="KUBECONFIG",
    default=None,
    help="With --cluster: the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config).",
)
@click.option(
    "--control-plane-namespace",
    default=common.DEFAULT_NAMESPACE,
    show_default=True,
    help="With --cluster: the controller's first namespace (how objects are tracked).",
)
@click.argument("app_files", nargs=-1)
def preview(
    base: str,
    head: str,
    repo_root: pathlib.Path,
    output: str,
    cluster: bool,
    kubeconfig: str | None,
    control_plane_namespace: str,
    app_files: tuple[str, ...],
) -> None:
    """Show what the change BASE..HEAD does to the rendered objects of every app it affects.

    Applications come from APP_FILES (YAML files or folders, read at each commit), by default
    every Application manifest in the repository at head; an app whose render holds
    Applications (an app of apps) adds them too. Each affected app is rendered at both
    commits with the controller's renderer; Secret values are masked. No cluster is needed.

    Exit codes: 0 when every affected app rendered at head (changed or not); 1 when at least
    one app failed to render at head (the others are still reported); 2 when the preview
    could not run (an unknown ref, not a Git checkout, an unreachable cluster).
    """
    root = repo_root.resolve()
    files = [_relative(path, root) for path in app_files]
    service = bootstrap.previewer(Settings(), os.fspath(root))

    async def work() -> Preview:
        result = await service.preview(base, head, files)
        if not cluster:
            return result
        target = common.target_of(kubeconfig, control_plane_namespace, control_plane_namespace)
        return await _against_cluster(service, result, target)

    result = asyncio.run(work())
    if output == "json":
        click.echo(json.dumps(report.as_json(result), indent=2))
    elif output == "markdown":
        click.echo(report.markdown(result), nl=False)
    else:
        click.echo(report.text(result, _style), nl=False)
    if result.failed:
        sys.exit(1)


async def _against_cluster(service: Previewer, result: Preview, target: common.Target) -> Preview:
    """Each rendered app's head render compared with the live cluster, as ``app diff`` does."""
    rt = await bootstrap.runtime(
        target.settings,
        kubeconfig=target.kubeconfig,
        start_cache=False,
        manifests_from=service.pinned(result.head),
    )
    try:
        # As the controller compares: argocd-cm's ignore rules and exclusions, a synced cache.
        await rt.config.load()
        await rt.live_start()
        await rt.live.wait_synced(CACHE_SYNC_TIMEOUT_S)
        compared = []
        for app in result.apps:
            application = service.head_apps.get(app.app)
            if application is not None and app.outcome in (Outcome.CHANGED, Outcome.UNCHANGED):
                app = await _compare(rt, application, app, target.control_plane_namespace)
            compared.append(app)
    finally:
        await rt.close()
    return dataclasses.replace(result, apps=tuple(compared))


async def _compare(
    rt: bootstrap.Runtime, application: Application, app: AppPreview, control_plane: str
) -> AppPreview:
    try:
        project = await apps.project_of(rt.cluster, application, control_plane)
        if project is None:
            raise TetherError(f"project {application.spec.project!r} does not exist")
        destination = await rt.destinations.for_app(application)
        comparison = await destination.comparer.compare(application, project)
        if not comparison.desired_known:
            raise TetherError(comparison.failure)
    except (TetherError, TimeoutError) as err:
        return dataclasses.replace(app, cluster_error=redact.text(str(err)) or "timed out")
    text, _count = shown.diff_report(comparison.resources)
    return dataclasses.replace(app, cluster=text)
