"""The order a sync applies things in: phase, then wave, then kind, then name (Argo CD's key).

Also the two adjustments Argo makes after sorting: Namespaces and CRDs move in front of their
first user, and prune tasks run their waves in reverse.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

from tether.model import resources
from tether.model.resources import Manifest
from tether.model.status import SyncPhase

WAVE_ANNOTATION = "argocd.argoproj.io/sync-wave"
HELM_WEIGHT_ANNOTATION = "helm.sh/hook-weight"

PHASE_RANK: dict[SyncPhase, int] = {
    SyncPhase.PRE_SYNC: -1,  # hooks that prepare (migrations) run before anything else
    SyncPhase.SYNC: 0,  # the resources themselves
    SyncPhase.POST_SYNC: 1,  # after every Sync-phase resource is healthy
    SyncPhase.SYNC_FAIL: 2,  # only after a failure, so last
    # Application deletion runs these on its own schedule; ranked for completeness.
    SyncPhase.PRE_DELETE: 3,
    SyncPhase.POST_DELETE: 4,
}

KIND_RANK: dict[str, int] = {
    # Helm's install order, which Argo CD reuses: each kind comes after what it depends on.
    "Namespace": 0,  # everything namespaced lives in one
    "NetworkPolicy": 1,  # isolate pods before any pod starts
    "ResourceQuota": 2,  # quotas must exist before the objects they limit
    "LimitRange": 3,  # defaults are stamped on pods at admission
    "PodSecurityPolicy": 4,  # admission policy before pods
    "PodDisruptionBudget": 5,  # protects pods as soon as they exist
    "ServiceAccount": 6,  # pods reference their service account
    "Secret": 7,  # mounted or referenced by pods
    "SecretList": 8,
    "ConfigMap": 9,  # mounted or referenced by pods
    "StorageClass": 10,  # claims bind through a class
    "PersistentVolume": 11,  # claims bind to volumes
    "PersistentVolumeClaim": 12,  # pods mount claims
    "CustomResourceDefinition": 13,  # custom resources need their type first
    "ClusterRole": 14,  # bindings reference roles
    "ClusterRoleList": 15,
    "ClusterRoleBinding": 16,
    "ClusterRoleBindingList": 17,
    "Role": 18,
    "RoleList": 19,
    "RoleBinding": 20,
    "RoleBindingList": 21,
    "Service": 22,  # DNS and env vars exist before the pods that use them
    "DaemonSet": 23,  # workloads, after everything they reference
    "Pod": 24,
    "ReplicationController": 25,
    "ReplicaSet": 26,
    "Deployment": 27,
    "HorizontalPodAutoscaler": 28,  # scales a workload that now exists
    "StatefulSet": 29,
    "Job": 30,
    "CronJob": 31,
    "IngressClass": 32,  # ingresses name their class
    "Ingress": 33,  # routes to services that now exist
    "APIService": 34,  # aggregated APIs are served by workloads above
}
"""Unlisted kinds (every custom resource, Applications, webhook configurations) sort after all
listed ones: ``UNLISTED_RANK``. Only the kind is compared, never the group, as in Argo CD."""

UNLISTED_RANK = len(KIND_RANK)


def _int(value: str) -> int | None:
    try:
        return int(value.strip())
    except ValueError:
        return None


def wave_of(obj: Manifest) -> int:
    """The sync wave: the sync-wave annotation, else Helm's hook weight, else 0."""
    for key in (WAVE_ANNOTATION, HELM_WEIGHT_ANNOTATION):
        wave = _int(resources.annotation(obj, key))
        if wave is not None:
            return wave
    return 0


def kind_rank(kind: str) -> int:
    """Where a kind sorts within one phase and wave."""
    return KIND_RANK.get(kind, UNLISTED_RANK)


