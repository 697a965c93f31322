"""The resource tree: who owns whom among live objects, walking an app's hierarchy, and orphans.

Links come from ``metadata.ownerReferences`` plus the parents Kubernetes implies without saying
(``INFERRED_PARENTS``). Objects here may be metadata-only, except where a rule needs the spec.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any

from tether.core import globs
from tether.model.resources import (
    GroupKind,
    Manifest,
    ResourceKey,
    annotation,
    metadata_of,
    name_of,
    spec_of,
    split_api_version,
)


@dataclasses.dataclass(frozen=True)
class ResourceGraph:
    """Live objects and the parent/child links between them."""

    objects: Mapping[ResourceKey, Manifest]
    parents: Mapping[ResourceKey, tuple[ResourceKey, ...]]
    children: Mapping[ResourceKey, tuple[ResourceKey, ...]]


@dataclasses.dataclass(frozen=True)
class TreeNode:
    """One object in a walk of the tree, in depth-first order."""

    key: ResourceKey
    depth: int
    parents: tuple[ResourceKey, ...]
    """Every known parent, not just the one the walk came through."""


def owner_references(obj: Manifest) -> list[Mapping[str, Any]]:
    """The object's well-formed ``ownerReferences``."""
    refs = metadata_of(obj).get("ownerReferences")
    if not isinstance(refs, list):
        return []
    return [ref for ref in refs if isinstance(ref, Mapping) and ref.get("kind") and ref.get("name")]


def _uid(obj: Manifest) -> str:
    return str(metadata_of(obj).get("uid") or "")


def _endpoints_parent(key: ResourceKey, obj: Manifest, graph: _Index) -> list[ResourceKey]:
    if owner_references(obj):
        return []
    return graph.existing(ResourceKey("", "Service", key.namespace, key.name))


def _token_secret_parent(key: ResourceKey, obj: Manifest, graph: _Index) -> list[ResourceKey]:
    if obj.get("type") != "kubernetes.io/service-account-token":
        return []
    account = annotation(obj, "kubernetes.io/service-account.name")
    return graph.existing(ResourceKey("", "ServiceAccount", key.namespace, account))


def _pvc_parent(key: ResourceKey, _obj: Manifest, graph: _Index) -> list[ResourceKey]:
    found: list[ResourceKey] = []
    for sts_key in graph.by_kind.get(GroupKind("apps", "StatefulSet"), ()):
        if sts_key.namespace != key.namespace:
            continue
        templates = spec_of(graph.objects[sts_key]).get("volumeClaimTemplates")
        for template in templates if isinstance(templates, list) else []:
            template_name = name_of(template) if isinstance(template, Mapping) else ""
            # Unanchored at the start, as in Argo CD: `<template>-<statefulset>-<ordinal>`.
            pattern = rf"{re.escape(template_name)}-{re.escape(sts_key.name)}-\d+$"
            if template_name and re.search(pattern, key.name):
                found.append(sts_key)
                break
    return found


def _csv_parent(key: ResourceKey, obj: Manifest, graph: _Index) -> list[ResourceKey]:
    group = annotation(obj, "olm.operatorGroup")
    return graph.existing(
        ResourceKey("operators.coreos.com", "OperatorGroup", key.namespace, group)
    )


InferredParent = Callable[[ResourceKey, Manifest, "_Index"], list[ResourceKey]]

INFERRED_PARENTS: dict[GroupKind, tuple[InferredParent, GroupKind, str]] = {
    GroupKind("", "Endpoints"): (
        _endpoints_parent,
        GroupKind("", "Service"),
        "the endpoints controller creates them for the Service of the same name, without owner",
    ),
    GroupKind("", "Secret"): (
        _token_secret_parent,
        GroupKind("", "ServiceAccount"),
        "the token controller fills service-account-token Secrets for their ServiceAccount",
    ),
    GroupKind("", "PersistentVolumeClaim"): (
        _pvc_parent,
        GroupKind("apps", "StatefulSet"),
        "a StatefulSet's volumeClaimTemplates create PVCs it does not own (they outlive it)",
    ),
    GroupKind("operators.coreos.com", "ClusterServiceVersion"): (
        _csv_parent,
        GroupKind("operators.coreos.com", "OperatorGroup"),
        "OLM names the OperatorGroup in an annotation instead of an owner reference",
    ),
}
"""Parents Kubernetes implies without an owner reference: the child's kind, the rule finding its
parent, the parent's kind, and the reason."""

