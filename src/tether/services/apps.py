"""What users ask of Applications, done as Argo CD's API server does: sync, rollback, terminate.

Also refresh, delete and following an Application's changes. The controller does the work; these
only write the request into the Application (optimistically locked) and record an Event.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import AsyncGenerator, Mapping, Sequence
from typing import Any

from tether import ports
from tether.core.app import policy, refresh as refresh_rules, syncwindows
from tether.model import application, timestamps
from tether.model.app_spec import Info, RetryStrategy
from tether.model.application import ROLLBACK_HOLD, Application, parse_application
from tether.model.errors import GoneError, InvalidInputError, TetherError
from tether.model.operation import (
    Operation,
    OperationInitiator,
    SyncOperation,
    SyncStrategy,
    SyncStrategyApply,
)
from tether.model.project import AppProject, parse_project
from tether.model.resources import metadata_of
from tether.model.status import OperationPhase
from tether.services import appstatus
from tether.services.appwriter import AppNotFoundError, AppWriter
from tether.services.events import EventRecorder

FINALIZER_FOR_PROPAGATION: dict[str, str] = {
    # `argocd app delete --cascade --propagation-policy X` adds the finalizer asking for X; the
    # controller then deletes the resources before the Application goes.
    "foreground": "resources-finalizer.argocd.argoproj.io",
    "background": "resources-finalizer.argocd.argoproj.io/background",
}

AUTO_SYNC_DISABLED = "AutoSyncDisabled"
"""The condition a rollback leaves when it turned automated sync off (Argo CD refuses instead)."""

REFRESH_LEVELS = ("normal", "hard")


class RefusedError(TetherError):
    """The request conflicts with the Application's state (an operation runs, no such entry)."""


@dataclasses.dataclass(frozen=True)
class Requested:
    """A request written into an Application."""

    app: dict[str, Any]
    """The Application as stored after the write."""

    disabled_auto_sync: bool = False
    """A rollback turned automated sync off."""


async def get(cluster: ports.Cluster, namespace: str, name: str) -> dict[str, Any]:
    """The Application as stored.

    Raises:
        AppNotFoundError: There is no such Application in ``namespace``.
    """
    obj = await cluster.get(application.API_VERSION, application.KIND, name, namespace)
    if obj is None:
        raise AppNotFoundError(f"application {name!r} not found in namespace {namespace!r}")
    return obj


async def list_apps(cluster: ports.Cluster, namespace: str = "") -> list[dict[str, Any]]:
    """Every Application in ``namespace`` (all namespaces when empty), by namespace and name."""
    items, _ = await cluster.list(application.API_VERSION, application.KIND, namespace)
    return sorted(items, key=lambda o: (metadata_of(o).get("namespace", ""), _name(o)))


async def project_of(
    cluster: ports.Cluster, app: Application, control_plane_namespace: str
) -> AppProject | None:
    """The app's AppProject: its namespace first, then the control plane's, then the default."""
    name = app.spec.project or "default"
    for namespace in dict.fromkeys((app.namespace, control_plane_namespace)):
        obj = await cluster.get(application.API_VERSION, "AppProject", name, namespace)
        if obj is not None:
            return parse_project(obj)
    return policy.project_or_default(name, None, control_plane_namespace)


@dataclasses.dataclass(frozen=True)
class Windows:
    """What an app's sync windows say at one time, for an automated and for a manual sync."""

    automated: syncwindows.Verdict
    manual: syncwindows.Verdict


async def windows_now(
    cluster: ports.Cluster,
    obj: Mapping[str, Any],
    control_plane_namespace: str,
    now: datetime.datetime,
) -> Windows | None:
    """The app's sync windows at ``now``; ``None`` when the app or its project cannot be read."""
    try:
        app = parse_application(obj)
        project = await project_of(cluster, app, control_plane_namespace)
    except InvalidInputError:
        return None
    if project is None:
        return None
    return Windows(
        syncwindows.check(project, app, now=now, manual=False),
        syncwindows.check(project, app, now=now, manual=True),
    )


