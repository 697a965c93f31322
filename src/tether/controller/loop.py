"""The reconcile loop: Applications and cluster changes in, comparisons, statuses and syncs out.

Triggers (Application changes, managed-resource changes, the resync period, refresh requests)
put an Application's key on one de-duplicating queue; workers take keys and do what the app
needs next: finish its deletion, advance its operation, or refresh it (and maybe start an
automated sync). Every decision comes from ``tether.core``; this module only sequences them.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import math
import random
import time
from collections.abc import Callable, Mapping
from typing import Any

from tether import bootstrap
from tether.bootstrap import telemetry
from tether.controller import counters, dependents, failures, routing, sharding
from tether.controller.counters import Metrics
from tether.controller.desired import AppKey, DesiredIndex
from tether.controller.projects import ProjectIndex
from tether.controller.queue import WorkQueue
from tether.core.app import autosync, deletion as deletion_rules, refresh
from tether.core.cluster.cachepolicy import Change
from tether.core.config.system import SystemConfig
from tether.model import application, project
from tether.model.application import Application, parse_application
from tether.model.errors import ClusterError, ConflictError, NotLeaderError, TetherError
from tether.model.project import AppProject
from tether.model.resources import GroupKind, ResourceKey
from tether.services import appstatus, deletion
from tether.services.compare import Comparer, Comparison
from tether.services.events import EventRecorder
from tether.services.sync import starting
from tether.settings import Settings

log = logging.getLogger(__name__)

APPLICATION = application.GROUP_KIND
APP_PROJECT = project.GROUP_KIND
SECRET = GroupKind("", "Secret")

CACHE_CATCH_UP_S = 1.0
"""When to look again at an app whose cached copy predates our own write of it, should its watch
event (which queues the app at once) not come."""

LIVE_STATUS_INTERVAL = datetime.timedelta(seconds=2)
"""How often a syncing app's status is compared again at most (each object change asks)."""