READS_WHOLE_OBJECT: dict[GroupKind, str] = {
    # Kinds a rule above reads beyond name, UID and owners: every other object links from its
    # identity alone, so a tree need not decode the whole of a namespace's objects.
    GroupKind("", "Secret"): "the token-Secret rule reads its type and account annotation",
    GroupKind("apps", "StatefulSet"): "the PVC rule reads its volumeClaimTemplates",
    GroupKind("operators.coreos.com", "ClusterServiceVersion"): "the OLM rule reads an annotation",
}
"""Kinds whose whole object ``build`` needs for ``INFERRED_PARENTS``, with the rule reading it."""


@dataclasses.dataclass(frozen=True)
class _Index:
    objects: Mapping[ResourceKey, Manifest]
    by_uid: Mapping[str, ResourceKey]
    by_kind: Mapping[GroupKind, tuple[ResourceKey, ...]]

    def existing(self, key: ResourceKey) -> list[ResourceKey]:
        return [key] if key.name and key in self.objects else []


def build(objects: Iterable[Manifest]) -> ResourceGraph:
    """Index live objects by key and link children to parents."""
    by_key = {ResourceKey.of(obj): obj for obj in objects}
    by_kind: dict[GroupKind, list[ResourceKey]] = {}
    for key in sorted(by_key):
        by_kind.setdefault(key.group_kind, []).append(key)
    index = _Index(
        objects=by_key,
        by_uid={_uid(obj): key for key, obj in by_key.items() if _uid(obj)},
        by_kind={gk: tuple(keys) for gk, keys in by_kind.items()},
    )
    parents: dict[ResourceKey, tuple[ResourceKey, ...]] = {}
    children: dict[ResourceKey, list[ResourceKey]] = {}
    for key, obj in by_key.items():
        found = [p for ref in owner_references(obj) if (p := _resolve_owner(key, ref, index))]
        rule = INFERRED_PARENTS.get(key.group_kind)
        if rule is not None:
            found.extend(rule[0](key, obj, index))
        unique = tuple(dict.fromkeys(p for p in found if p != key))
        if unique:
            parents[key] = unique
        for parent in unique:
            children.setdefault(parent, []).append(key)
    return ResourceGraph(
        objects=by_key,
        parents=parents,
        children={parent: tuple(sorted(kids)) for parent, kids in children.items()},
    )


def linkable(
    objects: Mapping[ResourceKey, Manifest], roots: Collection[ResourceKey]
) -> dict[ResourceKey, Manifest]:
    """The objects a walk from ``roots`` can reach or name as a parent.

    ``build`` over them gives every walk from ``roots`` the same nodes and parents as over all
    of ``objects``. Kept: the roots, whatever has an owner or may get an inferred parent (a
    possible child), and whatever an owner reference names or an inferred rule may pick (a
    possible parent). What is left (an ownerless object of a namespace, such as the 10,000
    Applications sharing an app of apps' namespace) is neither; orphan detection still needs
    it, walks do not.
    """
    named_uids: set[str] = set()
    named_keys: set[ResourceKey] = set()
    for child, obj in objects.items():
        for ref in owner_references(obj):
            uid = str(ref.get("uid") or "")
            if uid:
                named_uids.add(uid)
                continue
            group = split_api_version(str(ref.get("apiVersion", "")))[0]
            for namespace in (child.namespace, ""):
                named_keys.add(ResourceKey(group, str(ref["kind"]), namespace, str(ref["name"])))
    parent_kinds = {parent for _rule, parent, _why in INFERRED_PARENTS.values()}
    return {
        key: obj
        for key, obj in objects.items()
        if key in roots
        or owner_references(obj)
        or key.group_kind in INFERRED_PARENTS
        or key.group_kind in parent_kinds
        or key in named_keys
        or (_uid(obj) and _uid(obj) in named_uids)
    }


