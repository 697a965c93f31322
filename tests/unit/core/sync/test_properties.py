"""Properties of whole syncs against a simulated cluster where every write succeeds."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings, strategies as st

from tether.core.sync import actions as act, ordering, plan
from tether.model.resources import Manifest, ResourceKey
from tether.model.status import OperationPhase, SyncPhase

from .factories import World, crd, drive, is_work, key, obj, request

WAVES = st.integers(min_value=-2, max_value=3)
NAMES = st.sampled_from(["a", "b", "c"])
NAMESPACES = st.sampled_from(["app", "team", "ops"])
KINDS = st.sampled_from(["ConfigMap", "Secret", "Deployment", "Service", "Foo", "Bar", "Job"])
CRDS = {"Foo": crd("example.com", "Foo"), "Bar": crd("example.com", "Bar")}
FAST = settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)


@st.composite
def apps(draw: st.DrawFn) -> tuple[list[dict[str, Any]], dict[ResourceKey, Manifest], int]:
    """Desired objects (some hooks, namespaces and CRDs), live orphans, and health ticks."""
    desired: dict[ResourceKey, dict[str, Any]] = {}
    for ns in draw(st.sets(st.sampled_from(["app", "team", "ops"]))):
        desired[key(obj("Namespace", ns, ""))] = obj("Namespace", ns, "", wave=draw(WAVES))
    for kind in draw(st.sets(st.sampled_from(sorted(CRDS)))):
        base = CRDS[kind]
        wave = draw(WAVES)
        desired[key(base)] = {
            **base,
            "metadata": {
                **base["metadata"],
                "annotations": {"argocd.argoproj.io/sync-wave": str(wave)},
            },
        }
    for kind, name, ns, wave in draw(
        st.lists(st.tuples(KINDS, NAMES, NAMESPACES, WAVES), max_size=6)
    ):
        manifest = obj(kind, name, ns, wave=wave)
        desired[key(manifest)] = manifest
    for phase, name, ns, wave in draw(
        st.lists(
            st.tuples(st.sampled_from(["PreSync", "Sync", "PostSync"]), NAMES, NAMESPACES, WAVES),
            max_size=3,
        )
    ):
        hook = obj("Pod", f"hook-{name}", ns, wave=wave, hook=phase)
        desired[key(hook)] = hook
    live: dict[ResourceKey, Manifest] = {}
    for kind, name, wave in draw(
        st.lists(
            st.tuples(st.sampled_from(["ConfigMap", "Secret", "Deployment"]), NAMES, WAVES),
            max_size=5,
        )
    ):
        orphan = obj(kind, f"old-{name}", "app", wave=wave)
        live[key(orphan)] = orphan
    return list(desired.values()), live, draw(st.integers(min_value=0, max_value=2))


def applied_order(run: Any) -> list[ResourceKey]:
    order: list[ResourceKey] = []
    for action in run.work():
        if isinstance(action, act.Apply | act.Create | act.Update) and action.key not in order:
            order.append(action.key)
    return order


@FAST
@given(apps())
def test_a_crd_comes_before_its_resources_and_a_namespace_before_what_lives_in_it(
    app: tuple[list[dict[str, Any]], dict[ResourceKey, Manifest], int],
) -> None:
    desired, live, ticks = app
    run = drive(request(prune=True), desired, World(live=dict(live), ticks=ticks))
    order = applied_order(run)
    position = {k: i for i, k in enumerate(order)}
    for manifest in desired:
        defined = ordering.crd_kind(manifest)
        if defined is not None:
            users = [k for k in order if k.group_kind == defined]
            assert all(position[key(manifest)] < position[u] for u in users)
        if manifest["kind"] == "Namespace":
            name = manifest["metadata"]["name"]
            users = [k for k in order if k.namespace == name]
            assert all(position[key(manifest)] < position[u] for u in users)


@FAST
@given(apps())
def test_pruning_runs_in_the_reverse_order_of_applying(
    app: tuple[list[dict[str, Any]], dict[ResourceKey, Manifest], int],
) -> None:
    desired, live, ticks = app
    run = drive(request(prune=True, allow_empty=True), desired, World(live=dict(live), ticks=ticks))
    pruned = [a.key for a in run.work() if isinstance(a, act.Prune)]
    assert set(pruned) == set(live)

    def apply_position(k: ResourceKey) -> tuple[Any, ...]:
        manifest = live[k]
        slot = ordering.Slot(
            SyncPhase.SYNC,
            ordering.wave_of(manifest),
            k.kind,
            k.name,
            (k.kind, k.group, k.namespace),
        )
        return slot.sort_key()

    assert pruned == sorted(pruned, key=apply_position, reverse=True)


@FAST
@given(apps())
def test_waves_never_interleave_within_a_step(
    app: tuple[list[dict[str, Any]], dict[ResourceKey, Manifest], int],
) -> None:
    desired, live, ticks = app
    req = request(prune=True, allow_empty=True)
    run = drive(req, desired, World(live=dict(live), ticks=ticks))
    for step, world in zip(run.steps, run.worlds, strict=True):
        tasks = plan.build(req, world.observe(tuple(desired))).tasks
        slot = {(t.key, t.phase): t.slot for t in tasks}
        slots = {slot[(a.key, a.phase)] for a in step.actions if is_work(a)}  # type: ignore[union-attr]
        assert len(slots) <= 1, step


@settings(FAST, max_examples=5)
@given(apps())
def test_a_sync_resumed_from_any_step_continues_exactly_as_it_would_have(
    app: tuple[list[dict[str, Any]], dict[ResourceKey, Manifest], int],
) -> None:
    desired, live, ticks = app
    req = request(prune=True, allow_empty=True)
    run = drive(req, desired, World(live=dict(live), ticks=ticks))
    assert run.final.phase is OperationPhase.SUCCEEDED
    for i, world in enumerate(run.worlds):
        resumed = drive(req, desired, world.snapshot())
        assert resumed.steps == run.steps[i:]


@FAST
@given(apps(), st.data())
def test_a_sync_interrupted_mid_step_does_the_same_work_in_the_same_order(
    app: tuple[list[dict[str, Any]], dict[ResourceKey, Manifest], int], data: st.DataObject
) -> None:
    desired, live, ticks = app
    req = request(prune=True, allow_empty=True)
    run = drive(req, desired, World(live=dict(live), ticks=ticks))
    busy = [i for i, s in enumerate(run.steps) if len(s.actions) > 1]
    if not busy:
        return
    i = data.draw(st.sampled_from(busy))
    cut = data.draw(st.integers(min_value=1, max_value=len(run.steps[i].actions) - 1))
    world = run.worlds[i].snapshot()
    step = run.steps[i]
    world.results = step.results
    done = step.actions[:cut]
    for action in done:
        world.perform(action)
    resumed = drive(req, desired, world)
    before = [a for s in run.steps[:i] for a in s.actions if is_work(a)]
    work = [*before, *(a for a in done if is_work(a)), *resumed.work()]
    assert work == run.work()
    assert resumed.final.phase is run.final.phase
