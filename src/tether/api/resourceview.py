"""Live and desired objects in Argo CD's API shapes: ResourceNode, ResourceDiff, masked manifests.

Every object that leaves through the API passes ``masked`` or ``masked_all`` first, the one
Secret masking of diffs and statuses (``core.diff.secrets``), so no route can forget it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import orjson

from tether.core import health
from tether.core.diff import secrets
from tether.model.resources import (
    GroupKind,
    Manifest,
    ResourceKey,
    annotation,
    metadata_of,
    spec_of,
    split_api_version,
    status_of,
)
from tether.model.status import Health
from tether.services.apptree import TreeEntry


def masked(obj: Manifest) -> dict[str, Any]:
    """A copy of ``obj`` with every Secret value masked."""
    return dict(secrets.mask(obj))


def masked_all(versions: Sequence[Manifest | None]) -> list[dict[str, Any] | None]:
    """Versions of one object masked together: equal values keep equal masks."""
    return [dict(obj) if obj is not None else None for obj in secrets.mask_all(versions)]


def json_string(obj: Manifest | None) -> str:
    """An object as the JSON string Argo CD's API carries in manifest fields (``""`` if none)."""
    return "" if obj is None else orjson.dumps(obj).decode()


def ref_of(key: ResourceKey, obj: Manifest | None) -> dict[str, Any]:
    """A ResourceRef: group, version, kind, namespace, name, uid."""
    api_version = str(obj.get("apiVersion", "")) if obj is not None else ""
    ref: dict[str, Any] = {
        "group": key.group,
        "version": split_api_version(api_version)[1] if api_version else "",
        "kind": key.kind,
        "namespace": key.namespace,
        "name": key.name,
    }
    uid = str(metadata_of(obj).get("uid") or "") if obj is not None else ""
    if uid:
        ref["uid"] = uid
    return ref


def _images(obj: Manifest) -> list[str]:
    spec = spec_of(obj)
    template = spec.get("template")
    if isinstance(template, Mapping) and isinstance(template.get("spec"), Mapping):
        spec = template["spec"]
    images: list[str] = []
    for field in ("initContainers", "containers"):
        images.extend(
            str(container["image"])
            for container in spec.get(field) or []
            if isinstance(container, Mapping) and container.get("image")
        )
    return list(dict.fromkeys(images))


def _pod_info(obj: Manifest) -> list[tuple[str, str]]:
    status = status_of(obj)
    reason = str(status.get("reason") or status.get("phase") or "")
    statuses = [s for s in status.get("containerStatuses") or [] if isinstance(s, Mapping)]
    containers = spec_of(obj).get("containers") or []
    ready = sum(1 for s in statuses if s.get("ready"))
    info = [("Containers", f"{ready}/{len(containers)}")]
    return [("Status Reason", reason), *info] if reason else info


def _revision_info(obj: Manifest) -> list[tuple[str, str]]:
    revision = annotation(obj, "deployment.kubernetes.io/revision")
    return [("Revision", f"Rev:{revision}")] if revision else []


INFO: dict[GroupKind, tuple[Callable[[Manifest], list[tuple[str, str]]], str]] = {
    GroupKind("", "Pod"): (_pod_info, "why a Pod is not running and how many containers are ready"),
    GroupKind("apps", "ReplicaSet"): (_revision_info, "which rollout of its Deployment it is"),
    GroupKind("apps", "Deployment"): (_revision_info, "the rollout the Deployment is at"),
}
"""The ``info`` lines a tree node shows by kind, with what a person reads from them."""


def node(
    entry: TreeEntry,
    known: Mapping[ResourceKey, Manifest],
    judge: Callable[[Manifest], Health | None] = health.assess,
) -> dict[str, Any]:
    """A ResourceNode: the ref, parents, health, images and info of one tree entry.

    ``known`` gives the other objects of the tree, for the parents' versions and UIDs;
    ``judge`` says an object's health (with argocd-cm's Lua checks where they are in force).
    """
    obj = entry.obj
    meta = metadata_of(obj)
    out: dict[str, Any] = ref_of(entry.key, obj)
    out["parentRefs"] = [ref_of(parent, known.get(parent)) for parent in entry.parents]
    verdict = judge(obj) if "spec" in obj or "status" in obj or "data" in obj else None
    if verdict is not None:
        out["health"] = {"status": verdict.status.value, "message": verdict.message}
    if meta.get("resourceVersion"):
        out["resourceVersion"] = str(meta["resourceVersion"])
    if meta.get("creationTimestamp"):
        out["createdAt"] = str(meta["creationTimestamp"])
    images = _images(obj)
    if images:
        out["images"] = images
    rule = INFO.get(entry.key.group_kind)
    if rule is not None:
        out["info"] = [{"name": name, "value": value} for name, value in rule[0](obj)]
    return out
