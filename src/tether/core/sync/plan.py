"""Sync tasks: pair desired and live objects, add hooks and the namespace, order them all.

A plan is rebuilt from the inputs on every step (nothing is remembered between steps), then the
results recorded so far are attached to its tasks.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Mapping
from datetime import datetime, timedelta

from tether.core.sync import hooks, options as sync_options, ordering
from tether.core.sync.results import Results
from tether.model import resources
from tether.model.app_spec import ManagedNamespaceMetadata
from tether.model.operation import ResourceResult, result_key
from tether.model.resources import GroupKind, Manifest, ResourceKey
from tether.model.status import Health, HookPhase, ResultCode, SyncPhase


class Strategy(enum.Enum):
    """Argo's sync strategies: ``apply`` runs no hooks (rollback uses it), ``hook`` runs them."""

    APPLY = "apply"
    HOOK = "hook"


@dataclasses.dataclass(frozen=True)
class Request:
    """What the operation asks for; fixed for the operation's whole life."""

    revision: str
    """The resolved commit, pinned for the operation; part of generated hook names."""
    started_at: datetime
    destination_namespace: str = ""
    prune: bool = False
    dry_run: bool = False
    resources: frozenset[ResourceKey] | None = None
    """Selective sync: only these resources, and no hooks. ``None`` syncs everything."""
    options: sync_options.SyncOptions = dataclasses.field(default_factory=sync_options.SyncOptions)
    strategy: Strategy = Strategy.HOOK
    force: bool = False
    """``syncStrategy.{apply,hook}.force``: the same as ``Force=true`` for every object."""
    allow_empty: bool = False
    """Argo's ``allowEmpty``: without it, a sync that would prune everything is refused."""
    timeout: timedelta | None = None
    """Terminate the operation once it has run this long; ``None`` never times out."""
    app_instance: str = ""
    """The app's tracking name, for messages that name it beside another app."""
    migration_manager: str = ""
    """The client-side manager ``ClientSideApplyMigration`` migrates by name; ``""`` for
    kubectl's (the Application's ``client-side-apply-migration-manager`` annotation)."""
    namespace_metadata: ManagedNamespaceMetadata | None = None
    """``managedNamespaceMetadata``: with ``CreateNamespace=true``, the destination namespace
    is applied with it on every sync, existing or not."""


@dataclasses.dataclass(frozen=True)
class Observed:
    """What is true now: the desired objects, the cluster as last seen, and the results so far."""

    desired: tuple[Manifest, ...]
    """The rendered objects after tracking and namespace normalization, hooks included."""
    live: Mapping[ResourceKey, Manifest]
    """The app's managed live objects (and live hooks), read after the last step's actions."""
    now: datetime
    results: Results = ()
    health: Mapping[ResourceKey, Health | None] = dataclasses.field(default_factory=dict)
    """Health of live objects; a missing entry or ``None`` means the kind has no health check."""
    out_of_sync: Mapping[ResourceKey, bool] = dataclasses.field(default_factory=dict)
    """Per desired object, whether it differs from live (for ``ApplyOutOfSyncOnly``)."""
    server_kinds: frozenset[GroupKind] | None = None
    """The kinds the API server serves; ``None`` skips the check."""
    namespace_live: Manifest | None = None
    """The live destination Namespace, for ``CreateNamespace=true``."""
    desired_known: bool = True
    """False when rendering failed: then nothing may be pruned, so the sync is refused."""
    unknown_because: str = ""
    """Why the desired state is unknown (the comparison's error), for the refusal's message."""
    prune_approved_at: datetime | None = None
    """The Application's ``argocd.argoproj.io/deletion-approved`` time, if any."""
    terminating: bool = False
    """A user asked to terminate the operation."""
    shared: Mapping[ResourceKey, str] = dataclasses.field(default_factory=dict)
    """Desired objects another Application also tracks (Argo's ``SharedResourceWarning``)."""