def with_revision(app: Application, revision: str) -> Application:
    """The app as if its (single or every) source targeted ``revision``."""
    spec = app.spec
    if spec.sources:
        sources = [s.model_copy(update={"target_revision": revision}) for s in spec.sources]
        spec = spec.model_copy(update={"sources": sources})
    elif spec.source is not None:
        source = spec.source.model_copy(update={"target_revision": revision})
        spec = spec.model_copy(update={"source": source})
    return app.model_copy(update={"spec": spec})


async def request_sync(
    cluster: ports.Cluster,
    namespace: str,
    name: str,
    sync: SyncOperation,
    *,
    username: str,
    field_manager: str,
    control_plane_namespace: str,
    now: datetime.datetime,
    info: Sequence[Info] = (),
    retry: RetryStrategy | None = None,
) -> Requested:
    """Ask the controller to sync: set ``operation`` and clear the last ``operationState``.

    ``info`` and ``retry`` become the operation's (shown to users; how failed syncs retry).

    Raises:
        AppNotFoundError: No such Application.
        RefusedError: An operation is already running, auto-sync pins another revision, or
            the project's sync windows refuse a manual sync now.
    """
    operation = Operation(
        sync=sync,
        initiated_by=OperationInitiator(username=username),
        info=list(info) or None,
        retry=retry,
    )
    windows = await _windows_of(cluster, namespace, name, control_plane_namespace)

    def change(obj: dict[str, Any], app: Application) -> dict[str, Any]:
        _refuse_if_running(app)
        _refuse_if_windows_refuse(app, windows, now)
        target = _target_revision(app)
        if app.spec.is_automated and sync.revision and sync.revision != target:
            raise RefusedError(
                f"cannot sync {app.qualified_name} to {sync.revision}: auto-sync is on and "
                f"targets {target or 'HEAD'}"
            )
        updated = _with_operation(obj, operation)
        # Syncing forward ends a rollback's hold: an app of apps may turn automated sync on.
        updated["metadata"] = _annotated(updated, ROLLBACK_HOLD, None)
        return updated

    stored, app = await AppWriter(cluster, field_manager).update(namespace, name, change)
    await EventRecorder(cluster, field_manager).record(
        app, "OperationStarted", f"Initiated sync by {username}"
    )
    return Requested(stored)


async def rollback(
    cluster: ports.Cluster,
    namespace: str,
    name: str,
    history_id: int,
    *,
    prune: bool,
    dry_run: bool = False,
    username: str,
    field_manager: str,
    control_plane_namespace: str,
    now: datetime.datetime,
) -> Requested:
    """Sync the revision and source of history entry ``history_id`` with the apply strategy.

    Unlike Argo CD, which refuses while auto-sync is on, this turns automated sync off in the
    same write (else the controller would sync forward again at once) and says so with an
    ``AutoSyncDisabled`` condition and a Warning Event. A rollback is a manual sync: refused
    when the sync windows refuse one (Argo CD writes it and holds it).

    Raises:
        AppNotFoundError: No such Application.
        RefusedError: No such history entry, an operation is running, or the sync windows
            refuse a manual sync now.
    """
    disabled: list[str] = []
    windows = await _windows_of(cluster, namespace, name, control_plane_namespace)

    def change(obj: dict[str, Any], app: Application) -> dict[str, Any]:
        _refuse_if_running(app)
        _refuse_if_windows_refuse(app, windows, now)
        history = (app.status.history if app.status else None) or []
        entry = next((h for h in history if h.id == history_id), None)
        if entry is None:
            known = ", ".join(str(h.id) for h in history) or "none"
            raise RefusedError(
                f"application {app.qualified_name} has no history entry {history_id} "
                f"(known: {known})"
            )
        fields: dict[str, Any] = {
            "revision": entry.revision,
            "revisions": entry.revisions,
            "source": entry.source,
            "sources": entry.sources,
            "prune": prune,
            "dry_run": dry_run or None,
            "sync_strategy": SyncStrategy(apply=SyncStrategyApply()),
        }
        sync = SyncOperation(**{k: v for k, v in fields.items() if v is not None})
        operation = Operation(sync=sync, initiated_by=OperationInitiator(username=username))
        updated = _with_operation(obj, operation)
        disabled.clear()
        if app.spec.is_automated and not dry_run:
            revision = ", ".join(entry.all_revisions()) or "?"
            message = (
                f"automated sync disabled by {username}'s rollback to history {history_id} "
                f"({revision[:12]}); an app of apps deploying it keeps it off until "
                f"`tether app sync {app.name}`; set spec.syncPolicy.automated again to resume it"
            )
            disabled.append(message)
            policy = dict(updated["spec"].get("syncPolicy") or {})
            policy.pop("automated", None)
            updated["spec"] = {**updated["spec"], "syncPolicy": policy}
            updated["metadata"] = _annotated(updated, ROLLBACK_HOLD, str(history_id))
            conditions = appstatus.condition_patch(app, AUTO_SYNC_DISABLED, message, now)
            updated["status"] = {**(updated.get("status") or {}), **conditions["status"]}
        return updated

    stored, app = await AppWriter(cluster, field_manager).update(namespace, name, change)
    events = EventRecorder(cluster, field_manager)
    await events.record(app, "OperationStarted", f"Initiated rollback to {history_id}")
    for message in disabled:
        await events.record(app, AUTO_SYNC_DISABLED, message, warning=True)
    return Requested(stored, disabled_auto_sync=bool(disabled))


