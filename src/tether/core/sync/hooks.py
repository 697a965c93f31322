"""Hooks: which objects are Argo CD or Helm hooks, for which phases, and when they are deleted.

Also the deterministic name a ``generateName``-only hook gets for one operation (or for the
Application's deletion), and how such objects are told apart before they have a name.
"""

from __future__ import annotations

import dataclasses
import enum
from datetime import datetime

from tether.model import resources
from tether.model.resources import Manifest, ResourceKey
from tether.model.status import SyncPhase

HOOK_ANNOTATION = "argocd.argoproj.io/hook"
DELETE_POLICY_ANNOTATION = "argocd.argoproj.io/hook-delete-policy"
HELM_HOOK_ANNOTATION = "helm.sh/hook"
HELM_DELETE_POLICY_ANNOTATION = "helm.sh/hook-delete-policy"
FINALIZER = "argocd.argoproj.io/hook-finalizer"
"""Keeps a hook's object readable until tether has recorded its outcome (Argo's finalizer)."""

SKIP = "Skip"


class Role(enum.Enum):
    """What an object is to a sync."""

    RESOURCE = "resource"
    """A plain managed object: applied in the Sync phase, pruned when it leaves Git."""
    HOOK = "hook"
    """Run in the listed phases; never pruned."""
    SKIPPED = "skipped"
    """``hook: Skip`` alone: never applied, never pruned."""
    IGNORED = "ignored"
    """A hook annotation with no type tether knows: left out entirely, as Argo does."""


class DeletePolicy(enum.Enum):
    """When a hook's object is deleted."""

    HOOK_SUCCEEDED = "HookSucceeded"
    HOOK_FAILED = "HookFailed"
    BEFORE_HOOK_CREATION = "BeforeHookCreation"


ARGO_TYPES: dict[str, SyncPhase] = {
    "PreSync": SyncPhase.PRE_SYNC,  # before any resource is applied (migrations, backups)
    "Sync": SyncPhase.SYNC,  # with the resources, ordered by wave like them
    "PostSync": SyncPhase.POST_SYNC,  # after every Sync-phase resource is healthy
    "SyncFail": SyncPhase.SYNC_FAIL,  # only when the sync failed (cleanup, alerts)
    "PreDelete": SyncPhase.PRE_DELETE,  # only while the Application is being deleted
    "PostDelete": SyncPhase.POST_DELETE,  # after the Application's resources are gone
}

HELM_TYPES: dict[str, SyncPhase] = {
    # Helm's install and upgrade are both "a sync" to Argo CD.
    "pre-install": SyncPhase.PRE_SYNC,
    "pre-upgrade": SyncPhase.PRE_SYNC,
    "post-install": SyncPhase.POST_SYNC,
    "post-upgrade": SyncPhase.POST_SYNC,
    # Only Application deletion runs these.
    "pre-delete": SyncPhase.PRE_DELETE,
    "post-delete": SyncPhase.POST_DELETE,
    # pre/post-rollback and test have no Argo equivalent: such a hook has no type and is ignored.
}

HELM_CRD_INSTALL = "crd-install"
"""Helm 2's marker for CRDs: a plain resource to Argo CD, not a hook."""

HELM_DELETE_POLICIES: dict[str, DeletePolicy] = {
    "before-hook-creation": DeletePolicy.BEFORE_HOOK_CREATION,
    "hook-succeeded": DeletePolicy.HOOK_SUCCEEDED,
    "hook-failed": DeletePolicy.HOOK_FAILED,
}

DEFAULT_DELETE_POLICIES = frozenset({DeletePolicy.BEFORE_HOOK_CREATION})
"""Argo's default: a re-run replaces the previous run's object, and the last run stays visible."""

SYNC_PHASES = (SyncPhase.PRE_SYNC, SyncPhase.SYNC, SyncPhase.POST_SYNC, SyncPhase.SYNC_FAIL)
"""The phases a sync operation runs; deletion phases belong to Application deletion."""


@dataclasses.dataclass(frozen=True)
class Classification:
    """An object's role, the phases it runs in (hooks only) and its delete policies."""

    role: Role
    phases: tuple[SyncPhase, ...] = ()
    delete_policies: frozenset[DeletePolicy] = frozenset()

    @property
    def sync_phases(self) -> tuple[SyncPhase, ...]:
        """The phases a sync operation runs this hook in (deletion phases left out)."""
        return tuple(phase for phase in self.phases if phase in SYNC_PHASES)


