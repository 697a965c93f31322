"""Compare an Application with the live cluster: render, pair, diff (server-side), assess health.

The result carries everything a status needs and everything a sync needs. Live state comes from
the watch-fed cache; the only requests are dry runs of the sync's writes (``dryruns``), cached by
the desired object's digest and the live resourceVersion, so an unchanged app costs no request. Each
resource's diff is memoised on everything it reads, so an unchanged app costs little CPU too.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import functools
import logging
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any

import cachetools

from tether import ports
from tether.core import health
from tether.core.app import compatibility, destinations, policy, tree
from tether.core.config import system
from tether.core.config.system import SystemConfig
from tether.core.diff import diff, ignore, tracking
from tether.core.sources.rendered import RenderFailed
from tether.core.sync import hooks, options as sync_options
from tether.model import application, project as project_model
from tether.model.app_status import CONDITION_TYPES, ConditionKind, ResourceStatus
from tether.model.application import Application
from tether.model.clusters import IN_CLUSTER_SERVER, ClusterEntry, ClusterRegistry
from tether.model.errors import InvalidInputError, TetherError
from tether.model.project import AppProject
from tether.model.resources import (
    GroupKind,
    Manifest,
    ResourceKey,
    kind_of,
    metadata_of,
    namespace_of,
    spec_of,
)
from tether.model.status import Health, HealthStatus, SyncStatus
from tether.services import dryruns
from tether.services.dryruns import DryRuns

log = logging.getLogger(__name__)

DIFF_CACHE_SIZE = 50_000
"""Per-resource comparison results kept (``diff.memo_lookup`` and ``memo_store``: one per
resource and rule set): room for every managed object of a large installation, like the dry
runs. Each holds the normalised live and predicted objects; the controller's last comparison of
each app holds the same results, so the memo adds little memory of its own."""

CONTROL_OBJECTS = (
    # Applications and projects are the controller's own objects, not workloads anyone forgot.
    tree.OrphanIgnore(application.GROUP_KIND.group, application.GROUP_KIND.kind),
    tree.OrphanIgnore(project_model.GROUP_KIND.group, project_model.GROUP_KIND.kind),
)

Fresher = Callable[[ResourceKey, Manifest | None], Manifest | None]
"""Given an object's key and the cache's copy, the copy to compare (a newer one just written)."""

UNSUPPORTED_FIELD_WARNING = "UnsupportedFieldWarning"
"""Set fields tether does not honour and that stop nothing (``compatibility.warnings``)."""


@dataclasses.dataclass(frozen=True)
class ResourceState:
    """One resource of an app: what Git wants, what the cluster has, and the verdicts."""

    key: ResourceKey
    desired: Manifest | None
    live: Manifest | None
    difference: diff.ResourceDiff
    status: ResourceStatus
    health: Health | None
    counts: bool
    """Whether this resource makes the app OutOfSync (``diff.counts_against_sync``)."""
    shared_with: str = ""
    """Another app whose tracking the live object carries, though this app wants it too."""


@dataclasses.dataclass(frozen=True)
class Comparison:
    """The outcome of comparing one Application with the cluster."""

    sync_status: SyncStatus
    revisions: tuple[str, ...]
    resources: tuple[ResourceState, ...]
    health: Health
    desired: tuple[dict[str, Any], ...]
    """Every desired object after namespacing and tracking, in source order (hooks included)."""

    errors: tuple[tuple[str, str], ...] = ()
    """``(condition type, message)`` pairs: ComparisonError, InvalidSpecError, warnings."""

    desired_known: bool = True
    """False when rendering failed: the desired state is unknown, so nothing may be pruned."""

    def out_of_sync(self) -> list[ResourceState]:
        """Resources that make the app OutOfSync."""
        return [r for r in self.resources if r.counts]

    @property
    def failure(self) -> str:
        """The error conditions' messages: why the desired state is unknown, when it is."""
        return "; ".join(
            message
            for kind, message in self.errors
            if CONDITION_TYPES.get(kind, ConditionKind.ERROR) is ConditionKind.ERROR
        )


