"""Deleting an Application, one step at a time, in the order Argo CD's finalizers give.

PreDelete hooks run first and must succeed; then the cascade deletes the app's resources,
highest sync wave first; then PostDelete hooks run; then the hooks of each deletion phase are
cleaned up by their delete policy. Each stage ends by removing its finalizer, so the stage a
deletion is in survives a restart. Every step also releases the objects a sync left holding the
hook finalizer: once the app is being deleted, the sync they belonged to never finishes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, datetime

from tether.core.app import policy
from tether.core.sync import actions as act, hooks, options as sync_options, ordering
from tether.model import resources, timestamps
from tether.model.application import (
    CASCADE_FINALIZERS,
    CLEANUP,
    DELETION_HOOK_FINALIZERS,
    GROUP,
    KIND,
    Application,
)
from tether.model.clusters import ClusterEntry
from tether.model.project import AppProject
from tether.model.resources import Manifest, ResourceKey
from tether.model.status import Health, HealthStatus, SyncPhase, is_worse

NEVER_DELETED_KINDS = frozenset(
    {
        # CRDs carry no tracking and deleting one deletes every instance cluster-wide.
        ("apiextensions.k8s.io", "CustomResourceDefinition"),
    }
)

WAIT_S = 1.0
"""How soon to look again while objects are still going away."""

HOOK_WAIT_S = 5.0
"""How soon to look again while deletion hooks run (their own changes wake the app sooner)."""

CONFIRM_WAIT_S = 5.0
"""How soon to look again while ``Delete=confirm`` resources wait for an approval (the
approval's annotation also wakes the app at once)."""

FAILED_HOOK_WAIT_S = 10.0
"""How soon a failed deletion hook is run again (Argo CD deletes it, and retries)."""

PHASES = (SyncPhase.PRE_DELETE, SyncPhase.POST_DELETE)

ERROR_PREFIXES = {
    # How Argo CD's DeletionError begins when a phase's hooks cannot run or failed.
    SyncPhase.PRE_DELETE: "error executing pre-delete hooks: ",
    SyncPhase.POST_DELETE: "",
}

_NO_START = datetime.fromtimestamp(0, UTC)
"""Stands in for the deletion's start, which a deleting app always has, so names stay total."""


@dataclasses.dataclass(frozen=True)
class Observed:
    """A deleting app, and what is true now."""

    app: Application
    project: AppProject
    cluster: ClusterEntry
    """The cluster the app deploys to (what the project and its Secret let tether touch)."""
    live: Mapping[ResourceKey, Manifest]
    """The app's managed live objects there (those its tracking names)."""
    health: Mapping[ResourceKey, Health | None]
    """Health of the live objects; ``None`` (or missing) counts as Healthy, as in Argo CD."""
    desired: Sequence[Manifest] | None = None
    """The rendered objects (hooks included) when a hook stage runs (:func:`needs_desired`);
    ``None`` when rendering failed."""
    unknown_because: str = ""
    """Why ``desired`` is unknown."""
    named: Mapping[ResourceKey, Manifest] = dataclasses.field(default_factory=dict)
    """Live objects found under the names of the deletion hooks (:func:`expected_hooks`), so a
    hook created moments ago counts even before it shows up as the app's."""


@dataclasses.dataclass(frozen=True)
class Step:
    """What to do now, and when to look again."""

    actions: tuple[act.Action, ...] = ()
    finalizers: tuple[str, ...] | None = None
    """The app's finalizers to write after the actions; ``None``: unchanged."""
    error: str | None = ""
    """Why the deletion is stuck (the app's ``DeletionError``); "" clears it, ``None`` leaves it
    as it is (hooks run again after a failure: the failure is still the story)."""
    wait: float | None = WAIT_S
    """Seconds until the next step; ``None`` when nothing is left for tether to do."""
    note: str = ""
    """What the step waits for, for the log."""


def needs_desired(app: Application) -> bool:
    """Whether the next step may run deletion hooks, and so needs the app rendered."""
    return any(f in DELETION_HOOK_FINALIZERS.values() for f in app.metadata.finalizers or [])


def kept_finalizers(
    finalizers: Sequence[str], desired: Sequence[Manifest]
) -> tuple[str, ...] | None:
    """A living app's finalizers with those of its deletion hooks, or ``None`` when unchanged.

    As Argo CD does on every comparison: the app holds a phase's finalizer (and its cleanup
    form) exactly while its Git has hooks of that phase.
    """
    phases = {phase for obj in desired for phase in _hook_phases(obj)}
    updated = list(finalizers)
    for phase, name in DELETION_HOOK_FINALIZERS.items():
        for finalizer in (name, name + CLEANUP):
            if phase in phases and finalizer not in updated:
                updated.append(finalizer)
            elif phase not in phases and finalizer in updated:
                updated.remove(finalizer)
    return None if updated == list(finalizers) else tuple(updated)


def expected_hooks(
    app: Application, desired: Sequence[Manifest], phase: SyncPhase
) -> dict[ResourceKey, Manifest]:
    """The phase's hooks as the deletion creates them, by key.

    A ``generateName`` hook is named from the deletion's start, so every step (and a restarted
    controller) finds the one object it created (Argo CD created one more on every step).
    """
    started = timestamps.parse(app.metadata.deletion_timestamp) or _NO_START
    expected: dict[ResourceKey, Manifest] = {}
    for obj in desired:
        if phase in _hook_phases(obj):
            name = hooks.hook_name(obj, revision="", phase=phase, started_at=started)
            target = hooks.with_name(obj, name)
            expected[ResourceKey.of(target)] = target
    return expected


def advance(observed: Observed) -> Step:
    """The next step of deleting ``observed.app``."""
    app = observed.app
    finalizers = list(app.metadata.finalizers or [])
    release = tuple(
        act.RemoveHookFinalizer(key, SyncPhase.SYNC)
        for key, obj in observed.live.items()
        if hooks.has_finalizer(obj)
    )
    step = _stage(observed, _permitted(observed, observed.live), finalizers)
    return dataclasses.replace(step, actions=(*release, *step.actions))


def _stage(observed: Observed, live: Mapping[ResourceKey, Manifest], finalizers: list[str]) -> Step:
    """The step of the first stage whose finalizer the app still holds."""
    pre, post = (DELETION_HOOK_FINALIZERS[phase] for phase in PHASES)
    cascade = [f for f in finalizers if f in CASCADE_FINALIZERS]
    if pre in finalizers:
        return _run_hooks(observed, live, SyncPhase.PRE_DELETE) or _without(finalizers, [pre])
    if cascade:
        propagation = CASCADE_FINALIZERS[cascade[0]]
        return _cascade(observed, live, propagation) or _without(finalizers, cascade)
    if post in finalizers:
        return _run_hooks(observed, live, SyncPhase.POST_DELETE) or _without(finalizers, [post])
    for phase in PHASES:
        cleanup = DELETION_HOOK_FINALIZERS[phase] + CLEANUP
        if cleanup in finalizers:
            return _clean_up(observed, live, phase) or _without(finalizers, [cleanup])
    return Step(wait=None)  # none of ours: Kubernetes deletes the app when the others are done


def _without(finalizers: Sequence[str], done: Collection[str]) -> Step:
    """The stage is over: drop its finalizers; the next stage runs once the write is seen."""
    return Step(finalizers=tuple(f for f in finalizers if f not in done))


def _permitted(
    observed: Observed, live: Mapping[ResourceKey, Manifest]
) -> dict[ResourceKey, Manifest]:
    """The objects the deletion may act on: not the app itself, nor beyond its project.

    An object in a namespace or of a kind the project does not reach is left alone.
    """
    app = observed.app
    own = ResourceKey(GROUP, KIND, app.namespace, app.name)
    return {
        key: obj
        for key, obj in live.items()
        if key != own
        and not policy.resource_problem(observed.project, key, cluster=observed.cluster)
    }


def _hook_phases(obj: Manifest) -> tuple[SyncPhase, ...]:
    classification = hooks.classify(obj)
    return classification.phases if classification.role is hooks.Role.HOOK else ()


def _status(observed: Observed, key: ResourceKey) -> HealthStatus:
    verdict = observed.health.get(key)
    return HealthStatus.HEALTHY if verdict is None else verdict.status


def _of_phase(
    live: Mapping[ResourceKey, Manifest], phase: SyncPhase
) -> dict[ResourceKey, Manifest]:
    return {key: obj for key, obj in live.items() if phase in _hook_phases(obj)}


def _describe(keys: Sequence[ResourceKey]) -> str:
    return ", ".join(f"{key.namespace}/{key.name}" for key in keys)


def _run_hooks(
    observed: Observed, live: Mapping[ResourceKey, Manifest], phase: SyncPhase
) -> Step | None:
    """Create the phase's hooks, then wait for them; ``None`` once every one is done.

    A failed hook is deleted, so the next attempt creates it again (from Git as it is then),
    and the deletion stays where it is with a ``DeletionError``.
    """
    prefix = ERROR_PREFIXES[phase]
    if observed.desired is None:
        reason = observed.unknown_because or "the desired state is unknown"
        return Step(error=prefix + reason, wait=FAILED_HOOK_WAIT_S)
    running = _of_phase({**live, **_permitted(observed, observed.named)}, phase)
    expected = expected_hooks(observed.app, observed.desired, phase)
    missing = [(key, obj) for key, obj in expected.items() if key not in running]
    if missing:
        creates = tuple(act.Create(key, phase, obj, hook=True) for key, obj in missing)
        note = f"creating {len(missing)} {phase.value} hooks"
        return Step(creates, error=None, wait=HOOK_WAIT_S, note=note)
    failed = [key for key in running if _status(observed, key) is HealthStatus.DEGRADED]
    if failed:
        retry = tuple(
            act.DeleteHook(key, phase, act.DeleteReason.BEFORE_CREATION)
            for key in failed
            if not resources.is_being_deleted(running[key])
        )
        message = f"{prefix}{phase.value} hook(s) failed: {_describe(failed)}"
        return Step(retry, error=message, wait=FAILED_HOOK_WAIT_S)
    progressing = [key for key in running if _status(observed, key) is HealthStatus.PROGRESSING]
    if progressing:
        note = f"waiting for {len(progressing)} {phase.value} hooks: {_describe(progressing)}"
        return Step(error=None, wait=HOOK_WAIT_S, note=note)
    return None


def _clean_up(
    observed: Observed, live: Mapping[ResourceKey, Manifest], phase: SyncPhase
) -> Step | None:
    """Delete the phase's hooks their policy deletes; ``None`` once none is left to go.

    As in Argo CD, the policies read the hooks' worst health together: ``HookSucceeded`` ones
    go when all are Healthy, ``HookFailed`` ones when one is Degraded, the rest stay.
    """
    found = _of_phase(live, phase)
    worst = HealthStatus.HEALTHY
    for key in found:
        if is_worse(_status(observed, key), worst):
            worst = _status(observed, key)
    deleting = {
        HealthStatus.HEALTHY: hooks.DeletePolicy.HOOK_SUCCEEDED,
        HealthStatus.DEGRADED: hooks.DeletePolicy.HOOK_FAILED,
    }.get(worst)
    going = [key for key, obj in found.items() if deleting in hooks.delete_policies(obj)]
    if not going:
        return None
    deletes = tuple(
        act.DeleteHook(key, phase, act.DeleteReason.POLICY)
        for key in going
        if not resources.is_being_deleted(found[key])
    )
    return Step(deletes, note=f"deleting {len(going)} {phase.value} hooks")


def _cascade(
    observed: Observed, live: Mapping[ResourceKey, Manifest], propagation: str
) -> Step | None:
    """Delete the app's resources, highest wave first; ``None`` once none is left.

    CRDs, ``Delete=false`` and Helm's ``resource-policy: keep`` stay; ``Delete=confirm`` ones
    wait for an approval given after the deletion began, and the app with them.
    """
    approved = _approved(observed.app)
    candidates: list[tuple[ResourceKey, Manifest]] = []
    unconfirmed: list[ResourceKey] = []
    for key, obj in live.items():
        if (key.group, key.kind) in NEVER_DELETED_KINDS:
            continue
        mode = _delete_mode(obj)
        if mode is sync_options.DeleteMode.DISABLED:
            continue
        if mode is sync_options.DeleteMode.CONFIRM and not approved:
            unconfirmed.append(key)
            continue
        candidates.append((key, obj))
    if any(resources.is_being_deleted(obj) for _, obj in candidates):
        return Step(note="waiting for resources to be deleted")
    if candidates:
        top = max(ordering.wave_of(obj) for _, obj in candidates)
        how = sync_options.Propagation(propagation)
        deletes = tuple(
            act.Prune(key, SyncPhase.SYNC, how)
            for key, obj in candidates
            if ordering.wave_of(obj) == top
        )
        return Step(deletes, note=f"deleting {len(deletes)} resources of wave {top}")
    if unconfirmed:
        # Argo CD's Delete=confirm: the Application stays until someone approves.
        note = (
            f"waiting for deletion confirmation of {len(unconfirmed)} resources (first "
            f"{unconfirmed[0]}): tether app confirm-deletion {observed.app.name}"
        )
        return Step(wait=CONFIRM_WAIT_S, note=note)
    return None


def _delete_mode(obj: Manifest) -> sync_options.DeleteMode:
    """``Delete=`` of a managed object; Helm's ``resource-policy: keep`` counts as false.

    An annotation that does not parse keeps the object: what it meant is unknown, and unknown
    is never a reason to delete.
    """
    if resources.annotation(obj, "helm.sh/resource-policy") == "keep":
        return sync_options.DeleteMode.DISABLED
    parsed = sync_options.of(obj)
    if isinstance(parsed, sync_options.OptionError):
        return sync_options.DeleteMode.DISABLED
    return parsed.delete or sync_options.DeleteMode.ENABLED


def _approved(app: Application) -> bool:
    """Whether ``Delete=confirm`` deletions were approved after this deletion began."""
    approved = app.deletion_approved_at
    began = timestamps.parse(app.metadata.deletion_timestamp)
    return approved is not None and (began is None or approved >= began)