class Controller:
    """Reconciles every Application in the configured namespaces against one cluster."""

    def __init__(self, rt: bootstrap.Runtime) -> None:
        self.rt = rt
        self.queue: WorkQueue[AppKey] = WorkQueue()
        self.metrics = Metrics()
        self._now = rt.clock
        self._requested: dict[AppKey, refresh.Level] = {}
        self._compared: set[AppKey] = set()
        """Apps this controller has compared with a known desired state. Their Comparisons are
        not kept: each holds every desired and live manifest of its app, for 10,000 apps."""
        self._rng = random.Random()
        self._unsubscribe: Callable[[], None] | None = None
        self._unsubscribe_config: Callable[[], None] | None = None
        self._events = EventRecorder(rt.cluster, rt.settings.status_field_manager)
        self._reconciled: dict[AppKey, datetime.datetime] = {}
        """When each app's last refresh at ``Level.LATEST`` ran (not written when nothing
        changed, on purpose: see ``refresh.with_reconciled``)."""
        self._desired = DesiredIndex()
        self._projects = ProjectIndex()
        self._dependents = dependents.DependentsIndex()  # a dependency's change wakes dependents
        self._credentials_task: asyncio.Task[None] | None = None
        self._live_refreshed: dict[AppKey, datetime.datetime] = {}
        """When each syncing app's status was last refreshed during its operation."""
        self._servers: dict[AppKey, str] = {}
        """Each app's destination as metrics label it."""

    @property
    def settings(self) -> Settings:
        """The settings in force now: flags, and Argo CD's ConfigMaps as they are now."""
        return self.rt.live_settings()

    # Triggers.

    def start_watching(self) -> None:
        """Hear changes: Applications, objects apps manage anywhere, Argo CD's ConfigMaps."""
        self._unsubscribe = self.rt.live.subscribe(self._on_change)
        self.rt.destinations.subscribe(self._wake_apps_of)
        self._unsubscribe_config = self.rt.config.subscribe(self._on_config)

    def _on_config(self, _config: SystemConfig) -> None:
        """Compare every app again: a new ignore rule or health check applies within seconds.

        At the revision each app already resolved: the configuration changed, not Git. (The
        caches, subscribed first, already follow ``resource.exclusions`` and ``inclusions``.)
        """
        for key in self.rt.live.keys_of(APPLICATION):
            if key.namespace in self.settings.app_namespaces:
                self._request((key.namespace, key.name), refresh.Level.RECENT)

    def enqueue_all(self) -> None:
        """Queue every known Application (at start, after the cache's initial sync)."""
        for key in self.rt.live.keys_of(APPLICATION):
            if key.namespace in self.settings.app_namespaces:
                self.queue.add((key.namespace, key.name))

    def _on_change(self, change: Change) -> None:
        key = change.key
        if key.group_kind == SECRET and key.namespace == self.settings.control_plane_namespace:
            self._schedule_credentials_reload()
        is_app = key.group_kind == APPLICATION
        if is_app and key.namespace in self.settings.app_namespaces:
            app_key = (key.namespace, key.name)
            for woken in (app_key, *self._dependents.follow(app_key, self.rt.live.manifest(key))):
                self.queue.add(woken)
        if key.group_kind == APP_PROJECT:
            self._refresh_project_apps(key.name)
        self._wake_apps_of(change)

    def _wake_apps_of(self, change: Change) -> None:
        """Re-compare the apps that hold or want a changed object, on whichever cluster."""
        key = change.key
        is_app = key.group_kind == APPLICATION
        # The apps whose trees hold the object or whose Git wants it re-compare; a child
        # Application is such an object for its parent (app of apps), and an app never
        # refreshes for its own object.
        wanting = {self._app_of_instance(instance) for instance in change.apps}
        wanting.update(self._desired.wanting(key))
        for app_key in wanting:
            if app_key is None or (is_app and app_key == (key.namespace, key.name)):
                continue
            self._request(app_key, refresh.Level.RECENT)

    def _refresh_project_apps(self, project_name: str) -> None:
        """Compare a project's apps again (resolved revision): its permissions or windows changed.

        That decides the automated sync anew: a sync window removed releases a held sync at once.
        """
        for key in self._projects.apps_of(project_name):  # an app never reconciled is queued
            self._request(key, refresh.Level.RECENT)

    def _request(self, key: AppKey, level: refresh.Level, delay: float = 0.0) -> None:
        """Queue an app for a refresh at least ``level`` deep, in ``delay`` seconds."""
        self._requested[key] = max(self._requested.get(key, refresh.Level.FROM_CACHE), level)
        self.queue.add(key, delay)

    def _schedule_credentials_reload(self) -> None:
        if self._credentials_task is None or self._credentials_task.done():
            self._credentials_task = asyncio.create_task(self.reload_credentials())

    async def reload_credentials(self) -> None:
        """Read repository and cluster Secrets again from the control-plane namespace."""
        try:
            for problem in await self.rt.reload_credentials():
                log.warning("%s", problem)
        except TetherError as err:
            log.warning("could not read repository and cluster Secrets: %s", err)
        # An app whose cluster came, went or changed compares against its cluster anew.
        self.enqueue_all()

    def _app_of_instance(self, instance: str) -> AppKey | None:
        namespace, sep, name = instance.partition("_")
        if sep and namespace in self.settings.app_namespaces:
            return namespace, name
        return self.settings.control_plane_namespace, instance

    # Workers.

    async def run_workers(self, count: int) -> None:
        """Run ``count`` workers until the queue closes."""
        await asyncio.gather(*(self._worker() for _ in range(count)))

    async def _worker(self) -> None:
        while (key := await self.queue.get()) is not None:
            started = time.perf_counter()
            try:
                with telemetry.acting_for(*key):  # its Kubernetes requests count for the app
                    delay = await self.reconcile(key)
            except asyncio.CancelledError:
                self.queue.done(key)
                raise
            except NotLeaderError:  # fenced: Lease lapsed or app moved; retry soon, no backoff
                self.queue.done(key)
                self.queue.add(key, sharding.FENCED_RETRY_S)
                continue
            except Exception as err:
                # Whatever one app's reconcile raises stays with that app: a condition on it,
                # a backoff on its key alone, and the worker goes on with the others.
                self.metrics.errors += 1
                if isinstance(err, TetherError | OSError):
                    log.warning("reconcile of %s/%s failed: %s", key[0], key[1], err)
                else:
                    log.exception("unexpected error reconciling %s/%s", key[0], key[1])
                await failures.report(self.rt, key, err, self._now())
                self.queue.done(key)
                self.queue.retry(key)
                continue
            finally:
                server = self._servers.get(key, "")
                self.metrics.observe(time.perf_counter() - started, key[0], server)
            self.queue.done(key)
            self.queue.forget(key)
            if delay is not None:
                self.queue.add(key, delay)

    async def reconcile(self, key: AppKey) -> float | None:
        """Do what one Application needs now; returns seconds until it should be seen again."""
        namespace, name = key
        obj = self.rt.live.manifest(
            ResourceKey(APPLICATION.group, APPLICATION.kind, namespace, name)
        )
        if obj is None:
            if key in self._compared:
                # Only an app this controller knew: tracking names alone could be another's.
                for destination in self.rt.destinations.every():
                    await destination.deleter.release_hooks(namespace, name)
            self._forget(key)
            return None
        if self.rt.apps.predates_own_write(namespace, name, obj):
            # Deciding on it would redo what our last write did (a second status write, an
            # operation step twice); that write's watch event queues the app again.
            return CACHE_CATCH_UP_S
        try:
            app = parse_application(obj)
        except TetherError as err:
            await self.rt.apps.patch(
                namespace, name, appstatus.invalid_spec_patch(str(err), self._now())
            )
            return None
        telemetry.project_is(app.spec.project)
        self._projects.remember(key, app.spec.project)
        self._servers[key] = counters.dest_server(app)
        project = routing.project_of(self.rt.live, app, self.settings.control_plane_namespace)
        if project is None:
            await self.rt.apps.patch(
                namespace,
                name,
                appstatus.invalid_spec_patch(
                    f"Application {app.qualified_name} references project "
                    f"{app.spec.project!r}, which does not exist",
                    self._now(),
                ),
            )
            return self._resync_delay()
        try:
            # Deleting needs the app's own cluster: an unknown one raises (finalizer kept).
            destination = await routing.destination_of(self.rt.destinations, app)
        except ClusterError as err:
            if patch := routing.unreachable_patch(app, err, self._now()):
                await self.rt.apps.patch(*key, patch)
            return routing.RETRY_AFTER
        if app.is_being_deleted:
            return await destination.deleter.finalize(app, project, destination=destination.entry)
        if app.operation is not None:
            settle = self._settle(key, destination.comparer)
            outcome = await destination.syncer.step(app, project, settle=settle)
            log.debug(
                "%s/%s: operation %s, again in %s s",
                *key,
                outcome.phase.value,
                outcome.requeue_after,
            )
            # Until it completes, and for the refresh after it, the app's wakes go ahead of
            # apps waiting for a comparison.
            self.queue.mark_operating(key, True)
            if outcome.completed:
                self.metrics.synced(app, outcome.phase.value)
                phase, message = outcome.phase.value, outcome.message
                await self._events.operation_completed(app, phase, message, outcome.settled)
                # Compared with the latest revision after every operation, as Argo CD does: a
                # rollback's or a pinned sync's revision is not the target's, and Git may have
                # moved meanwhile. After a settled sync this writes only what differs (the
                # fence above waits for the final write's own watch event).
                self._requested[key] = refresh.Level.LATEST
                return 0.0
            live_status = await self._refresh_while_syncing(key, project, destination.comparer)
            return min(outcome.requeue_after, live_status)
        return await self._refresh(key, app, project, destination.comparer)

    def _settle(self, key: AppKey, comparer: Comparer) -> starting.Settle:
        """The status a successful sync's final write carries: this refresh's, done early."""

        async def settle(app: Application, comparison: Comparison) -> Mapping[str, Any] | None:
            kept = deletion_rules.kept_finalizers(app.metadata.finalizers or [], comparison.desired)
            if kept is not None:
                return None  # the refresh after the sync adds them, before it says Synced
            comparison = self._absorb(key, app, comparison, comparer)
            return self._status_patch(key, app, comparison, refresh.Level.LATEST, None) or {}

        return settle

    async def _refresh_while_syncing(
        self, key: AppKey, project: AppProject, comparer: Comparer
    ) -> float:
        """Keep a syncing app's status live: compare again when its objects changed.

        A long sync (the Kubeflow root's waves take minutes) must not leave the status at the
        comparison from before it started, with every applied object still Missing. At most
        one such refresh per ``LIVE_STATUS_INTERVAL_S``; returns when to look again for it.
        """
        now = self._now()
        last = self._live_refreshed.get(key)
        if last is not None and now - last < LIVE_STATUS_INTERVAL:
            # A change seen meanwhile waits for the interval's end, not for the next event.
            pending = key in self._requested
            return (last + LIVE_STATUS_INTERVAL - now).total_seconds() if pending else math.inf
        # The app as the runner's writes left it, so the status patch is computed against the
        # newest status.
        obj = self.rt.live.manifest(ResourceKey(APPLICATION.group, APPLICATION.kind, *key))
        if obj is None:
            return math.inf
        if self.rt.apps.predates_own_write(*key, obj):
            return CACHE_CATCH_UP_S  # the runner's write is on its way: refresh on top of it
        self._live_refreshed[key] = now
        try:
            app = parse_application(obj)
        except TetherError:
            return math.inf  # edited into something invalid: the next reconcile says so
        await self._refresh(key, app, project, comparer)
        return math.inf

    async def _refresh(
        self, key: AppKey, app: Application, project: AppProject, comparer: Comparer
    ) -> float:
        self.queue.mark_operating(key, False)  # no operation now; set again if one starts
        requested = self._requested.pop(key, None)
        decision = refresh.decide(
            refresh.with_reconciled(app, self._reconciled.get(key)),
            now=self._now(),
            resync_period=self.settings.resync_period,
            hard_resync_period=self.settings.hard_resync_period,
            requested=requested,
        )
        if decision is None:
            log.debug("%s/%s: no refresh due", *key)
            return self._resync_delay()
        log.debug("%s/%s: refresh level %d: %s", *key, decision.level, decision.reason)
        pinned: tuple[str, ...] = ()
        if decision.level <= refresh.Level.RECENT and app.status and app.status.sync:
            pinned = app.status.sync.all_revisions()
        comparison = await comparer.compare(
            app,
            project,
            revisions=pinned or None,
            resolve=decision.level >= refresh.Level.FORCE_RESOLVE,
            hard=decision.hard,
        )
        if comparison.desired_known:
            # Before the status says Synced: an app deleted then must already hold them.
            app = await deletion.keep_finalizers(self.rt.apps, app, comparison.desired)
            comparison = self._absorb(key, app, comparison, comparer)
        if decision.level >= refresh.Level.LATEST:
            self._reconciled[key] = self._now()
        auto = (
            autosync.decide(
                app, appstatus.autosync_view(comparison), now=self._now(), project=project
            )
            if comparison.desired_known
            else None
        )
        held = auto.held if auto is not None else None
        patch = self._status_patch(key, app, comparison, decision.level, held)
        # An automated sync's start carries the comparison's status: one write, not two.
        merged = bool(patch) and auto is not None and auto.operation is not None
        if patch and not merged:
            stored = await self.rt.apps.patch(key[0], key[1], patch)
            await self._events.status_changed(app, comparison)
            # Our own write moved the resourceVersion; the auto-sync write is conditional on it.
            version = str((stored.get("metadata") or {}).get("resourceVersion") or "")
            if version:
                app = app.model_copy(
                    update={
                        "metadata": app.metadata.model_copy(update={"resource_version": version})
                    }
                )
        started = False
        if auto is not None:
            started = await self._auto_sync(app, comparison, auto, patch if merged else None)
        # Last: removing the honoured refresh request moves the resourceVersion, which the
        # conditional auto-sync write above must not trip over.
        if decision.level is refresh.Level.FORCE_RESOLVE and refresh.REFRESH_ANNOTATION in (
            app.metadata.annotations or {}
        ):
            await self._clear_refresh_annotation(app)
        # A started sync wakes the app through its own watch event: a read before that event
        # would see the app without its operation and compare (and write) again.
        if started:
            self.queue.mark_operating(key, True)
        return 1.0 if started else self._resync_delay()

    async def _auto_sync(
        self,
        app: Application,
        comparison: Comparison,
        decision: autosync.Decision,
        status: Mapping[str, Any] | None = None,
    ) -> bool:
        if decision.error:
            await self.rt.apps.patch(
                app.namespace,
                app.name,
                appstatus.condition_patch(app, "SyncError", decision.error, self._now()),
            )
            return False
        if decision.operation is None:
            log.debug("%s: no automated sync: %s", app.qualified_name, decision.reason)
            if decision.recheck_at is not None:
                wait = max(0.0, (decision.recheck_at - self._now()).total_seconds())
                self._request((app.namespace, app.name), refresh.Level.LATEST, wait)
            return False
        request = starting.request_patch(
            app, decision.operation, comparison.revisions, self._now(), status
        )
        try:
            # Conditional: a sync or rollback a user requested since our read wins (409), and
            # the app is looked at again.
            await self.rt.apps.patch_if_unchanged(app, request)
        except ConflictError:
            # Someone wrote the app since we read it (maybe a user's sync): compare again now.
            self._request((app.namespace, app.name), refresh.Level.LATEST, 0.5)
            return False
        except ClusterError as err:
            if status:
                raise  # the status went unwritten too: retry as for any failed status write
            log.warning("could not start the automated sync of %s: %s", app.qualified_name, err)
            return False
        shown = comparison if status else None  # the write carried this comparison's status
        await self._events.sync_started(app, decision.reason, automated=True, comparison=shown)
        return True

    def let_go(self, keys: list[AppKey]) -> None:
        """Forget apps another replica reconciles from now on (sharding)."""
        for key in keys:
            self._forget(key)

    def _forget(self, key: AppKey) -> None:
        self.queue.mark_operating(key, False)
        self._requested.pop(key, None)
        self._live_refreshed.pop(key, None)
        self._compared.discard(key)
        self._reconciled.pop(key, None)
        self._servers.pop(key, None)
        self._desired.remember(key, frozenset())
        self._projects.forget(key)
        self.rt.apps.forget(*key)

    def _absorb(
        self, key: AppKey, app: Application, comparison: Comparison, comparer: Comparer
    ) -> Comparison:
        """Remember a comparison that knows the desired state, warned of shared objects."""
        self._compared.add(key)
        namespace = self.settings.control_plane_namespace
        return self._desired.absorb(key, comparison, comparer.instance_of(app), namespace)

    def _status_patch(
        self,
        key: AppKey,
        app: Application,
        comparison: Comparison,
        level: refresh.Level,
        held: str | None,
    ) -> dict[str, Any] | None:
        return appstatus.status_patch(
            app,
            comparison,
            comparison if key in self._compared else None,  # it asks only: ever compared?
            level=level,
            now=self._now(),
            control_plane_namespace=self.settings.control_plane_namespace,
            held_by_windows=held,
        )

    async def _clear_refresh_annotation(self, app: Application) -> None:
        """Remove the honoured refresh request, unless a newer one replaced it meanwhile."""
        try:
            await self.rt.apps.remove_annotation(app, refresh.REFRESH_ANNOTATION)
        except ClusterError as err:
            log.info("refresh annotation of %s not removed: %s", app.qualified_name, err)

    def _resync_delay(self) -> float:
        settings = self.settings
        return refresh.resync_delay(
            settings.resync_period,
            settings.hard_resync_period,
            settings.resync_jitter,
            self._rng.random(),
        )

    def stop(self) -> None:
        """Stop taking work; workers finish what they hold."""
        if self._unsubscribe is not None:
            self._unsubscribe()
        if self._unsubscribe_config is not None:
            self._unsubscribe_config()
        self.queue.close()