@dataclasses.dataclass(frozen=True)
class Task:
    """One thing a sync does to one object in one phase."""

    key: ResourceKey
    phase: SyncPhase
    wave: int
    target: Manifest | None
    """The object to apply; ``None`` for a prune."""
    live: Manifest | None
    options: sync_options.Effective
    hook: hooks.Classification | None = None
    skip_dry_run: bool = False
    synthetic: bool = False
    """The Namespace ``CreateNamespace=true`` adds."""
    result: ResourceResult | None = None

    @property
    def is_prune(self) -> bool:
        """A live object without a desired one."""
        return self.target is None

    @property
    def is_hook(self) -> bool:
        """Whether the task runs a hook."""
        return self.hook is not None

    @property
    def obj(self) -> Manifest:
        """The target, or for a prune the live object."""
        obj = self.target if self.target is not None else self.live
        assert obj is not None  # a task always has one of them
        return obj

    @property
    def hook_phase(self) -> HookPhase | None:
        """The recorded hook phase; ``None`` while the task has not run."""
        return self.result.hook_phase if self.result else None

    @property
    def pending(self) -> bool:
        """Not run yet (and not refused by validation)."""
        return self.hook_phase is None and not (self.result and self.result.failed_validation)

    @property
    def running(self) -> bool:
        """Applied, and waiting for health (or for a hook to finish)."""
        return self.hook_phase in (HookPhase.RUNNING, HookPhase.TERMINATING)

    @property
    def completed(self) -> bool:
        """Finished, successfully or not."""
        return self.hook_phase in (HookPhase.SUCCEEDED, HookPhase.FAILED, HookPhase.ERROR)

    @property
    def successful(self) -> bool:
        """Finished successfully."""
        return self.hook_phase is HookPhase.SUCCEEDED

    @property
    def pruned(self) -> bool:
        """Deleted by this operation."""
        return self.result is not None and self.result.status is ResultCode.PRUNED

    @property
    def slot(self) -> tuple[SyncPhase, int]:
        """The (phase, wave) the task runs in."""
        return (self.phase, self.wave)

    def describe(self) -> str:
        """``group/kind/name``, as Argo's messages name a task."""
        return f"{self.key.group}/{self.key.kind}/{self.key.name}"


@dataclasses.dataclass(frozen=True)
class Plan:
    """The ordered tasks and those refused before anything ran."""

    tasks: tuple[Task, ...]
    invalid: tuple[ResourceResult, ...] = ()


def _find_live(
    live: Mapping[ResourceKey, Manifest], key: ResourceKey, namespace: str
) -> ResourceKey | None:
    """Look up a target's live object; unknown scope tries both keys so nothing is orphaned."""
    if key in live:
        return key
    other = dataclasses.replace(key, namespace="" if key.namespace else namespace)
    return other if other in live else None


def build(request: Request, observed: Observed) -> Plan:
    """Build the ordered tasks for one step, with the results recorded so far attached."""
    op_options = dataclasses.replace(
        request.options, force=True if request.force else request.options.force
    )
    invalid: list[ResourceResult] = []
    targets: dict[ResourceKey, Manifest] = {}
    hook_objs: list[tuple[Manifest, hooks.Classification]] = []
    skipped: list[ResourceKey] = []
    for obj in observed.desired:
        classification = hooks.classify(obj)
        if classification.role is hooks.Role.HOOK:
            hook_objs.append((obj, classification))
        elif classification.role is hooks.Role.RESOURCE:
            targets[ResourceKey.of(obj)] = obj  # the last duplicate wins, as in Argo CD
        elif classification.role is hooks.Role.SKIPPED:
            skipped.append(ResourceKey.of(obj))

    tasks = _resource_tasks(request, observed, targets, skipped, op_options, invalid)
    # Argo skips hooks for the apply strategy (rollbacks use it) and for selective syncs.
    if request.strategy is Strategy.HOOK and request.resources is None:
        for obj, classification in hook_objs:
            for phase in classification.sync_phases:
                task = _hook_task(request, observed, obj, phase, classification, op_options)
                tasks.append(_check_options(task, invalid))
    namespace_task = _namespace_task(request, observed, targets, hook_objs, op_options)
    if namespace_task is not None:
        tasks.append(namespace_task)

    tasks = _check_kinds(tasks, observed, [*targets.values(), *(o for o, _ in hook_objs)], invalid)
    tasks = _prune_waves(tasks)
    ordered = ordering.arrange(
        tasks,
        slot=lambda t: ordering.Slot(
            t.phase, t.wave, t.key.kind, t.key.name, (t.key.kind, t.key.group, t.key.namespace)
        ),
        target=lambda t: t.target,
        move=lambda t, phase, wave: dataclasses.replace(t, phase=phase, wave=wave),
    )
    return Plan(attach(ordered, observed.results), tuple(invalid))


