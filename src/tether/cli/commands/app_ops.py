"""``tether app sync|wait|rollback|terminate-op|refresh|delete``: requests to the controller.

Each writes its request into the Application (``tether.services.apps``) and, unless asked not to,
follows the Application as the controller works, showing per-resource progress.
"""

from __future__ import annotations

from typing import Any

import click

from tether.cli import output
from tether.cli.commands import (
    app_common as common,
    app_remote as remote,
    app_remote_ops as remote_ops,
    app_remote_views as views,
    app_wait as waiting,
    connection,
)
from tether.model.operation import (
    SyncOperation,
    SyncStrategy,
    SyncStrategyApply,
    SyncStrategyHook,
)
from tether.services import apps


def strategy_of(strategy: str | None, force: bool) -> SyncStrategy | None:
    """The sync strategy of ``--strategy``/``--force`` (none: the Application's default, hook)."""
    if strategy == "apply":
        return SyncStrategy(apply=SyncStrategyApply(force=True) if force else SyncStrategyApply())
    if strategy == "hook" or force:
        return SyncStrategy(hook=SyncStrategyHook(force=True) if force else SyncStrategyHook())
    return None


def sync_operation(
    revision: str | None,
    prune: bool,
    dry_run: bool,
    resources: tuple[str, ...],
    sync_options: tuple[str, ...],
    strategy: str | None,
    force: bool,
) -> SyncOperation:
    """The ``operation.sync`` of ``tether app sync``'s options (only what was given is set)."""
    fields: dict[str, Any] = {}
    if revision:
        fields["revision"] = revision
    if prune:
        fields["prune"] = True
    if dry_run:
        fields["dry_run"] = True
    if resources:
        fields["resources"] = [common.parse_resource(r) for r in resources]
    if sync_options:
        fields["sync_options"] = list(sync_options)
    chosen = strategy_of(strategy, force)
    if chosen is not None:
        fields["sync_strategy"] = chosen
    return SyncOperation(**fields)


timeout_option = click.option(
    "--timeout", type=float, default=0.0, show_default=True, help="Seconds to wait (0: no limit)."
)


@click.command()
@common.target_options
@click.argument("names", metavar="[NAME]...", nargs=-1)
@click.option("-l", "--selector", default="", help="Sync every app with these labels.")
@click.option("--revision", help="Sync this revision instead of the target revision.")
@click.option("--prune", is_flag=True, help="Delete resources that are no longer in Git.")
@click.option(
    "--dry-run", is_flag=True, help="Let the API server check everything; change nothing."
)
@click.option(
    "--resource",
    "resources",
    multiple=True,
    metavar="GROUP:KIND:[NAMESPACE/]NAME",
    help="Sync only this resource (repeatable); no hooks run.",
)
@click.option("--sync-option", "sync_options", multiple=True, help="e.g. CreateNamespace=true.")
@click.option(
    "--force", is_flag=True, help="Delete and re-create resources that cannot be applied."
)
@click.option("--strategy", type=click.Choice(["apply", "hook"]), help="[default: hook]")
@click.option("--async", "no_wait", is_flag=True, help="Request the sync and return at once.")
@timeout_option
def sync(
    kubeconfig: str | None,
    namespace: str,
    control_plane_namespace: str,
    names: tuple[str, ...],
    selector: str,
    revision: str | None,
    prune: bool,
    dry_run: bool,
    resources: tuple[str, ...],
    sync_options: tuple[str, ...],
    force: bool,
    strategy: str | None,
    no_wait: bool,
    timeout: float,
) -> None:
    """Sync Applications (named, or matching -l) and show their progress.

    Exit 0 when every sync succeeded, else 1.
    """
    operation = sync_operation(revision, prune, dry_run, resources, sync_options, strategy, force)
    api = connection.client()
    if api is not None:
        given = common.given_namespace(namespace)
        with api:
            chosen = remote.names_of(api, names, selector, given)
            remote_ops.sync(api, chosen, given, operation, no_wait=no_wait, timeout=timeout)
        return
    target = common.target_of(kubeconfig, namespace, control_plane_namespace)
    if bool(names) == bool(selector):
        raise click.UsageError("name the applications or give a selector (-l), not both")

    async def work(name: str) -> dict[str, Any] | None:
        async with common.connect(target) as rt:
            await apps.request_sync(
                rt.cluster,
                namespace,
                name,
                operation,
                username=common.username(),
                field_manager=rt.settings.field_manager,
                control_plane_namespace=control_plane_namespace,
                now=rt.clock(),
            )
            if no_wait:
                return None
            return await waiting.follow_operation(rt, target, name, timeout)

    failed = False
    for name in names or _selected(target, selector):
        done = waiting.run_or_time_out(target, work(name))
        if done is None:
            click.echo(f"sync of {namespace}/{name} requested")
            continue
        click.echo("")
        click.echo(output.operation_summary(done))
        failed = failed or not waiting.succeeded(done)
    if failed:
        raise SystemExit(1)


