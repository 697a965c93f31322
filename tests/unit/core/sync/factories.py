"""Objects and a tiny simulated cluster for driving the sync state machine in unit tests."""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from tether.core.sync import actions as act, hooks, machine, plan
from tether.core.sync.results import Results, record
from tether.model.resources import Manifest, ResourceKey
from tether.model.status import Health, HealthStatus, OperationPhase

START = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
HEALTHY = Health(HealthStatus.HEALTHY)
PROGRESSING = Health(HealthStatus.PROGRESSING, "rolling out")
DEGRADED = Health(HealthStatus.DEGRADED, "crash loop")

API_VERSIONS = {
    "Namespace": "v1",
    "ConfigMap": "v1",
    "Secret": "v1",
    "Service": "v1",
    "Pod": "v1",
    "Deployment": "apps/v1",
    "Job": "batch/v1",
    "ClusterRole": "rbac.authorization.k8s.io/v1",
    "CustomResourceDefinition": "apiextensions.k8s.io/v1",
}


def obj(
    kind: str,
    name: str,
    namespace: str = "app",
    *,
    api_version: str | None = None,
    wave: int | None = None,
    hook: str | None = None,
    options: str | None = None,
    annotations: Mapping[str, str] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A manifest; ``hook`` and ``options`` fill the Argo annotations."""
    notes = dict(annotations or {})
    if wave is not None:
        notes["argocd.argoproj.io/sync-wave"] = str(wave)
    if hook is not None:
        notes["argocd.argoproj.io/hook"] = hook
    if options is not None:
        notes["argocd.argoproj.io/sync-options"] = options
    metadata: dict[str, Any] = {"name": name}
    if namespace:
        metadata["namespace"] = namespace
    if notes:
        metadata["annotations"] = notes
    return {
        "apiVersion": api_version or API_VERSIONS.get(kind, "example.com/v1"),
        "kind": kind,
        "metadata": metadata,
        **extra,
    }


def crd(group: str, kind: str, **kw: Any) -> dict[str, Any]:
    """A CustomResourceDefinition for ``group/kind``."""
    return obj(
        "CustomResourceDefinition",
        f"{kind.lower()}s.{group}",
        "",
        spec={"group": group, "names": {"kind": kind}},
        **kw,
    )


def key(manifest: Manifest) -> ResourceKey:
    """The manifest's key."""
    return ResourceKey.of(manifest)


def request(**kw: Any) -> plan.Request:
    """A request with the test defaults."""
    kw.setdefault("revision", "0123456789abcdef")
    kw.setdefault("started_at", START)
    kw.setdefault("destination_namespace", "app")
    return plan.Request(**kw)


def observed(desired: list[dict[str, Any]] | tuple[Manifest, ...], **kw: Any) -> plan.Observed:
    """An observation at START + 1 s with the test defaults."""
    kw.setdefault("live", {})
    kw.setdefault("now", START + timedelta(seconds=1))
    return plan.Observed(tuple(desired), **kw)


def writes(step: machine.Step) -> list[act.Action]:
    """The actions of a step that write or delete objects (not cleanup, not waits)."""
    return [a for a in step.actions if is_work(a)]


def is_work(action: act.Action) -> bool:
    """Wave work: applies, prunes and BeforeHookCreation deletes."""
    if isinstance(action, act.DeleteHook):
        return action.reason is act.DeleteReason.BEFORE_CREATION
    return isinstance(action, act.Apply | act.Create | act.Update | act.Prune)


@dataclasses.dataclass
class World:
    """A deterministic fake cluster: every write succeeds and turns healthy after ``ticks``."""

    live: dict[ResourceKey, Manifest] = dataclasses.field(default_factory=dict)
    health: dict[ResourceKey, Health | None] = dataclasses.field(default_factory=dict)
    pending: dict[ResourceKey, int] = dataclasses.field(default_factory=dict)
    results: Results = ()
    ticks: int = 0
    fail: Callable[[act.Action], str | None] = lambda _action: None
    namespace_live: Manifest | None = None
    desired_keys: frozenset[ResourceKey] = frozenset()

    def snapshot(self) -> World:
        """A deep copy to restart from."""
        return dataclasses.replace(
            self,
            live=copy.deepcopy(self.live),
            health=dict(self.health),
            pending=dict(self.pending),
            namespace_live=copy.deepcopy(self.namespace_live),
        )

    def observe(self, desired: tuple[Manifest, ...], **kw: Any) -> plan.Observed:
        """What the machine sees now."""
        return plan.Observed(
            desired,
            live=dict(self.live),
            now=START + timedelta(seconds=1),
            results=self.results,
            health=dict(self.health),
            namespace_live=self.namespace_live,
            **kw,
        )

    def tick(self) -> None:
        """Time passes: progressing objects come closer to healthy."""
        for k in list(self.pending):
            self.pending[k] -= 1
            if self.pending[k] <= 0:
                del self.pending[k]
                if k in self.live:
                    self.health[k] = HEALTHY

    def perform(self, action: act.Action) -> None:
        """Do one action and record its outcome."""
        error = self.fail(action)
        if error is None:
            self._do(action)
        if not isinstance(action, act.Wait):
            outcome = act.Outcome(error is None, error or "done")
            self.results = record(self.results, action, outcome)

    def _do(self, action: act.Action) -> None:
        if isinstance(action, act.Apply | act.Create | act.Update):
            if action.dry_run:
                return
            if action.key.kind == "Namespace" and action.key not in self.desired_keys:
                self.namespace_live = action.manifest
                return
            self.live[action.key] = action.manifest
            if self.ticks:
                self.health[action.key] = PROGRESSING
                self.pending[action.key] = self.ticks
            else:
                self.health[action.key] = HEALTHY
        elif isinstance(action, act.Prune | act.DeleteHook):
            self.live.pop(action.key, None)
            self.health.pop(action.key, None)
        elif isinstance(action, act.RemoveHookFinalizer):
            current = self.live[action.key]
            meta = dict(current["metadata"])
            meta["finalizers"] = [f for f in meta.get("finalizers", []) if f != hooks.FINALIZER]
            self.live[action.key] = {**current, "metadata": meta}


@dataclasses.dataclass
class Run:
    """A recorded drive: the steps and the world before each of them."""

    steps: list[machine.Step]
    worlds: list[World]

    @property
    def final(self) -> machine.Step:
        """The last step."""
        return self.steps[-1]

    def work(self) -> list[act.Action]:
        """Every wave-work action, in order."""
        return [a for step in self.steps for a in writes(step)]


def drive(
    req: plan.Request,
    desired: list[dict[str, Any]] | tuple[Manifest, ...],
    world: World | None = None,
    *,
    max_steps: int = 200,
    **observe: Any,
) -> Run:
    """Run the machine to completion against a world, recording every step."""
    world = world or World()
    desired = tuple(desired)
    world.desired_keys = frozenset(ResourceKey.of(d) for d in desired)
    steps: list[machine.Step] = []
    worlds: list[World] = []
    for _ in range(max_steps):
        worlds.append(world.snapshot())
        step = machine.advance(req, world.observe(desired, **observe))
        steps.append(step)
        world.results = step.results
        failed = False
        for check in step.checks:
            error = world.fail(check)
            if error is not None:
                failed = True
                world.results = record(world.results, check, act.Outcome(False, error))
        if not failed:
            for action in step.actions:
                world.perform(action)
        if step.phase.completed:
            return Run(steps, worlds)
        world.tick()
    raise AssertionError(f"no end after {max_steps} steps: {steps[-1]}")


def phase_of(run: Run) -> OperationPhase:
    """The final phase of a run."""
    return run.final.phase
