"""What the cluster cache watches, keeps and reports: exclusions, tracking, no-op update filtering.

Pure decisions for ``tether.adapters.kube.cache``; the rules follow Argo CD's cluster cache
(engine-algorithms.md 4.1-4.4).
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import orjson

from tether.core import globs
from tether.model import application, applicationset, project
from tether.model.resources import GroupKind, ResourceKey


@dataclasses.dataclass(frozen=True)
class Exclusion:
    """Kinds the cache never watches; ``groups`` and ``kinds`` are globs (``*`` = any)."""

    groups: tuple[str, ...]
    kinds: tuple[str, ...]
    reason: str
    clusters: tuple[str, ...] = ("*",)
    """Server URLs (globs) it covers: argocd-cm's ``clusters``; every cluster by default."""

    def matches(self, group_kind: GroupKind, server: str = "") -> bool:
        """Whether the exclusion covers a group and kind (of the cluster at ``server``)."""
        return (
            any(globs.match(g, group_kind.group) for g in self.groups)
            and any(globs.match(k, group_kind.kind) for k in self.kinds)
            and (not server or any(globs.match(c, server) for c in self.clusters))
        )


DEFAULT_EXCLUSIONS: tuple[Exclusion, ...] = (
    Exclusion(("",), ("Event",), "high churn, never declared in Git (Argo CD core exclusion)"),
    Exclusion(("events.k8s.io",), ("*",), "the same events through the newer API group"),
    Exclusion(("coordination.k8s.io",), ("Lease",), "leader-election heartbeats renew every few s"),
    Exclusion(
        ("",),
        ("Endpoints",),
        "deprecated since Kubernetes 1.33; the EndpointSlices of the same Service say the same"
        " and are watched instead (TREE_ONLY)",
    ),
    Exclusion(("metrics.k8s.io",), ("*",), "computed on request, not stored; no watch"),
    Exclusion(
        ("authorization.k8s.io", "authentication.k8s.io"),
        ("*",),
        "create-only review requests (SubjectAccessReview, TokenReview, ...); nothing to list",
    ),
    Exclusion(("",), ("ComponentStatus",), "deprecated, computed on request, no watch"),
    Exclusion(("",), ("Binding",), "create-only subresource-like kind (Pod scheduling)"),
    Exclusion(
        ("certificates.k8s.io", "cert-manager.io"),
        ("CertificateSigningRequest", "CertificateRequest"),
        "intermediate certificate requests churn and are never declared (Argo CD default)",
    ),
    Exclusion(
        ("cilium.io",),
        ("CiliumIdentity", "CiliumEndpoint", "CiliumEndpointSlice"),
        "CNI-internal bookkeeping, one per Pod (Argo CD default)",
    ),
    Exclusion(
        ("kyverno.io", "reports.kyverno.io", "wgpolicyk8s.io"),
        ("*Report", "UpdateRequest"),
        "policy reports regenerate constantly (Argo CD default)",
    ),
)
"""The default exclusion table; settings may append to it."""


TREE_ONLY: dict[GroupKind, str] = {
    GroupKind("discovery.k8s.io", "EndpointSlice"): (
        "the control plane writes them for each Service and rewrites them on every Pod readiness"
        " flip; trees show them under their Service, but no comparison, sync or prune reads them"
    ),
}
"""Kinds watched only so resource trees can show them: changes of their untracked objects are
never reported, so their churn wakes no app (a tree reads the cache when it is asked for)."""


def reports_changes(group_kind: GroupKind, app: str) -> bool:
    """Whether a change of an object tracked by ``app`` (``""`` = none) is worth reporting."""
    return bool(app) or group_kind not in TREE_ONLY


def exclusion_reason(
    group_kind: GroupKind, exclusions: Iterable[Exclusion] = DEFAULT_EXCLUSIONS
) -> str:
    """Why a kind is not watched, or ``""`` when it is."""
    for exclusion in exclusions:
        if exclusion.matches(group_kind):
            return exclusion.reason
    return ""


def filtered_reason(
    group_kind: GroupKind,
    server: str,
    exclusions: Iterable[Exclusion],
    inclusions: Sequence[Exclusion] = (),
) -> str:
    """Why argocd-cm's ``resource.exclusions``/``inclusions`` leave a kind of a cluster out.

    ``""`` when the kind is in: it matches an inclusion (or there are none) and no exclusion.
    """
    for exclusion in exclusions:
        if exclusion.matches(group_kind, server):
            return exclusion.reason
    if inclusions and not any(i.matches(group_kind, server) for i in inclusions):
        return "not in argocd-cm resource.inclusions"
    return ""


NEVER_FILTERED: dict[GroupKind, str] = {
    GroupKind("apiextensions.k8s.io", "CustomResourceDefinition"): (
        "the cache needs their versions and scope to watch custom resources"
    ),
    application.GROUP_KIND: "the controller reads Applications from the cache",
    project.GROUP_KIND: "every comparison checks its app against its project, read from the cache",
    applicationset.GROUP_KIND: "the ApplicationSet controller is fed by their changes",
    GroupKind("", "Secret"): "repository and cluster Secrets are reloaded when one changes",
}
"""Kinds the cache watches whatever ``resource.exclusions``/``inclusions`` say (the controller
needs them); their objects are still left out of comparisons and syncs by those settings."""