async def terminate(
    cluster: ports.Cluster, namespace: str, name: str, *, field_manager: str
) -> Requested:
    """Ask the controller to stop the running operation (``operationState.phase: Terminating``).

    Raises:
        AppNotFoundError: No such Application.
        RefusedError: No operation is in progress.
    """

    def change(obj: dict[str, Any], app: Application) -> dict[str, Any]:
        state = app.status.operation_state if app.status else None
        if app.operation is None or state is None or state.phase != OperationPhase.RUNNING.value:
            raise RefusedError(
                f"unable to terminate the operation of {app.qualified_name}: none is in progress"
            )
        status = dict(obj.get("status") or {})
        status["operationState"] = {
            **status["operationState"],
            "phase": OperationPhase.TERMINATING.value,
        }
        return {**obj, "status": status}

    stored, _ = await AppWriter(cluster, field_manager).update(namespace, name, change)
    return Requested(stored)


async def refresh(
    cluster: ports.Cluster, namespace: str, name: str, *, hard: bool, field_manager: str
) -> Requested:
    """Ask for a refresh (the annotation the controller removes once it has compared)."""
    await get(cluster, namespace, name)
    level = "hard" if hard else "normal"
    stored = await AppWriter(cluster, field_manager).patch(
        namespace, name, {"metadata": {"annotations": {refresh_rules.REFRESH_ANNOTATION: level}}}
    )
    return Requested(stored)


async def confirm_deletion(
    cluster: ports.Cluster,
    namespace: str,
    name: str,
    *,
    now: datetime.datetime,
    field_manager: str,
) -> Requested:
    """Approve the app's pending ``Prune=confirm`` prunes and ``Delete=confirm`` deletions.

    Argo CD's way: the Application's ``deletion-approved`` annotation set to the time now; the
    controller honours an approval given after the operation, or the deletion, began.
    """
    await get(cluster, namespace, name)
    stamp = timestamps.format_time(now)
    stored = await AppWriter(cluster, field_manager).patch(
        namespace, name, {"metadata": {"annotations": {application.DELETION_APPROVED: stamp}}}
    )
    return Requested(stored)


def refresh_pending(obj: Mapping[str, Any]) -> bool:
    """Whether a requested refresh has not been honoured yet."""
    annotations = metadata_of(obj).get("annotations") or {}
    return refresh_rules.REFRESH_ANNOTATION in annotations


