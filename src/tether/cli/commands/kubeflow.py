"""``tether kubeflow init`` points the Kubeflow distribution at a fork; ``bootstrap`` applies it."""

from __future__ import annotations

import asyncio
import pathlib

import click

from tether import bootstrap
from tether.cli import shell
from tether.core.sources import distribution
from tether.services import kubeflow as use_case
from tether.settings import Settings

DEFAULT_DIR = pathlib.Path("distributions/kubeflow")


@click.group("kubeflow")
def kubeflow() -> None:
    """Deploy Kubeflow from a fork of kubeflow/manifests with one root Application."""


@kubeflow.command()
@click.option(
    "--repo", required=True, help="The Git repository holding the distribution (your fork)."
)
@click.option(
    "--revision", default="HEAD", show_default=True, help="Branch, tag or commit of --repo."
)
@click.option(
    "--manifests-repo",
    help="The repository with kubeflow/manifests' paths the children render. [default: --repo]",
)
@click.option(
    "--manifests-revision",
    help="Its revision. [default: --revision when --manifests-repo is not given, otherwise "
    "each child keeps its own targetRevision]",
)
@click.option(
    "--components",
    help="Comma-separated components (sub-folders of apps/) or Application names to keep; "
    "the others are excluded by the root. 'all' enables everything. [default: unchanged]",
)
@click.option(
    "--app-namespace",
    help="Move the Applications and the AppProject to this namespace (Argo CD: argocd). "
    "[default: unchanged, tether]",
)
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=pathlib.Path),
    default=DEFAULT_DIR,
    show_default=True,
    help="The distribution folder (root.yaml and apps/).",
)
@click.option(
    "--manifests-dir",
    type=click.Path(file_okay=False, exists=True, path_type=pathlib.Path),
    default=pathlib.Path("."),
    show_default="the current directory",
    help="The fork's working tree the render check renders from.",
)
@click.option(
    "--check/--no-check", default=True, show_default=True, help="Render-check afterwards."
)
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
def init(
    repo: str,
    revision: str,
    manifests_repo: str | None,
    manifests_revision: str | None,
    components: str | None,
    app_namespace: str | None,
    directory: pathlib.Path,
    manifests_dir: pathlib.Path,
    check: bool,
    dry_run: bool,
) -> None:
    """Point every Application of the distribution at your fork, then check each one renders.

    Rewrites repoURL and targetRevision structurally, keeping comments and formatting; sources
    that point elsewhere (Helm chart repositories) stay as they are. Running it twice with the
    same options changes nothing the second time.
    """
    if manifests_revision is None and manifests_repo is None:
        manifests_revision = revision
    pointing = distribution.Pointing(
        repo=repo,
        revision=revision,
        manifests_repo=manifests_repo or repo,
        manifests_revision=manifests_revision,
        app_namespace=app_namespace,
    )
    wanted = None if components is None else [c for c in components.split(",") if c.strip()]
    result = use_case.init(directory, pointing, wanted, dry_run=dry_run)
    verb = "would change" if dry_run else "changed"
    for change in result.changed:
        click.echo(f"{verb} {directory / change.path}")
        for line in change.changes:
            click.echo(f"    {line}")
    if not result.changed:
        click.echo(f"{directory}: already points at {repo} ({revision}); nothing to change")
    enabled = len(result.children) - len(result.excluded)
    click.echo(f"{enabled} of {len(result.children)} child Applications enabled")
    for rel in result.excluded:
        click.echo(f"    excluded: {distribution.CHILDREN_DIR}/{rel}")
    failed = 0
    if check and not dry_run:
        checks = asyncio.run(
            use_case.check(directory, manifests_dir, bootstrap.manifest_service_for_directory)
        )
        failed = _report(checks)
    if failed:
        click.echo(f"\n{failed} Application(s) do not render; fix them before pushing.", err=True)
        raise SystemExit(1)
    if not dry_run:
        where = directory.resolve()  # a new shell may start elsewhere
        click.echo(
            "\nNext: commit and push, create the dex-passwords Secret (docs/kubeflow.md), then\n"
            f"    {shell.tether_command()} kubeflow bootstrap --dir {shell.path(where)}\n"
            f"or  kubectl apply --server-side -f {shell.path(where / use_case.ROOT_FILE)}"
        )


@kubeflow.command("bootstrap")
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=pathlib.Path),
    default=DEFAULT_DIR,
    show_default=True,
    help="The distribution folder (root.yaml and apps/).",
)
@click.option(
    "--kubeconfig",
    envvar="KUBECONFIG",
    default=None,
    help="Kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then the Pod's "
    "service account).",
)
def bootstrap_root(directory: pathlib.Path, kubeconfig: str | None) -> None:
    """Apply the root Application to the cluster: everything else follows from Git.

    Needs tether's CRDs (`tether install-crds`) and a controller (`tether run`) watching the
    root's namespace. Warns when Dex's password Secret has no hash yet.
    """
    path = directory / use_case.ROOT_FILE
    if not path.is_file():
        raise click.ClickException(f"{path} does not exist (see --dir)")
    text = path.read_text(encoding="utf-8")
    root = distribution.read_root(text)
    meta = distribution.applications_in(text, str(path))[0].get("metadata") or {}
    # The controller must watch the root's namespace; its first namespace names tracked objects.
    namespace = str(meta.get("namespace") or "tether")

    async def apply() -> use_case.Bootstrapped:
        settings = Settings(app_namespaces=(namespace,))
        async with await bootstrap.runtime(
            settings, kubeconfig=kubeconfig, start_cache=False
        ) as rt:
            problems = await rt.installer.problems()
            if problems:
                raise click.ClickException("; ".join(problems))
            return await use_case.apply_root(
                rt.cluster, directory, field_manager=settings.field_manager
            )

    done = asyncio.run(apply())
    for warning in done.warnings:
        click.echo(f"warning: {warning}", err=True)
    click.echo(f"application {done.application} applied ({root.repo} {root.revision})")
    click.echo(f"Watch it converge: {shell.tether_command()} app list -n {namespace}")


def _report(checks: list[use_case.RenderCheck]) -> int:
    click.echo("\nRender check (from the local working tree):")
    width = max((len(c.application) for c in checks), default=0)
    failed = 0
    for item in checks:
        if item.problem:
            failed += 1
            # Tool errors span lines: keep them under the Application they belong to.
            problem = item.problem.replace("\n", "\n" + " " * (width + 9))
            click.echo(f"  FAIL {item.application:<{width}}  {problem}")
        elif item.skipped:
            click.echo(f"  skip {item.application:<{width}}  {item.skipped}")
        else:
            click.echo(f"  ok   {item.application:<{width}}  {item.objects} objects")
    return failed