def _resource_tasks(
    request: Request,
    observed: Observed,
    targets: Mapping[ResourceKey, Manifest],
    skipped: list[ResourceKey],
    op_options: sync_options.SyncOptions,
    invalid: list[ResourceResult],
) -> list[Task]:
    """Pair targets with live objects; live objects left over become prunes."""
    pool = dict(observed.live)
    ns = request.destination_namespace
    for key in skipped:
        found = _find_live(pool, key, ns)
        if found is not None:
            del pool[found]  # ``hook: Skip`` keeps its live object out of pruning too
    pairs: list[tuple[ResourceKey, Manifest | None, Manifest | None]] = []
    for key, target in targets.items():
        found = _find_live(pool, key, ns)
        pairs.append((key, target, pool.pop(found) if found is not None else None))
    for key, live in pool.items():
        # Live hooks (and skipped or ignored objects) are never pruned.
        if hooks.classify(live).role is hooks.Role.RESOURCE:
            pairs.append((key, None, live))
    selected = request.resources
    return [
        _task(key, SyncPhase.SYNC, target, live, op_options, invalid)
        for key, target, live in pairs
        if selected is None or key in selected
    ]


def attach(tasks: list[Task] | tuple[Task, ...], results: Results) -> tuple[Task, ...]:
    """The tasks with the recorded result of each attached (Argo keys by phase too)."""
    by_key = {result.result_key: result for result in results}
    return tuple(
        dataclasses.replace(t, result=by_key.get(result_key(t.key, t.phase))) for t in tasks
    )


def _task(
    key: ResourceKey,
    phase: SyncPhase,
    target: Manifest | None,
    live: Manifest | None,
    op_options: sync_options.SyncOptions,
    invalid: list[ResourceResult],
) -> Task:
    obj = target if target is not None else live
    assert obj is not None
    task = Task(key, phase, ordering.wave_of(obj), target, live, sync_options.Effective())
    task = dataclasses.replace(task, options=_options(task, op_options))
    return _check_options(task, invalid)


def _options(task: Task, op_options: sync_options.SyncOptions) -> sync_options.Effective:
    return sync_options.for_object(op_options, task.target, task.live)


def _check_options(task: Task, invalid: list[ResourceResult]) -> Task:
    """Record a task whose annotation names an option tether does not know."""
    for obj in (task.target, task.live):
        parsed = sync_options.of(obj)
        if isinstance(parsed, sync_options.OptionError):
            invalid.append(_refusal(task, parsed.message))
            break
    return task


def _refusal(task: Task, message: str) -> ResourceResult:
    return ResourceResult(
        task.key,
        task.phase,
        status=ResultCode.SYNC_FAILED,
        message=message,
        hook_type=task.phase if task.is_hook else None,
        version=resources.version_of(task.obj),
    )