async def delete(
    cluster: ports.Cluster,
    namespace: str,
    name: str,
    *,
    cascade: bool,
    propagation: str = "foreground",
    field_manager: str,
) -> None:
    """Delete an Application; with ``cascade`` its resources go too (the controller deletes them).

    Raises:
        AppNotFoundError: No such Application.
        InvalidInputError: ``propagation`` is neither foreground nor background.
    """
    if propagation not in FINALIZER_FOR_PROPAGATION:
        raise InvalidInputError(f"propagation policy {propagation!r}: use foreground or background")
    wanted = FINALIZER_FOR_PROPAGATION[propagation]

    def change(obj: dict[str, Any], _app: Application) -> dict[str, Any] | None:
        meta = dict(metadata_of(obj))
        present = list(meta.get("finalizers") or [])
        kept = [f for f in present if f not in application.CASCADE_FINALIZERS]
        finalizers = [*kept, wanted] if cascade else kept
        if finalizers == present:
            return None
        meta["finalizers"] = finalizers
        return {**obj, "metadata": meta}

    await AppWriter(cluster, field_manager).update(namespace, name, change)
    # Background for the Application itself: foreground would add Kubernetes' own finalizer,
    # which only the garbage collector removes.
    await cluster.delete(
        application.API_VERSION, application.KIND, name, namespace, propagation="Background"
    )


async def follow(
    cluster: ports.Cluster, namespace: str, name: str
) -> AsyncGenerator[dict[str, Any] | None, None]:
    """Yield the Application now and after every change; ``None`` while it does not exist.

    Lists, then watches from the list's resourceVersion, and lists again when a watch ends.
    """
    while True:
        items, version = await cluster.list(application.API_VERSION, application.KIND, namespace)
        yield next((o for o in items if _name(o) == name), None)
        try:
            async for kind, obj in cluster.watch(
                application.API_VERSION, application.KIND, namespace, resource_version=version
            ):
                if kind in ("ADDED", "MODIFIED", "DELETED") and _name(obj) == name:
                    yield None if kind == "DELETED" else obj
        except GoneError:
            pass  # the resourceVersion is too old: list again


# ---- helpers ------------------------------------------------------------------------------------


def _name(obj: Mapping[str, Any]) -> str:
    return str(metadata_of(obj).get("name", ""))


def _target_revision(app: Application) -> str:
    sources = app.effective_sources()
    return (sources[0].target_revision or "") if sources else ""


def _refuse_if_running(app: Application) -> None:
    if app.operation is not None:
        raise RefusedError(
            f"another operation is already in progress on {app.qualified_name} "
            "(wait for it, or stop it with `tether app terminate-op`)"
        )


async def _windows_of(
    cluster: ports.Cluster, namespace: str, name: str, control_plane_namespace: str
) -> AppProject | None:
    """The project whose sync windows decide a sync of the app (read before the app's update)."""
    app = parse_application(await get(cluster, namespace, name))
    return await project_of(cluster, app, control_plane_namespace)


def _refuse_if_windows_refuse(
    app: Application, project: AppProject | None, now: datetime.datetime
) -> None:
    # Argo CD's API server refuses here too; the controller would only hold the operation.
    if project is None:
        return  # the controller refuses the app itself: its project does not exist
    verdict = syncwindows.check(project, app, now=now, manual=True)
    if not verdict.allowed:
        raise RefusedError(
            f"cannot sync {app.qualified_name}: blocked by sync window: "
            f"{verdict.reason(times=True)}"
        )


def _annotated(obj: Mapping[str, Any], key: str, value: str | None) -> dict[str, Any]:
    """``obj``'s metadata with annotation ``key`` set to ``value`` (removed for ``None``)."""
    metadata = dict(obj.get("metadata") or {})
    annotations = {k: v for k, v in (metadata.get("annotations") or {}).items() if k != key}
    if value is not None:
        annotations[key] = value
    metadata["annotations"] = annotations or None
    return metadata


def _with_operation(obj: Mapping[str, Any], operation: Operation) -> dict[str, Any]:
    status = dict(obj.get("status") or {})
    status.pop("operationState", None)
    return {**obj, "operation": operation.to_manifest(), "status": status}
