"""Built-in rules beyond the golden fixtures: the rule table, odd inputs and robustness."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings, strategies as st

from tether.core import health
from tether.core.health import _read, apiext, builtin, lua
from tether.model.resources import GroupKind
from tether.model.status import Health, HealthStatus

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "status",
                    "spec",
                    "conditions",
                    "type",
                    "reason",
                    "message",
                    "phase",
                    "replicas",
                    "containerStatuses",
                    "state",
                    "waiting",
                    "terminated",
                    "health",
                    "sync",
                    "loadBalancer",
                    "ingress",
                    "readyReplicas",
                    "modelStatus",
                    "transitionStatus",
                    "updateStrategy",
                    "rollingUpdate",
                    "annotations",
                ]
            ),
            children,
            max_size=5,
        )
    ),
    max_leaves=20,
)


def test_every_rule_says_where_it_comes_from():
    for group_kind, rule in builtin.CHECKS.items():
        assert rule.why, group_kind


def test_the_table_covers_the_kinds_tether_promises():
    promised = {
        ("apps", "Deployment"),
        ("apps", "StatefulSet"),
        ("apps", "DaemonSet"),
        ("apps", "ReplicaSet"),
        ("", "Pod"),
        ("batch", "Job"),
        ("batch", "CronJob"),
        ("", "Service"),
        ("networking.k8s.io", "Ingress"),
        ("extensions", "Ingress"),
        ("", "PersistentVolumeClaim"),
        ("autoscaling", "HorizontalPodAutoscaler"),
        ("apiregistration.k8s.io", "APIService"),
        ("apiextensions.k8s.io", "CustomResourceDefinition"),
        ("", "Namespace"),
        ("policy", "PodDisruptionBudget"),
        ("cert-manager.io", "Certificate"),
        ("cert-manager.io", "Issuer"),
        ("cert-manager.io", "ClusterIssuer"),
        ("argoproj.io", "Application"),
        ("kubeflow.org", "Profile"),
        ("kubeflow.org", "Notebook"),
        ("kubeflow.org", "Experiment"),
        ("kubeflow.org", "Trial"),
        ("kubeflow.org", "Suggestion"),
        ("tensorboard.kubeflow.org", "Tensorboard"),
        ("kubeflow.org", "PVCViewer"),
        ("trainer.kubeflow.org", "TrainJob"),
        ("serving.kserve.io", "InferenceService"),
        ("serving.knative.dev", "Service"),
    }
    assert {GroupKind(*pair) for pair in promised} <= set(builtin.CHECKS)


@pytest.mark.parametrize("kind", ["ConfigMap", "Secret", "ServiceAccount"])
def test_kinds_without_a_rule_have_no_health(kind: str):
    assert health.assess({"apiVersion": "v1", "kind": kind, "metadata": {"name": "x"}}) is None


def test_a_deleting_crd_is_terminating_when_its_rule_runs():
    # assess() answers "Pending deletion" first; the rule keeps Argo CD's own check anyway.
    deleting = {"metadata": {"name": "x", "deletionTimestamp": "2026-01-01T00:00:00Z"}}
    assert apiext.custom_resource_definition(deleting) == Health(
        HealthStatus.PROGRESSING, "CRD is terminating"
    )


def test_a_job_ignores_condition_types_it_does_not_know():
    job = {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "status": {"conditions": [{"type": "FailureTarget", "status": "True"}]},
    }
    assert health.assess(job) == Health(HealthStatus.PROGRESSING)


def test_a_pdb_takes_the_message_of_its_last_condition():
    pdb = {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "status": {
            "conditions": [
                {"type": "A", "status": "True", "reason": "First"},
                {"type": "B", "status": "True", "reason": "Second"},
            ]
        },
    }
    assert health.assess(pdb) == Health(HealthStatus.HEALTHY, "PodDisruptionBudget has Second")


def test_a_pvc_viewer_whose_deployment_is_progressing_is_progressing():
    viewer = {
        "apiVersion": "kubeflow.org/v1alpha1",
        "kind": "PVCViewer",
        "status": {"ready": False, "conditions": [{"type": "Progressing", "status": "True"}]},
    }
    verdict = health.assess(viewer)
    assert verdict is not None
    assert verdict.status is HealthStatus.PROGRESSING


def test_a_knative_service_ignores_other_true_conditions():
    service = {
        "apiVersion": "serving.knative.dev/v1",
        "kind": "Service",
        "status": {
            "conditions": [
                {"type": "ConfigurationsReady", "status": "True"},
                {"type": "Ready", "status": "True"},
                {"type": "RoutesReady", "status": "True"},
                {"type": "Extra", "status": "True"},
            ]
        },
    }
    assert health.assess(service) == Health(HealthStatus.HEALTHY, "Knative Service is healthy")


@pytest.mark.parametrize(
    ("value", "expected"),
    [([1, 2], 2), ("ab", 0), (3, 0), (None, 0)],
)
def test_a_count_is_the_length_of_a_list_only(value: Any, expected: int):
    assert _read.count({"x": value}, "x") == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(3, 3), (3.0, 3), (3.5, None), (True, None), ("3", None)],
)
def test_integers_are_whole_numbers_that_are_not_booleans(value: Any, expected: int | None):
    assert _read.optional_int({"x": value}, "x") == expected


def test_items_keep_mappings_only():
    assert _read.items({"x": [{"a": 1}, "b", 3]}, "x") == [{"a": 1}]
    assert _read.items({"x": "text"}, "x") == []


def test_finalizers_keep_strings_only():
    assert _read.finalizers({"metadata": {"finalizers": ["a", 1]}}) == ["a"]
    assert _read.finalizers({"metadata": {"finalizers": "a"}}) == []


def test_a_runtime_without_room_for_the_sandbox_is_unknown():
    script = lua.LuaHealthScript("example.com/Widget", "return nil")
    verdict = lua.run(script, {"kind": "Widget"}, memory_limit=1)
    assert verdict is not None
    assert verdict.status is HealthStatus.UNKNOWN
    assert "not enough memory" in verdict.message


def test_an_exact_script_matches_only_its_own_key():
    script = lua.LuaHealthScript("apps/Deployment", "return nil")
    assert script.matches("apps/Deployment")
    assert not script.matches("apps/DaemonSet")


@settings(max_examples=60, deadline=None)
@given(body=st.dictionaries(st.sampled_from(["spec", "status", "metadata"]), JSON, max_size=3))
def test_no_rule_fails_on_malformed_objects(body: dict[str, Any]):
    for group_kind, rule in builtin.CHECKS.items():
        obj = {**body, "apiVersion": f"{group_kind.group}/v1".lstrip("/"), "kind": group_kind.kind}
        verdict = rule.assess(obj)
        assert isinstance(verdict, Health)
        assert isinstance(verdict.message, str)
        judged = health.assess(obj)
        assert judged is None or isinstance(judged, Health)