def _csv(value: str) -> list[str]:
    seen: list[str] = []
    for item in value.split(","):
        item = item.strip()
        if item and item not in seen:
            seen.append(item)
    return seen


def classify(obj: Manifest) -> Classification:
    """Classify one object; Argo's annotation wins over Helm's when both are present."""
    annotations = resources.annotations_of(obj)
    if HOOK_ANNOTATION in annotations:
        types = _csv(resources.annotation(obj, HOOK_ANNOTATION))
        if types == [SKIP]:
            return Classification(Role.SKIPPED)
        phases = tuple(ARGO_TYPES[t] for t in types if t in ARGO_TYPES)
    elif HELM_HOOK_ANNOTATION in annotations:
        types = _csv(resources.annotation(obj, HELM_HOOK_ANNOTATION))
        if resources.annotation(obj, HELM_HOOK_ANNOTATION).strip() == HELM_CRD_INSTALL:
            return Classification(Role.RESOURCE)
        phases = tuple(dict.fromkeys(HELM_TYPES[t] for t in types if t in HELM_TYPES))
    else:
        return Classification(Role.RESOURCE)
    if not phases:
        return Classification(Role.IGNORED)
    return Classification(Role.HOOK, phases, delete_policies(obj))


def delete_policies(obj: Manifest) -> frozenset[DeletePolicy]:
    """The union of Argo and Helm delete policies; ``BeforeHookCreation`` when none is valid."""
    by_value = {policy.value: policy for policy in DeletePolicy}
    found = {
        by_value[item]
        for item in _csv(resources.annotation(obj, DELETE_POLICY_ANNOTATION))
        if item in by_value
    }
    found |= {
        HELM_DELETE_POLICIES[item]
        for item in _csv(resources.annotation(obj, HELM_DELETE_POLICY_ANNOTATION))
        if item in HELM_DELETE_POLICIES
    }
    return frozenset(found) or DEFAULT_DELETE_POLICIES


def generate_name(obj: Manifest) -> str:
    """``metadata.generateName`` ("" when unset)."""
    return str(resources.metadata_of(obj).get("generateName", "") or "")


def identity(obj: Manifest, position: int) -> ResourceKey:
    """The key that tells rendered objects apart: a ``generateName``-only one is its own.

    Such objects share the empty name until a sync names them, so, as in Argo CD, their
    ``generateName`` and place in the render stand in for it: two of them are both kept (and
    both run), where of two objects with one name the last wins.
    """
    key = ResourceKey.of(obj)
    if key.name or not generate_name(obj):
        return key
    return dataclasses.replace(key, name=f"{generate_name(obj)}{position}")


def hook_name(obj: Manifest, *, revision: str, phase: SyncPhase, started_at: datetime) -> str:
    """The hook's name; ``generateName`` hooks get a suffix fixed for the whole operation.

    The suffix is Argo's ``lower("<rev[0:7]>-<phase>-<unix start>")``, so every step of one
    operation (and a restarted controller) names the same object. Application deletion has no
    revision: its hooks are named ``<phase>-<unix start>`` from the deletion's start.
    """
    name = resources.name_of(obj)
    if name:
        return name
    short = revision[:7] if len(revision) >= 8 else revision
    parts = [short, phase.value, str(int(started_at.timestamp()))]
    return generate_name(obj) + "-".join(part for part in parts if part).lower()


def with_name(obj: Manifest, name: str) -> dict[str, object]:
    """A copy of ``obj`` named ``name``."""
    return {**obj, "metadata": {**resources.metadata_of(obj), "name": name}}


def with_name_and_finalizer(obj: Manifest, name: str) -> dict[str, object]:
    """A copy of a hook with its name set and the hook finalizer added."""
    named = with_name(obj, name)
    metadata = dict(resources.metadata_of(named))
    finalizers = list(metadata.get("finalizers") or [])
    if FINALIZER not in finalizers:
        finalizers.append(FINALIZER)
    metadata["finalizers"] = finalizers
    return {**named, "metadata": metadata}


def has_finalizer(obj: Manifest) -> bool:
    """Whether a live hook still carries tether's hook finalizer."""
    return FINALIZER in (resources.metadata_of(obj).get("finalizers") or [])
