"""Deleting Applications: carry out ``core.app.deletion``'s steps, report a stuck deletion.

With Argo CD's finalizers on the app: PreDelete hooks, the cascade of its resources, PostDelete
hooks, their cleanup (the order and the rules are the core's). The app's deletion-hook
finalizers are kept in step with its Git while it lives (:func:`keep_finalizers`),
and hooks a sync left holding the hook finalizer are released, also when the app is gone.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable, Sequence

from tether import ports
from tether.core.app import deletion, policy
from tether.core.diff import tracking
from tether.core.sync import actions as act, hooks
from tether.model import resources
from tether.model.application import Application
from tether.model.clusters import ClusterEntry
from tether.model.errors import ConflictError, InvalidInputError
from tether.model.project import AppProject
from tether.model.resources import Manifest, ResourceKey
from tether.model.status import HookPhase, ResultCode, SyncPhase
from tether.services import appstatus
from tether.services.appwriter import AppWriter
from tether.services.compare import Comparer
from tether.services.sync.writer import SyncWriter

log = logging.getLogger(__name__)

DELETION_ERROR = "DeletionError"


class Deleter:
    """Finishes the deletion of Applications; one per process."""

    def __init__(
        self,
        live: ports.LiveState,
        comparer: Comparer,
        writer: SyncWriter,
        apps: AppWriter,
        *,
        control_plane_namespace: str,
        clock: Callable[[], datetime.datetime],
    ) -> None:
        self._live = live
        self._comparer = comparer
        self._writer = writer
        self._apps = apps
        self._namespace = control_plane_namespace
        self._clock = clock

    async def finalize(
        self, app: Application, project: AppProject, *, destination: ClusterEntry
    ) -> float | None:
        """Take one step of deleting ``app``; seconds until the next step, ``None`` when done.

        ``destination`` is the cluster this deleter reaches, the app's; the Application itself
        is written in the control cluster.
        """
        try:
            # Argo CD deletes as the project's destination service account, as it syncs.
            user = policy.service_account(app, project, server=destination.server)
        except InvalidInputError as err:
            await self._report(app, str(err))
            return deletion.FAILED_HOOK_WAIT_S
        desired: Sequence[Manifest] | None = None
        unknown = ""
        if deletion.needs_desired(app):
            # As Argo CD does, the hooks come from Git as the spec says now: a hook fixed there
            # after it failed is the one that runs next.
            comparison = await self._comparer.compare(app, project)
            if comparison.desired_known:
                desired = comparison.desired
            else:
                unknown = comparison.failure
        live = self._managed(app)
        named = self._named(app, desired or ())
        verdicts = {key: self._comparer.health_of(obj) for key, obj in {**live, **named}.items()}
        step = deletion.advance(
            deletion.Observed(app, project, destination, live, verdicts, desired, unknown, named)
        )
        results = await self._writer.as_user(user).perform(step.actions, ())
        failures = [
            f"{r.key.kind}/{r.key.name}: {r.message}"
            for r in results
            if _failed(r.status, r.hook_phase)
        ]
        error = "; ".join(failures) if failures else step.error
        if step.note:
            (log.info if step.actions else log.debug)("%s: %s", app.qualified_name, step.note)
        if step.finalizers is not None and not failures:
            try:
                await self._apps.set_finalizers(app, step.finalizers)
            except ConflictError:
                return deletion.WAIT_S  # changed meanwhile: decide again on what it is now
            if not step.finalizers:
                return step.wait  # nothing holds the app any more: it may be gone already
        if error is not None:
            await self._report(app, error)
        return step.wait

    async def release_hooks(self, namespace: str, name: str) -> None:
        """Remove the hook finalizer from what a deleted app's syncs left holding it.

        An app deleted without finalizers is gone before any step could run: its running hooks
        would keep the finalizer forever, and their namespace could never be deleted. Released
        with the controller's own credentials: the app, and with it which project's service
        account it deployed as, is gone.
        """
        instance = tracking.app_instance(name, namespace, self._namespace)
        held = [
            act.RemoveHookFinalizer(key, SyncPhase.SYNC)
            for key in self._live.managed_by(instance)
            if (obj := self._live.manifest(key)) is not None and hooks.has_finalizer(obj)
        ]
        if held:
            log.info("%s/%s is gone: releasing %d hooks", namespace, name, len(held))
            await self._writer.perform(held, ())

    def _managed(self, app: Application) -> dict[ResourceKey, Manifest]:
        """The app's live objects, as the cache has them.

        Not as this process last wrote them: a deletion shows in the cache as an object being
        deleted, and only that proves a wave is going before the next one is deleted.
        """
        instance = app.app_instance_name(self._namespace)
        found = {key: self._live.manifest(key) for key in self._live.managed_by(instance)}
        return {key: obj for key, obj in found.items() if obj is not None}

    def _named(self, app: Application, desired: Sequence[Manifest]) -> dict[ResourceKey, Manifest]:
        """The deletion hooks under their names, as last written when the cache lags."""
        found: dict[ResourceKey, Manifest] = {}
        for phase in deletion.PHASES:
            for key in deletion.expected_hooks(app, desired, phase):
                obj = self._writer.freshest(key, self._live.manifest(key))
                if obj is not None:
                    found[key] = obj
        return found

    async def _report(self, app: Application, error: str) -> None:
        """Set or clear the app's ``DeletionError``, writing only when it changes."""
        conditions = (app.status.conditions if app.status else None) or []
        present = {c.message for c in conditions if c.type == DELETION_ERROR}
        if present == ({appstatus.bounded(error)} if error else set()):
            return
        if error:
            log.warning("%s: deletion stuck: %s", app.qualified_name, error)
        patch = appstatus.condition_patch(app, DELETION_ERROR, error, self._clock())
        await self._apps.patch(app.namespace, app.name, patch)


async def keep_finalizers(
    apps: AppWriter, app: Application, desired: Sequence[Manifest]
) -> Application:
    """Give a living app the finalizers of the deletion hooks its Git has, and only those.

    Returns the app as written (its new resourceVersion), or as it was when nothing changed or
    someone wrote it meanwhile (the next comparison tries again).
    """
    wanted = deletion.kept_finalizers(app.metadata.finalizers or [], desired)
    if wanted is None or app.is_being_deleted:
        return app
    try:
        stored = await apps.set_finalizers(app, wanted)
    except ConflictError:
        return app
    version = resources.resource_version(stored)
    metadata = app.metadata.model_copy(
        update={"finalizers": list(wanted), "resource_version": version}
    )
    return app.model_copy(update={"metadata": metadata})


def _failed(status: ResultCode | None, phase: HookPhase | None) -> bool:
    """Whether a performed action's recorded result says it failed."""
    return status is ResultCode.SYNC_FAILED or phase in (HookPhase.FAILED, HookPhase.ERROR)
