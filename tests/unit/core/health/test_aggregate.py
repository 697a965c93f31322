"""An Application's health from its resources, as Argo CD's setApplicationHealth computes it."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings, strategies as st

from tether.core import health
from tether.core.health import ResourceHealthInput
from tether.model.resources import Manifest, ResourceKey
from tether.model.status import HEALTH_SEVERITY, Health, HealthStatus

HEALTHY_DEPLOYMENT = {
    "observedGeneration": 1,
    "replicas": 1,
    "updatedReplicas": 1,
    "availableReplicas": 1,
}


def _deployment(
    name: str, *, status: dict[str, object] | None = None, **meta: object
) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": "ns", "generation": 1, **meta},
        "spec": {"replicas": 1},
        "status": HEALTHY_DEPLOYMENT if status is None else status,
    }


def _progressing(name: str, **meta: object) -> dict[str, Any]:
    return _deployment(name, status={"observedGeneration": 0}, **meta)


def _degraded_pod(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "ns"},
        "spec": {"restartPolicy": "Always"},
        "status": {"phase": "Failed"},
    }


def _live(obj: Manifest, *, is_self: bool = False) -> ResourceHealthInput:
    return ResourceHealthInput.assessed(obj, obj, is_self=is_self)


def _missing(obj: Manifest) -> ResourceHealthInput:
    return ResourceHealthInput.assessed(obj, None)


def _child_app(name: str, health_status: str) -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": name, "namespace": "argocd"},
        "status": {"health": {"status": health_status}, "sync": {"status": "Synced"}},
    }


def test_an_application_with_only_healthy_resources_is_healthy():
    verdict = health.aggregate([_live(_deployment("a")), _live(_deployment("b"))])
    assert verdict == Health(HealthStatus.HEALTHY)


def test_the_worst_status_wins_and_names_its_resource():
    verdict = health.aggregate(
        [_live(_deployment("a")), _live(_progressing("b")), _live(_degraded_pod("c"))]
    )
    assert verdict == Health(HealthStatus.DEGRADED, "Caused by Pod:ns/c")


def test_every_resource_with_the_worst_status_is_named_three_at_most():
    verdict = health.aggregate(
        [_live(_progressing(name)) for name in "abcde"] + [_live(_deployment("z"))]
    )
    assert verdict == Health(
        HealthStatus.PROGRESSING,
        "Caused by apps/Deployment:ns/a, apps/Deployment:ns/b, apps/Deployment:ns/c and 2 more",
    )


def test_a_better_status_found_later_does_not_change_the_causes():
    verdict = health.aggregate([_live(_progressing("a")), _live(_deployment("b"))])
    assert verdict == Health(HealthStatus.PROGRESSING, "Caused by apps/Deployment:ns/a")


def test_a_missing_resource_does_not_count_when_others_are_live():
    verdict = health.aggregate([_live(_deployment("a")), _missing(_deployment("b"))])
    assert verdict == Health(HealthStatus.HEALTHY)


def test_an_application_whose_resources_are_all_missing_is_missing():
    verdict = health.aggregate([_missing(_deployment("a")), _missing(_deployment("b"))])
    assert verdict == Health(HealthStatus.MISSING)


def test_an_application_without_resources_is_healthy():
    assert health.aggregate([]) == Health(HealthStatus.HEALTHY)


def test_the_health_recorded_for_a_missing_resource_is_not_read():
    unknown = ResourceHealthInput(
        ResourceKey("", "ConfigMap", "ns", "x"),
        target={"kind": "ConfigMap"},
        live=None,
        health=Health(HealthStatus.UNKNOWN),
    )
    assert health.aggregate([unknown]) == Health(HealthStatus.MISSING)


@pytest.mark.parametrize(
    "annotations",
    [
        {"argocd.argoproj.io/hook": "PostSync"},
        {"argocd.argoproj.io/hook": "PreDelete"},  # a hook of a type sync does not know: ignored
        {"helm.sh/hook": "post-install"},
        {"argocd.argoproj.io/ignore-healthcheck": "true"},
    ],
)
def test_hooks_ignored_resources_and_ignore_healthcheck_do_not_count(annotations: dict[str, str]):
    verdict = health.aggregate(
        [
            _live(_deployment("a")),
            _live(_degraded_pod("b") | {"metadata": {"name": "b", "annotations": annotations}}),
        ]
    )
    assert verdict == Health(HealthStatus.HEALTHY)


def test_a_helm_crd_install_annotation_is_not_a_hook():
    crd_install = _degraded_pod("b") | {
        "metadata": {"name": "b", "annotations": {"helm.sh/hook": "crd-install"}}
    }
    assert health.aggregate([_live(crd_install)]).status is HealthStatus.DEGRADED


def test_a_target_skipped_with_the_skip_hook_does_not_count():
    skipped = _degraded_pod("b") | {
        "metadata": {"name": "b", "annotations": {"argocd.argoproj.io/hook": "Skip"}}
    }
    assert health.aggregate([_live(skipped)]) == Health(HealthStatus.HEALTHY)


def test_a_live_object_with_a_skip_and_a_real_hook_type_is_a_hook():
    both = _degraded_pod("b") | {
        "metadata": {"name": "b", "annotations": {"argocd.argoproj.io/hook": "Skip, PreSync"}}
    }
    entry = ResourceHealthInput.assessed(None, both)
    assert health.aggregate([entry]) == Health(HealthStatus.HEALTHY)


def test_an_ignored_resource_still_counts_as_live_for_missing():
    ignored = _deployment("a", annotations={"argocd.argoproj.io/ignore-healthcheck": "true"})
    verdict = health.aggregate([_live(ignored), _missing(_deployment("b"))])
    assert verdict == Health(HealthStatus.HEALTHY)


def test_kinds_without_health_do_not_count():
    config_map = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}
    assert health.aggregate([_live(config_map)]) == Health(HealthStatus.HEALTHY)


def test_the_applications_own_object_does_not_judge_it():
    own = _child_app("root", "Degraded")
    assert health.aggregate([_live(own, is_self=True)]) == Health(HealthStatus.HEALTHY)


@pytest.mark.parametrize("status", ["Missing", "Unknown"])
def test_a_child_application_that_is_missing_or_unknown_is_ignored(status: str):
    child = ResourceHealthInput(
        ResourceKey("argoproj.io", "Application", "argocd", "child"),
        target=None,
        live=_child_app("child", status),
        health=Health(HealthStatus(status)),
    )
    assert health.aggregate([child]) == Health(HealthStatus.HEALTHY)


def test_a_degraded_child_application_degrades_its_parent():
    verdict = health.aggregate([_live(_child_app("istio", "Degraded"))])
    assert verdict == Health(
        HealthStatus.DEGRADED, "Caused by argoproj.io/Application:argocd/istio"
    )


def test_a_progressing_child_application_holds_its_parent_back():
    verdict = health.aggregate([_live(_child_app("istio", "Progressing"))])
    assert verdict.status is HealthStatus.PROGRESSING


def test_an_entry_needs_a_target_or_a_live_object():
    with pytest.raises(ValueError, match="target, a live object"):
        ResourceHealthInput.assessed(None, None)


@settings(max_examples=80, deadline=None)
@given(
    statuses=st.lists(
        st.sampled_from([s for s in HealthStatus if s is not HealthStatus.MISSING]), max_size=8
    )
)
def test_the_worst_live_status_always_wins_and_every_cause_has_it(statuses: list[HealthStatus]):
    entries = [
        ResourceHealthInput(
            ResourceKey("apps", "Deployment", "ns", f"d{index}"),
            target=None,
            live={"kind": "Deployment"},
            health=Health(status),
        )
        for index, status in enumerate(statuses)
    ]
    verdict = health.aggregate(entries)
    worst = max(statuses, key=HEALTH_SEVERITY.__getitem__, default=HealthStatus.HEALTHY)
    assert verdict.status is worst
    culprits = [index for index, status in enumerate(statuses) if status is worst]
    if worst is HealthStatus.HEALTHY:
        assert verdict.message == ""
    else:
        assert verdict.message.startswith(f"Caused by apps/Deployment:ns/d{culprits[0]}")
        assert verdict.message.count("apps/Deployment:") == min(len(culprits), 3)
