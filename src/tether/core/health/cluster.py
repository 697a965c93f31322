"""Health of cluster policy kinds: Namespace (tether's), PodDisruptionBudget and HPA (Argo CD's)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from tether.core.health import _read
from tether.core.health._rule import Rule, degraded, healthy, progressing, unknown
from tether.model import resources
from tether.model.resources import GroupKind
from tether.model.status import Health

HPA_CONDITIONS_ANNOTATION = "autoscaling.alpha.kubernetes.io/conditions"
"""Where autoscaling/v1 HPAs carry the conditions v2 has in ``status.conditions``."""

HPA_FAILURES: frozenset[tuple[str, str]] = frozenset(
    {
        # The autoscaler cannot read or write the target's scale subresource.
        ("AbleToScale", "FailedGetScale"),
        ("AbleToScale", "FailedUpdateScale"),
        # The autoscaler cannot read the metrics it scales on, or cannot use them.
        ("ScalingActive", "FailedGetResourceMetric"),
        ("ScalingActive", "FailedGetObjectMetric"),
        ("ScalingActive", "FailedGetPodsMetric"),
        ("ScalingActive", "FailedGetExternalMetric"),
        ("ScalingActive", "FailedComputeMetricsReplicas"),
        ("ScalingActive", "InvalidSelector"),
    }
)
"""(condition type, reason) pairs that mean an HPA is broken, whatever the condition status."""

HPA_WORKING = frozenset({"AbleToScale", "ScalingLimited"})
"""Condition types that, when True, show the autoscaler is doing its job."""

WAITING_TO_AUTOSCALE = "Waiting to Autoscale"


def namespace(obj: resources.Manifest) -> Health:
    """A Namespace is Healthy while Active and Progressing while it terminates (tether's rule).

    Argo CD gives Namespaces no health; tether does so that a wave creating a namespace waits for
    it, and so that a namespace stuck on finalizers shows up.
    """
    phase = _read.text(resources.status_of(obj), "phase")
    if phase == "Active":
        return healthy()
    if phase == "Terminating":
        return progressing("Namespace is terminating")
    return progressing("Waiting for the namespace to become Active")


def pod_disruption_budget(obj: resources.Manifest) -> Health:
    """A PDB is Degraded when a condition is False for a reason other than too few pods."""
    entries = _read.conditions(obj)
    if not entries:
        return progressing("Waiting for status")
    verdict = healthy()
    for entry in entries:
        reason = _read.text(entry, "reason")
        # InsufficientPods is a normal state for a PDB over a small or scaling workload (#20171).
        if entry.get("status") == "False" and reason != "InsufficientPods":
            return degraded(f"PodDisruptionBudget has {reason}")
        verdict = healthy(f"PodDisruptionBudget has {reason}")
    return verdict


def _hpa_conditions(entries: list[Mapping[str, Any]]) -> Health:
    """Judge HPA conditions: any known failure is Degraded, a working condition Healthy."""
    for entry in entries:
        if (_read.text(entry, "type"), _read.text(entry, "reason")) in HPA_FAILURES:
            return degraded(_read.text(entry, "message"))
    for entry in entries:
        if entry.get("type") in HPA_WORKING and entry.get("status") == "True":
            return healthy(_read.text(entry, "message"))
    return progressing(WAITING_TO_AUTOSCALE)


def _hpa_v1(obj: resources.Manifest) -> Health:
    """autoscaling/v1 keeps its conditions as JSON in an annotation."""
    raw = resources.annotations_of(obj).get(HPA_CONDITIONS_ANNOTATION)
    if raw is None:
        return progressing(WAITING_TO_AUTOSCALE)
    try:
        decoded = json.loads(raw)
    except (TypeError, ValueError) as error:
        return unknown(f"cannot read the {HPA_CONDITIONS_ANNOTATION} annotation: {error}")
    if decoded is None:
        return progressing(WAITING_TO_AUTOSCALE)  # JSON null decodes to no conditions in Go
    if not isinstance(decoded, list):
        return unknown(f"the {HPA_CONDITIONS_ANNOTATION} annotation is not a list")
    return _hpa_conditions([entry for entry in decoded if isinstance(entry, Mapping)])


def horizontal_pod_autoscaler(obj: resources.Manifest) -> Health:
    """An HPA is Healthy when able to scale, Degraded on known failures, else waiting."""
    version = resources.version_of(obj)
    if version == "v1":
        return _hpa_v1(obj)
    if version == "v2":
        return _hpa_conditions(_read.conditions(obj))
    return unknown(f"unsupported HorizontalPodAutoscaler API version {obj.get('apiVersion')!s}")


CHECKS: dict[GroupKind, Rule] = {
    GroupKind("", "Namespace"): Rule(namespace, "tether: namespaces gate the waves that use them"),
    GroupKind("policy", "PodDisruptionBudget"): Rule(pod_disruption_budget, "Argo CD bundled Lua"),
    # Versions are dispatched inside the check: v1 and v2 read conditions from different places.
    GroupKind("autoscaling", "HorizontalPodAutoscaler"): Rule(
        horizontal_pod_autoscaler, "Argo CD Go check"
    ),
}
