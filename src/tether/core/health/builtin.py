"""The table of built-in health rules, keyed by group and kind, gathered from each family module."""

from __future__ import annotations

from tether.core.health import (
    apiext,
    argo,
    batch,
    certmanager,
    cluster,
    kubeflow,
    networking,
    serving,
    storage,
    workloads,
)
from tether.core.health._rule import Rule
from tether.model.resources import GroupKind

FAMILIES = (
    workloads,
    batch,
    networking,
    storage,
    apiext,
    cluster,
    certmanager,
    serving,
    argo,
    kubeflow,
)

CHECKS: dict[GroupKind, Rule] = {
    group_kind: rule for family in FAMILIES for group_kind, rule in family.CHECKS.items()
}
"""Every built-in rule. Kinds absent here (ConfigMap, Secret, RBAC...) have no health."""