def _selected(target: common.Target, selector: str) -> list[str]:
    """The names of the target namespace's apps that match ``selector``."""
    matches = common.label_matcher(selector)

    async def work() -> list[dict[str, Any]]:
        async with common.connect(target) as rt:
            return await apps.list_apps(rt.cluster, target.namespace)

    chosen = [str(o["metadata"]["name"]) for o in common.run(target, work()) if matches(o)]
    if not chosen:
        raise click.ClickException(f"no application matches the selector {selector!r}")
    return chosen


@click.command()
@common.target_options
@click.argument("name")
@click.option("--sync", "want_sync", is_flag=True, help="Until Synced.")
@click.option("--health", "want_health", is_flag=True, help="Until Healthy.")
@click.option("--operation", "want_operation", is_flag=True, help="Until no operation runs.")
@timeout_option
def wait(
    kubeconfig: str | None,
    namespace: str,
    control_plane_namespace: str,
    name: str,
    want_sync: bool,
    want_health: bool,
    want_operation: bool,
    timeout: float,
) -> None:
    """Wait until an Application is synced, healthy and idle (all three unless some are named)."""
    every = not (want_sync or want_health or want_operation)
    awaited = waiting.Awaited(
        sync=want_sync or every, health=want_health or every, operation=want_operation or every
    )
    api = connection.client()
    if api is not None:
        with api:
            remote_ops.wait(api, name, common.given_namespace(namespace), awaited, timeout)
        return
    target = common.target_of(kubeconfig, namespace, control_plane_namespace)

    async def work() -> dict[str, Any] | None:
        async with common.connect(target) as rt:
            await apps.get(rt.cluster, namespace, name)
            progress = waiting.progress()
            try:
                return await waiting.follow_until(
                    rt, namespace, name, awaited, timeout, progress.update
                )
            finally:
                progress.close()

    done = waiting.run_or_time_out(target, work())
    assert done is not None
    click.echo("")
    click.echo(output.summary(done))


@click.command()
@common.target_options
@click.argument("name")
@click.argument("history_id", metavar="ID", type=int)
@click.option("--prune", is_flag=True, help="Delete resources the old revision does not have.")
@click.option("--dry-run", is_flag=True, help="Check only; change nothing.")
@click.option("--async", "no_wait", is_flag=True, help="Request the rollback and return at once.")
@timeout_option
def rollback(
    kubeconfig: str | None,
    namespace: str,
    control_plane_namespace: str,
    name: str,
    history_id: int,
    prune: bool,
    dry_run: bool,
    no_wait: bool,
    timeout: float,
) -> None:
    """Sync the revision of history entry ID again; turns automated sync off if it is on."""
    api = connection.client()
    if api is not None:
        with api:
            remote_ops.rollback(
                api,
                name,
                common.given_namespace(namespace),
                history_id,
                prune=prune,
                dry_run=dry_run,
                no_wait=no_wait,
                timeout=timeout,
            )
        return
    target = common.target_of(kubeconfig, namespace, control_plane_namespace)

    async def work() -> tuple[apps.Requested, dict[str, Any] | None]:
        async with common.connect(target) as rt:
            requested = await apps.rollback(
                rt.cluster,
                namespace,
                name,
                history_id,
                prune=prune,
                dry_run=dry_run,
                username=common.username(),
                field_manager=rt.settings.field_manager,
                control_plane_namespace=control_plane_namespace,
                now=rt.clock(),
            )
            if requested.disabled_auto_sync:
                click.echo(
                    f"warning: automated sync of {namespace}/{name} is now off, so the rollback "
                    "stays (see the AutoSyncDisabled condition)",
                    err=True,
                )
            if no_wait:
                return requested, None
            return requested, await waiting.follow_operation(rt, target, name, timeout)

    _, done = waiting.run_or_time_out(target, work())
    if done is None:
        click.echo(f"rollback of {namespace}/{name} to {history_id} requested")
        return
    waiting.report(done)