def _resolve_owner(child: ResourceKey, ref: Mapping[str, Any], index: _Index) -> ResourceKey | None:
    uid = str(ref.get("uid") or "")
    if uid:
        parent = index.by_uid.get(uid)
        # Kubernetes only honours owners in the child's namespace or cluster-scoped ones.
        if parent is not None and parent.namespace in ("", child.namespace):
            return parent
        return None
    # No UID (hand-written manifests): find the owner by name, in the child's namespace first.
    group = split_api_version(str(ref.get("apiVersion", "")))[0]
    for namespace in (child.namespace, ""):
        candidate = ResourceKey(group, str(ref["kind"]), namespace, str(ref["name"]))
        if candidate in index.objects:
            return candidate
    return None


def hierarchy(
    graph: ResourceGraph,
    roots: Iterable[ResourceKey],
    visit: Callable[[ResourceKey], bool] | None = None,
) -> list[TreeNode]:
    """Walk the tree depth-first from ``roots``; each object appears once, cycles are cut.

    Args:
        graph: from ``build``.
        roots: the app's managed keys (keys with no live object are skipped).
        visit: return ``False`` to leave an object and its descendants out (a project that
            forbids a kind, say).
    """
    seen: set[ResourceKey] = set()
    out: list[TreeNode] = []
    stack = [(root, 0) for root in reversed(list(roots))]
    while stack:
        key, depth = stack.pop()
        if key in seen or key not in graph.objects:
            continue
        seen.add(key)
        if visit is not None and not visit(key):
            continue
        out.append(TreeNode(key, depth, graph.parents.get(key, ())))
        stack.extend((child, depth + 1) for child in reversed(graph.children.get(key, ())))
    return out


@dataclasses.dataclass(frozen=True)
class OrphanIgnore:
    """An AppProject ``spec.orphanedResources.ignore[]`` entry; empty kind or name matches all."""

    group: str = ""
    kind: str = ""
    name: str = ""

    def matches(self, key: ResourceKey) -> bool:
        """Whether the entry covers this object."""
        return (
            globs.match(self.group, key.group)
            and (not self.kind or globs.match(self.kind, key.kind))
            and (not self.name or globs.match(self.name, key.name))
        )


KNOWN_ORPHAN_EXCLUSIONS: dict[tuple[str, str, str, str], str] = {
    # (group, kind, namespace or "*", name): reason
    ("", "Service", "default", "kubernetes"): "the API server's own Service",
    ("discovery.k8s.io", "EndpointSlice", "default", "kubernetes"): (
        "the API server's own addresses, written by it without an owner"
    ),
    ("", "ServiceAccount", "*", "default"): "created in every namespace by Kubernetes",
    ("", "ConfigMap", "*", "kube-root-ca.crt"): "published in every namespace by Kubernetes",
}
"""Objects Kubernetes puts in namespaces by itself: never reported as orphans."""


def _known_exclusion(key: ResourceKey) -> bool:
    return any(
        group == key.group and kind == key.kind and name == key.name and ns in ("*", key.namespace)
        for group, kind, ns, name in KNOWN_ORPHAN_EXCLUSIONS
    )


def orphaned(
    graph: ResourceGraph,
    *,
    destination_namespace: str,
    managed: Collection[ResourceKey],
    app_of: Callable[[Manifest], str],
    existing_apps: Collection[str],
    ignore: Iterable[OrphanIgnore] = (),
    permitted: Callable[[ResourceKey], bool] | None = None,
) -> list[ResourceKey]:
    """Top-level objects in the destination namespace that no existing app manages.

    Args:
        graph: live objects.
        destination_namespace: the app's destination namespace.
        managed: keys this app manages.
        app_of: the app instance an object's tracking names (``tracking.app_name_of``).
        existing_apps: app instances that exist; tracking naming another app is not ownership.
        ignore: the project's ``orphanedResources.ignore`` entries.
        permitted: the project's permission check; objects it refuses are not reported.

    Returns:
        The orphans' keys, sorted; ``hierarchy(graph, orphans)`` gives their descendants.
    """
    rules = list(ignore)
    found = [
        key
        for key, obj in graph.objects.items()
        if key.namespace == destination_namespace
        and key not in managed
        and not owner_references(obj)
        and key not in graph.parents
        and app_of(obj) not in existing_apps
        and not _known_exclusion(key)
        and not any(rule.matches(key) for rule in rules)
        and (permitted is None or permitted(key))
    ]
    return sorted(found)