class Comparer:
    """Compares Applications with one cluster; shared by the controller and the CLI.

    One per destination cluster: ``server`` is the one its client and live state reach, and
    ``clusters`` gives the known clusters as of now, to resolve each app's destination.
    """

    def __init__(
        self,
        manifests: ports.ManifestSource,
        cluster: ports.Cluster,
        live: ports.LiveState,
        dry_runs: DryRuns,
        *,
        field_manager: str,
        control_plane_namespace: str,
        jq: ignore.JqEvaluator | None = None,
        server: str = IN_CLUSTER_SERVER,
        clusters: Callable[[], ClusterRegistry] = ClusterRegistry,
        config: Callable[[], SystemConfig] = lambda: system.DEFAULT,
        clock: Callable[[], datetime.datetime] | None = None,
        tracked_by: tracking.Tracking = tracking.DEFAULT_TRACKING,
    ) -> None:
        """Compare with ``cluster``; ``config`` gives Argo CD's ConfigMaps' settings now.

        ``clock`` is what a Lua health check's ``os.time()`` reads (without it, such checks fail).
        ``tracked_by`` is how objects are marked as an app's (fixed for the process's life).
        """
        self._server = server
        self._clusters = clusters
        self._manifests = manifests
        self._cluster = cluster
        self._live = live
        self._dry_runs = dry_runs
        self._field_manager = field_manager
        self._namespace = control_plane_namespace
        self._jq = jq
        self._config = config
        self._clock = clock
        self._tracking = tracked_by
        self._diffs: cachetools.LRUCache[Hashable, tuple[Hashable, diff.ResourceDiff]] = (
            cachetools.LRUCache(DIFF_CACHE_SIZE)
        )

    def destination(self, app: Application) -> ClusterEntry:
        """The cluster ``app`` deploys to, as the cluster Secrets say now.

        Raises:
            InvalidInputError: the destination names no cluster, or is ambiguous.
        """
        return destinations.resolve(app.spec.destination, self._clusters())

    async def compare(
        self,
        app: Application,
        project: AppProject,
        *,
        revisions: Sequence[str] | None = None,
        resolve: bool = False,
        hard: bool = False,
        fresher: Fresher | None = None,
    ) -> Comparison:
        """Compare ``app`` with the cluster at ``revisions`` (resolved now when ``None``).

        ``resolve`` bypasses the short revision-resolution cache (a refresh request, a sync);
        ``hard`` also re-renders an unchanged commit; ``fresher`` gives each object as a
        caller wrote it moments ago, when newer than the cache's (a sync's own writes).
        """
        comparison = await self._compare(
            app, project, revisions=revisions, resolve=resolve, hard=hard, fresher=fresher
        )
        unsupported = compatibility.warnings(app, project)
        if not unsupported:
            return comparison
        # Whatever the comparison found: they say what tether leaves undone, not what failed.
        warning = (UNSUPPORTED_FIELD_WARNING, "; ".join(unsupported))
        return dataclasses.replace(comparison, errors=(*comparison.errors, warning))

    async def _compare(
        self,
        app: Application,
        project: AppProject,
        *,
        revisions: Sequence[str] | None,
        resolve: bool,
        hard: bool,
        fresher: Fresher | None,
    ) -> Comparison:
        try:
            cluster = self.destination(app)
        except InvalidInputError as err:
            return _unknown(("InvalidSpecError", f"Application {app.qualified_name}: {err}"))
        if cluster.server != self._server:
            # The cluster Secrets changed between the caller's choice of comparer and now.
            return _unknown(
                ("ComparisonError", f"{app.qualified_name}: its destination cluster changed")
            )
        spec_problems = policy.check_application(app, project, self._namespace, cluster=cluster)
        if spec_problems:
            return _unknown(("InvalidSpecError", "; ".join(spec_problems)))
        # For this cluster, as Argo CD renders: its version and API versions (.Capabilities).
        served = self._live.versions()
        rendered = await self._manifests.render_application(
            app,
            refresh=resolve or hard,
            hard_refresh=hard,
            revisions=list(revisions) if revisions else None,
            kube_version=served.kube_version,
            api_versions=served.api_versions,
        )
        if isinstance(rendered, RenderFailed):
            return _unknown(("ComparisonError", rendered.message), rendered.revisions)
        destination = app.spec.destination.namespace or ""
        instance = app.app_instance_name(self._namespace)
        desired, warnings = self._prepare(rendered.manifests, instance, destination)
        desired, excluded = self._config().without_excluded(desired, self._server)
        if excluded:
            warnings.append(("ExcludedResourceWarning", excluded))
        resource_problems = policy.check_resources(
            app, project, [ResourceKey.of(obj) for obj in desired], cluster=cluster
        )
        if resource_problems:
            return _unknown(("InvalidSpecError", "; ".join(resource_problems)), rendered.revisions)
        try:
            states = await self._pair_and_diff(
                app, project, cluster, desired, instance, fresher or _cached
            )
        except TetherError as err:
            return _unknown(("ComparisonError", f"{app.qualified_name}: {err}"), rendered.revisions)
        warnings.extend(self._orphans(project, destination, states))
        warnings.extend(tracking.shared_warnings(instance, {s.key: s.shared_with for s in states}))
        return Comparison(
            sync_status=diff.app_sync_status(
                (app.namespace_metadata_changed, *(s.counts for s in states))
            ),
            revisions=rendered.revisions,
            resources=tuple(states),
            health=aggregate_health(states),
            desired=tuple(desired),
            errors=tuple(warnings),
        )

    def _prepare(
        self, objects: Sequence[Mapping[str, Any]], instance: str, destination: str
    ) -> tuple[list[dict[str, Any]], list[tuple[str, str]]]:
        """Namespace, de-duplicate and stamp the rendered objects (Argo CD's normalisation)."""
        crd_scopes = dict(
            _crd_scope(o) for o in objects if kind_of(o) == "CustomResourceDefinition"
        )
        by_key: dict[ResourceKey, dict[str, Any]] = {}
        warnings: list[tuple[str, str]] = []
        for position, obj in enumerate(objects):
            placed = self._place(obj, destination, crd_scopes)
            key = hooks.identity(placed, position)
            if key in by_key:
                warnings.append(
                    ("RepeatedResourceWarning", f"{key} appears more than once; the last one wins")
                )
            by_key[key] = placed
        stamped = tracking.stamp(by_key.values(), instance, destination, self._tracking)
        return stamped, warnings

    def _place(
        self, obj: Mapping[str, Any], destination: str, crd_scopes: Mapping[GroupKind, bool]
    ) -> dict[str, Any]:
        key = ResourceKey.of(obj)
        namespaced = self._live.is_namespaced(key.group_kind)
        if namespaced is None:
            namespaced = crd_scopes.get(key.group_kind, True)
        meta = dict(metadata_of(obj))
        if namespaced and not namespace_of(obj) and destination:
            meta["namespace"] = destination
        elif not namespaced:
            meta.pop("namespace", None)
        return {**obj, "metadata": meta}

    async def _pair_and_diff(
        self,
        app: Application,
        project: AppProject,
        cluster: ClusterEntry,
        desired: Sequence[dict[str, Any]],
        instance: str,
        fresher: Fresher,
    ) -> list[ResourceState]:
        app_options = sync_options.parse(app.spec.sync_options())
        desired_by_key = {ResourceKey.of(obj): obj for obj in desired}
        live_by_key: dict[ResourceKey, Mapping[str, Any]] = {}
        config = self._config()
        for key in self._live.managed_by(instance):
            if config.filtered_reason(key.group_kind, self._server):
                continue  # excluded in the settings: neither compared nor pruned
            if key not in desired_by_key and policy.resource_problem(project, key, cluster=cluster):
                continue  # tracked as ours where the project does not reach: never pruned
            live = fresher(key, self._live.manifest(key))
            if live is not None:
                live_by_key[key] = live
        for key in desired_by_key:
            if key not in live_by_key:
                live = fresher(key, self._live.manifest(key))
                if live is not None:
                    live_by_key[key] = live
        keys = list(desired_by_key) + [k for k in live_by_key if k not in desired_by_key]
        rules = (*self.ignore_rules(app), *ignore.rollback_holds(live_by_key))
        whole = diff.DiffOptions(
            normalize=config.normalize, sensitive_annotations=config.sensitive_annotations
        )
        # A client-side write's result is compared whole: field ownership does not say what it
        # changed (an Update owns only what it changed, a removed field was someone else's).
        owned = dataclasses.replace(whole, field_manager=self._field_manager)

        async def one(key: ResourceKey) -> ResourceState:
            want = desired_by_key.get(key)
            have = live_by_key.get(key)
            desired_digest = diff.digest(want) if want is not None else None
            effective = sync_options.for_object(app_options, want, have) if want else None
            strict = effective is not None and effective.validate
            server_side = effective is None or not dryruns.written_client_side(
                effective, have, app.migration_manager
            )
            prediction = await self._dry_runs.predict(
                key, want, have, desired_digest, strict=strict, server_side=server_side
            )
            predicted = prediction.obj if prediction else None
            options = owned if server_side else whole
            memo_key = diff.memo_key(
                want,
                have,
                predicted=predicted,
                rules=rules,
                jq=self._jq,
                options=options,
                tracked_by=self._tracking,
                desired_digest=desired_digest,
                predicted_digest=prediction.digest if prediction else None,
            )
            result = diff.memo_lookup(self._diffs, memo_key)
            if result is None:
                compare = functools.partial(
                    diff.compare,
                    want,
                    have,
                    predicted=predicted,
                    rules=rules,
                    jq=self._jq,
                    options=options,
                    tracked_by=self._tracking,
                )
                # A user's jq expression may run up to its deadline: off the event loop, which
                # also renews the Lease. The memo is read and written here, on the loop.
                uses_jq = any(rule.jq_path_expressions and rule.selects(key) for rule in rules)
                result = await asyncio.to_thread(compare) if uses_jq else compare()
                diff.memo_store(self._diffs, memo_key, result)
            status = diff.resource_status(result, want, have)
            verdict = (
                self.health_of(have)
                if have is not None
                else (Health(HealthStatus.MISSING, "missing from the cluster") if want else None)
            )
            status = dataclasses.replace(status, health=verdict)
            counts = diff.counts_against_sync(status, have)
            owner = (
                tracking.app_name_of(have, self._tracking)
                if want is not None and have is not None
                else ""
            )
            shared_with = owner if owner and owner != instance else ""
            return ResourceState(key, want, have, result, status, verdict, counts, shared_with)

        return list(await asyncio.gather(*(one(key) for key in keys)))

    def _orphans(
        self,
        project: AppProject,
        destination: str,
        states: Sequence[ResourceState],
    ) -> list[tuple[str, str]]:
        """An ``OrphanedResourceWarning`` when the project monitors orphans and finds some."""
        settings = project.spec.orphaned_resources if project.spec else None
        if settings is None or not destination or settings.warn is False:
            return []
        outline = self._live.namespace_outline(destination)
        app_of = {ResourceKey.of(obj): owner for obj, owner in outline}
        existing = {
            tracking.app_instance(key.name, key.namespace, self._namespace)
            for key in self._live.keys_of(application.GROUP_KIND)
        }
        orphans = tree.orphaned(
            tree.build(obj for obj, _ in outline),
            destination_namespace=destination,
            managed={s.key for s in states},
            app_of=lambda obj: app_of.get(ResourceKey.of(obj), ""),
            existing_apps=existing,
            ignore=[
                *CONTROL_OBJECTS,
                *(
                    tree.OrphanIgnore(i.group or "", i.kind or "", i.name or "")
                    for i in settings.ignore or []
                ),
            ],
        )
        if not orphans:
            return []
        return [("OrphanedResourceWarning", f"Application has {len(orphans)} orphaned resources")]

    def health_of(self, live: Manifest) -> Health | None:
        """The health of one live object: the Lua checks in force, else the built-in rules."""
        now = self._clock() if self._clock is not None else None
        return health.assess(live, overrides=self._config().health, now=now)

    def instance_of(self, app: Application) -> str:
        """The name ``app`` writes into its objects' tracking."""
        return app.app_instance_name(self._namespace)

    def ignore_rules(self, app: Application) -> list[ignore.IgnoreRule]:
        """The system-wide and the app's ``ignoreDifferences`` rules."""
        return list(self._config().ignore_rules) + [
            ignore.IgnoreRule.from_spec(entry.to_manifest())
            for entry in app.spec.ignore_differences or []
        ]

    async def respecting_ignored_fields(
        self,
        app: Application,
        desired: Sequence[Mapping[str, Any]],
        live: Mapping[ResourceKey, Mapping[str, Any]],
        *,
        every_rule: bool,
    ) -> tuple[dict[str, Any], ...]:
        """Desired objects carrying live's values of the fields a sync must leave alone.

        Those of rolled-back child Applications always (``ignore.rollback_holds``); with
        ``every_rule`` (``RespectIgnoreDifferences=true``) every ignored field. Off the event
        loop: the app's jq expressions may each run up to their deadline.
        """
        holds = ignore.rollback_holds(live)
        rules = [*self.ignore_rules(app), *holds] if every_rule else holds
        if not rules:
            return tuple(dict(obj) for obj in desired)

        def respect_all() -> tuple[dict[str, Any], ...]:
            out = []
            for obj in desired:
                key = ResourceKey.of(obj)
                have = live.get(key)
                out.append(ignore.respect(obj, have, ignore.prepare(rules, key, have), self._jq))
            return tuple(out)

        return await asyncio.to_thread(respect_all)


def _cached(_key: ResourceKey, cached: Manifest | None) -> Manifest | None:
    """The cache's object as it is (no caller's fresher copy)."""
    return cached


def aggregate_health(states: Sequence[ResourceState]) -> Health:
    """The app's health: the worst of its resources (hooks aside), naming the culprits."""
    return health.aggregate(
        health.ResourceHealthInput(s.key, s.desired, s.live, s.health)
        for s in states
        if not s.status.hook
    )


def _crd_scope(crd: Manifest) -> tuple[GroupKind, bool]:
    """The kind a CRD in the same render defines, and whether it is namespaced."""
    spec = spec_of(crd)
    names = spec.get("names")
    kind = str(names.get("kind", "")) if isinstance(names, Mapping) else ""
    return GroupKind(str(spec.get("group", "")), kind), spec.get("scope") == "Namespaced"


def _unknown(condition: tuple[str, str], revisions: Sequence[str] = ()) -> Comparison:
    return Comparison(
        sync_status=SyncStatus.UNKNOWN,
        revisions=tuple(revisions),
        resources=(),
        health=Health(HealthStatus.UNKNOWN, condition[1]),
        desired=(),
        errors=(condition,),
        desired_known=False,
    )