@click.command("terminate-op")
@common.target_options
@click.argument("name")
def terminate_op(
    kubeconfig: str | None, namespace: str, control_plane_namespace: str, name: str
) -> None:
    """Stop the running operation of an Application."""
    api = connection.client()
    if api is not None:
        with api:
            remote_ops.terminate(api, name, common.given_namespace(namespace))
        return
    target = common.target_of(kubeconfig, namespace, control_plane_namespace)

    async def work() -> None:
        async with common.connect(target) as rt:
            await apps.terminate(
                rt.cluster, namespace, name, field_manager=rt.settings.field_manager
            )

    common.run(target, work())
    click.echo(f"operation of {namespace}/{name} terminating")


@click.command()
@common.target_options
@click.argument("name")
@click.option("--hard", is_flag=True, help="Also re-render, bypassing the render cache.")
@click.option(
    "--wait/--no-wait",
    default=True,
    show_default=True,
    help="Wait until the controller has compared again.",
)
@click.option("--timeout", type=float, default=120.0, show_default=True)
def refresh(
    kubeconfig: str | None,
    namespace: str,
    control_plane_namespace: str,
    name: str,
    hard: bool,
    wait: bool,
    timeout: float,
) -> None:
    """Ask the controller to compare an Application with Git again now."""
    api = connection.client()
    if api is not None:
        given = common.given_namespace(namespace)
        level = "hard" if hard else "normal"
        with api:
            if wait:
                click.echo(output.summary(views.refreshed(api, name, given, level, timeout)))
                return
            obj = remote.get_app(api, name, given, refresh=level)
        click.echo(f"{'hard ' if hard else ''}refresh of {output.qualified(obj)} requested")
        return
    target = common.target_of(kubeconfig, namespace, control_plane_namespace)

    async def work() -> dict[str, Any]:
        async with common.connect(target) as rt:
            if wait:
                return await waiting.refreshed(rt, target, name, hard=hard, timeout=timeout)
            requested = await apps.refresh(
                rt.cluster, namespace, name, hard=hard, field_manager=rt.settings.field_manager
            )
            return requested.app

    obj = common.run(target, work())
    if not wait:
        click.echo(f"{'hard ' if hard else ''}refresh of {namespace}/{name} requested")
        return
    click.echo(output.summary(obj))


@click.command()
@common.target_options
@click.argument("name")
@click.option(
    "--cascade/--no-cascade",
    default=True,
    show_default=True,
    help="Delete the Application's resources too.",
)
@click.option(
    "--propagation-policy",
    type=click.Choice(["foreground", "background"]),
    default="foreground",
    show_default=True,
)
@click.option("--wait", "wait_gone", is_flag=True, help="Wait until the Application is gone.")
@timeout_option
def delete(
    kubeconfig: str | None,
    namespace: str,
    control_plane_namespace: str,
    name: str,
    cascade: bool,
    propagation_policy: str,
    wait_gone: bool,
    timeout: float,
) -> None:
    """Delete an Application; with --cascade (the default) the controller deletes its resources."""
    api = connection.client()
    if api is not None:
        with api:
            remote_ops.delete(
                api,
                name,
                common.given_namespace(namespace),
                cascade=cascade,
                propagation=propagation_policy,
                wait_gone=wait_gone,
                timeout=timeout,
            )
        return
    target = common.target_of(kubeconfig, namespace, control_plane_namespace)

    async def work() -> None:
        async with common.connect(target) as rt:
            await apps.delete(
                rt.cluster,
                namespace,
                name,
                cascade=cascade,
                propagation=propagation_policy,
                field_manager=rt.settings.field_manager,
            )
            if wait_gone:
                await waiting.follow_until(
                    rt, namespace, name, waiting.Awaited(deleted=True), timeout
                )

    common.run(target, work())
    click.echo(f"application {namespace}/{name} {'deleted' if wait_gone else 'deletion requested'}")


@click.command("confirm-deletion")
@common.target_options
@click.argument("name")
def confirm_deletion(
    kubeconfig: str | None, namespace: str, control_plane_namespace: str, name: str
) -> None:
    """Approve an Application's pending Prune=confirm prunes and Delete=confirm deletions.

    Core mode only: Argo CD's API has no call for it.
    """
    if connection.remote() is not None:
        raise click.UsageError("confirm-deletion talks to Kubernetes: add --core")
    target = common.target_of(kubeconfig, namespace, control_plane_namespace)

    async def work() -> None:
        async with common.connect(target) as rt:
            await apps.confirm_deletion(
                rt.cluster, namespace, name, now=rt.clock(), field_manager=rt.settings.field_manager
            )

    common.run(target, work())
    click.echo(f"pending prunes and deletions of {namespace}/{name} approved")


COMMANDS = (sync, wait, rollback, terminate_op, refresh, delete, confirm_deletion)
