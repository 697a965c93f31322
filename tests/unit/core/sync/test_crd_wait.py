"""Custom resources wait for the CRD their sync brings, instead of failing and retrying."""

from __future__ import annotations

from tether.core.sync import actions as act, machine
from tether.model.resources import GroupKind
from tether.model.status import Health, HealthStatus, OperationPhase

from .factories import HEALTHY, PROGRESSING, World, crd, key, obj, request, writes

BASE_KINDS = frozenset(
    {GroupKind("", "ConfigMap"), GroupKind("apiextensions.k8s.io", "CustomResourceDefinition")}
)
WITH_FOO = BASE_KINDS | {GroupKind("x.io", "Foo")}

FOO_CRD = crd("x.io", "Foo")
FOO = obj("Foo", "f", api_version="x.io/v1", options="SkipDryRunOnMissingResource=true")
CM = obj("ConfigMap", "c")


def advance(world: World, desired: list[dict[str, object]], kinds: frozenset[GroupKind]):
    step = machine.advance(request(), world.observe(tuple(desired), server_kinds=kinds))
    world.results = step.results
    for action in step.actions:
        world.perform(action)
    return step


def test_a_custom_resource_is_applied_only_once_the_crd_of_its_sync_is_established() -> None:
    desired = [FOO_CRD, FOO, CM]
    world = World(ticks=2)
    first = advance(world, desired, BASE_KINDS)
    assert sorted(a.key.name for a in writes(first)) == ["c", "foos.x.io"]  # type: ignore[union-attr]
    assert not first.delay  # the wave goes on at once

    waiting = advance(world, desired, BASE_KINDS)
    assert writes(waiting) == []
    assert waiting.phase is OperationPhase.RUNNING
    assert waiting.message == "waiting for CustomResourceDefinition/foos.x.io to be established"
    assert any(isinstance(a, act.Wait) for a in waiting.actions)

    world.health[key(FOO_CRD)] = HEALTHY  # established, and discovery serves the kind
    released = advance(world, desired, WITH_FOO)
    assert [a.key.name for a in writes(released)] == ["f"]  # type: ignore[union-attr]


def test_a_degraded_crd_ends_the_wait_and_fails_the_sync_instead_of_waiting_forever() -> None:
    desired = [FOO_CRD, FOO]
    world = World(ticks=5)
    advance(world, desired, BASE_KINDS)
    world.health[key(FOO_CRD)] = Health(HealthStatus.DEGRADED, "CRD names were not accepted")
    step = advance(world, desired, BASE_KINDS)
    assert step.phase is OperationPhase.FAILED
    assert "established" not in step.message


def test_a_kind_whose_crd_is_not_in_the_sync_is_not_waited_for() -> None:
    world = World(ticks=2)
    step = advance(world, [FOO, CM], BASE_KINDS)
    assert sorted(a.key.name for a in writes(step)) == ["c", "f"]  # type: ignore[union-attr]


def test_a_crd_already_live_and_progressing_still_holds_its_resources() -> None:
    world = World(ticks=2)
    world.live[key(FOO_CRD)] = FOO_CRD
    world.health[key(FOO_CRD)] = PROGRESSING
    step = advance(world, [FOO_CRD, FOO], BASE_KINDS)
    assert [a.key.name for a in writes(step)] == ["foos.x.io"]  # type: ignore[union-attr]


def test_a_dry_run_operation_never_waits_for_a_crd() -> None:
    world = World()
    step = machine.advance(
        request(dry_run=True), world.observe((FOO_CRD, FOO), server_kinds=BASE_KINDS)
    )
    assert "established" not in step.message