def _hook_task(
    request: Request,
    observed: Observed,
    obj: Manifest,
    phase: SyncPhase,
    classification: hooks.Classification,
    op_options: sync_options.SyncOptions,
) -> Task:
    name = hooks.hook_name(
        obj, revision=request.revision, phase=phase, started_at=request.started_at
    )
    target = hooks.with_name_and_finalizer(obj, name)
    key = ResourceKey.of(target)
    live = observed.live.get(key)
    task = Task(key, phase, ordering.wave_of(obj), target, live, sync_options.Effective())
    task = dataclasses.replace(task, hook=classification)
    return dataclasses.replace(task, options=_options(task, op_options))


def _namespace_task(
    request: Request,
    observed: Observed,
    targets: Mapping[ResourceKey, Manifest],
    hook_objs: list[tuple[Manifest, hooks.Classification]],
    op_options: sync_options.SyncOptions,
) -> Task | None:
    """The synthetic destination Namespace of ``CreateNamespace=true``, in PreSync.

    Created when missing; applied when it exists only to keep ``managedNamespaceMetadata``
    in step (a namespace that exists is never deleted or otherwise touched).
    """
    ns = request.destination_namespace
    if not (ns and op_options.create_namespace):
        return None
    key = ResourceKey("", "Namespace", "", ns)
    declared = [*targets.values(), *(obj for obj, _ in hook_objs)]
    if any(ResourceKey.of(obj) == key for obj in declared):
        return None
    metadata = request.namespace_metadata
    recorded = any(r.key == key and r.sync_phase is SyncPhase.PRE_SYNC for r in observed.results)
    if observed.namespace_live is not None and not recorded and metadata is None:
        return None
    target = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}
    if metadata is not None:
        target["metadata"] = _managed_namespace_metadata(ns, metadata)
    # Argo applies the namespace with SSA whatever the operation says, to merge metadata: a
    # label or annotation left out of the next apply is removed, others' are kept.
    options = dataclasses.replace(sync_options.resolve(op_options), server_side_apply=True)
    return Task(
        key, SyncPhase.PRE_SYNC, 0, target, observed.namespace_live, options, synthetic=True
    )


def _managed_namespace_metadata(ns: str, metadata: ManagedNamespaceMetadata) -> dict[str, object]:
    """The namespace's metadata as Argo CD applies it, marked for server-side apply as there."""
    annotations = {**(metadata.annotations or {}), sync_options.ANNOTATION: "ServerSideApply=true"}
    out: dict[str, object] = {"name": ns, "annotations": annotations}
    if metadata.labels:
        out["labels"] = dict(metadata.labels)
    return out


def _check_kinds(
    tasks: list[Task], observed: Observed, declared: list[Manifest], invalid: list[ResourceResult]
) -> list[Task]:
    """Refuse kinds the server does not serve, unless their CRD comes with the sync."""
    if observed.server_kinds is None:
        return tasks
    crds = {dep for obj in declared if (dep := ordering.crd_kind(obj)) is not None}
    checked = []
    for task in tasks:
        gk = task.key.group_kind
        if task.is_prune or gk in observed.server_kinds:
            checked.append(task)
        elif task.options.skip_dry_run_on_missing_resource or gk in crds:
            checked.append(dataclasses.replace(task, skip_dry_run=True))
        else:
            invalid.append(_refusal(task, f"the server could not find the requested resource {gk}"))
            checked.append(task)
    return checked


def _prune_waves(tasks: list[Task]) -> list[Task]:
    """Prune in the reverse of apply order; ``PruneLast`` after every Sync-phase wave."""
    mirror = ordering.reversed_prune_waves([t.wave for t in tasks if t.is_prune])
    tasks = [dataclasses.replace(t, wave=mirror[t.wave]) if t.is_prune else t for t in tasks]
    # Argo starts from 0, so with only negative waves PruneLast lands in wave 1.
    last = max([0, *(t.wave for t in tasks if t.phase is SyncPhase.SYNC)]) + 1
    return [
        dataclasses.replace(t, wave=last) if t.is_prune and t.options.prune_last else t
        for t in tasks
    ]