def watch_filtered_reason(
    group_kind: GroupKind,
    server: str,
    exclusions: Iterable[Exclusion],
    inclusions: Sequence[Exclusion] = (),
) -> str:
    """Why the cache does not watch a kind (``""``: it does).

    ``filtered_reason``, sparing the kinds the controller itself reads (``NEVER_FILTERED``).
    """
    if group_kind in NEVER_FILTERED:
        return exclusion_reason(group_kind)
    return filtered_reason(group_kind, server, exclusions, inclusions)


IGNORE_UPDATES_ANNOTATION = "argocd.argoproj.io/ignore-resource-updates"
"""Argo CD: objects annotated ``"true"`` get an update hash even when untracked."""


CRD = GroupKind("apiextensions.k8s.io", "CustomResourceDefinition")
APPLICATION = application.GROUP_KIND
APP_PROJECT = project.GROUP_KIND

ALWAYS_FULL: dict[GroupKind, str] = {
    CRD: "the cache needs their versions and scope to watch custom resources",
    APPLICATION: "the controller reads Applications from the cache",
    APP_PROJECT: "every comparison checks its app against its project, read from the cache",
    applicationset.GROUP_KIND: (
        "the ApplicationSet controller must hear every edit of a set; a slim record's are dropped"
    ),
}
"""Kinds kept in full whether tracked or not, with the reason."""


def keeps_full(group_kind: GroupKind, app: str, in_tree: bool) -> bool:
    """Whether the cache keeps an object's whole manifest (else only a slim record).

    Args:
        group_kind: The object's type.
        app: The app instance tracking it ("" = none).
        in_tree: Whether it descends, through owner references, from a tracked object (a
            resource tree shows it with health), or its owners are not known yet.
    """
    return bool(app) or in_tree or group_kind in ALWAYS_FULL


UPDATE_IGNORED_PATHS: tuple[str, ...] = (
    # Written by the API server on every change; never a meaningful difference.
    "/metadata/resourceVersion",
    "/metadata/generation",
    "/metadata/managedFields",
)


def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def _without(value: Any, path: Sequence[str]) -> Any:
    # Copy-on-write removal: only the containers on the path are copied.
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(value, Mapping):
        if head == "*":
            return {k: _without(v, rest) for k, v in value.items()} if rest else {}
        if head not in value:
            return value
        copy = dict(value)
        if rest:
            copy[head] = _without(value[head], rest)
        else:
            del copy[head]
        return copy
    if isinstance(value, list):
        if head == "*":
            return [_without(v, rest) for v in value] if rest else []
        if head.isdigit() and int(head) < len(value):
            copy_list = list(value)
            if rest:
                copy_list[int(head)] = _without(value[int(head)], rest)
            else:
                del copy_list[int(head)]
            return copy_list
    return value


def update_hash(
    obj: Mapping[str, Any], ignored_paths: Iterable[str] = (), *, include_status: bool = False
) -> bytes:
    """A digest of an object minus the paths that never make an update worth reporting.

    Args:
        obj: The object.
        ignored_paths: JSON pointers (``*`` matches any key or index), e.g. the app's
            ``ignoreResourceUpdates``; ``UPDATE_IGNORED_PATHS`` always apply.
        include_status: Keep ``/status`` in the hash; used when no health fingerprint is known,
            so status changes (which may change health) still count.

    Returns:
        16 bytes of BLAKE2b over the canonical (sorted-key) JSON.
    """
    pruned: Any = obj
    paths = [*UPDATE_IGNORED_PATHS, *ignored_paths]
    if not include_status:
        paths.append("/status")
    for pointer in paths:
        tokens = [_unescape(t) for t in pointer.split("/")[1:]]
        pruned = _without(pruned, tokens)
    canonical = orjson.dumps(pruned, option=orjson.OPT_SORT_KEYS)
    return hashlib.blake2b(canonical, digest_size=16).digest()


@dataclasses.dataclass(frozen=True)
class Fingerprint:
    """What decides whether an update is a no-op: the update hash and the health fingerprint."""

    digest: bytes
    health: object = None


def is_noop_update(old: Fingerprint | None, new: Fingerprint | None) -> bool:
    """Whether an update changed neither the hashed manifest nor health (Argo CD 4.4 step 1).

    Objects without a fingerprint (never hashed) are never no-ops: their updates are reported.
    """
    return old is not None and new is not None and old == new


@dataclasses.dataclass(frozen=True)
class Change:
    """One cache change reported to subscribers.

    Attributes:
        apps: The app instances whose trees the object is in (before or after the change);
            empty for objects no app tracks (orphan detection may still care).
        key: The object.
        event: ``ADDED``, ``MODIFIED`` or ``DELETED``.
    """

    apps: frozenset[str]
    key: ResourceKey
    event: str