@dataclasses.dataclass(frozen=True)
class Slot:
    """Where one task sits: its phase and wave, plus what breaks ties."""

    phase: SyncPhase
    wave: int
    kind: str
    name: str
    tiebreak: tuple[str, ...] = ()
    """Compared only when Argo's key ties (same kind rank and name): keeps steps deterministic
    where Argo would follow map order."""

    def sort_key(self) -> tuple[int, int, int, str, tuple[str, ...]]:
        """Argo's key: phase, wave, kind rank, then name as a plain string."""
        return (PHASE_RANK[self.phase], self.wave, kind_rank(self.kind), self.name, self.tiebreak)


T = TypeVar("T")


def _namespace_dep(obj: Manifest) -> str | None:
    if resources.group_of(obj) == "" and resources.kind_of(obj) == "Namespace":
        return resources.name_of(obj)
    return None


def _namespace_ref(obj: Manifest) -> str | None:
    return resources.namespace_of(obj) or None


def crd_kind(obj: Manifest) -> resources.GroupKind | None:
    """The group and kind a CRD defines; ``None`` for anything else."""
    if not is_crd(obj):
        return None
    spec = resources.spec_of(obj)
    names = spec.get("names")
    kind = names.get("kind") if isinstance(names, Mapping) else None
    group = spec.get("group")
    if isinstance(group, str) and isinstance(kind, str):
        return resources.GroupKind(group, kind)
    return None


def _crd_dep(obj: Manifest) -> str | None:
    defined = crd_kind(obj)
    return f"{defined.group}/{defined.kind}" if defined else None


def _crd_ref(obj: Manifest) -> str | None:
    return f"{resources.group_of(obj)}/{resources.kind_of(obj)}"


def is_crd(obj: Manifest) -> bool:
    """Whether an object is a CustomResourceDefinition."""
    return (
        resources.group_of(obj) == "apiextensions.k8s.io"
        and resources.kind_of(obj) == "CustomResourceDefinition"
    )


def arrange(
    items: Sequence[T],
    slot: Callable[[T], Slot],
    target: Callable[[T], Manifest | None],
    move: Callable[[T, SyncPhase, int], T],
) -> list[T]:
    """Sort items by slot, then hoist Namespaces and CRDs in front of their first user.

    Args:
        items: the tasks to order.
        slot: where an item sits before hoisting.
        target: the object an item applies; ``None`` for prunes, which are never hoisted.
        move: a copy of an item placed in another phase and wave; a hoisted dependency
            inherits its first user's, so a CRD in wave 5 still lands before its CR in wave 0.
    """
    ordered = sorted(items, key=lambda item: slot(item).sort_key())
    ordered = _hoist(ordered, slot, target, move, _namespace_dep, _namespace_ref)
    return _hoist(ordered, slot, target, move, _crd_dep, _crd_ref)


def _hoist(
    items: list[T],
    slot: Callable[[T], Slot],
    target: Callable[[T], Manifest | None],
    move: Callable[[T, SyncPhase, int], T],
    dep_key: Callable[[Manifest], str | None],
    ref_key: Callable[[Manifest], str | None],
) -> list[T]:
    result = list(items)
    first_user: dict[str, int] = {}
    for i in range(len(result)):
        obj = target(result[i])
        if obj is None:
            continue
        dep = dep_key(obj)
        if dep is not None:
            index = first_user.get(dep)
            if index is not None:
                user = slot(result[index])
                moved = move(result[i], user.phase, user.wave)
                result[index + 1 : i + 1] = result[index:i]
                result[index] = moved
                first_user = {k: v + 1 if v >= index else v for k, v in first_user.items()}
            continue
        ref = ref_key(obj)
        if ref is not None and ref not in first_user:
            first_user[ref] = i
    return result


def reversed_prune_waves(waves: Sequence[int]) -> dict[int, int]:
    """Map each prune wave to its mirror, so the last-applied wave is pruned first.

    The distinct waves are sorted and swapped symmetrically (lowest with highest, second
    with second-highest), which keeps prunes on the waves the app already uses.
    """
    distinct = sorted(set(waves))
    return dict(zip(distinct, reversed(distinct), strict=True))
