"""Kubernetes objects as tether sees them: the key that names one, and safe accessors.

Raw objects stay plain mappings (``Manifest``), as decoded from YAML or JSON; the accessors here are
the only place that knows where ``metadata`` fields live, so other code reads as sentences.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

Manifest = Mapping[str, Any]
"""One Kubernetes object, decoded. Never mutated in place by the core."""

MutableManifest = dict[str, Any]


@dataclasses.dataclass(frozen=True, order=True)
class GroupKind:
    """An API group and kind, without version: what identifies a type across versions."""

    group: str
    kind: str

    def __str__(self) -> str:
        return f"{self.group}/{self.kind}" if self.group else self.kind


@dataclasses.dataclass(frozen=True, order=True)
class ResourceKey:
    """Names one object: group, kind, namespace ("" when cluster-scoped) and name.

    The API version is deliberately not part of the key, as in Argo CD: the same object read
    through two versions is one object.
    """

    group: str
    kind: str
    namespace: str
    name: str

    @property
    def group_kind(self) -> GroupKind:
        """The key's group and kind."""
        return GroupKind(self.group, self.kind)

    def __str__(self) -> str:
        where = f"{self.namespace}/{self.name}" if self.namespace else self.name
        return f"{self.group_kind}:{where}"

    @classmethod
    def of(cls, obj: Manifest) -> ResourceKey:
        """The key of an object."""
        return cls(group_of(obj), kind_of(obj), namespace_of(obj), name_of(obj))


def split_api_version(api_version: str) -> tuple[str, str]:
    """Split ``apps/v1`` into ``("apps", "v1")`` and ``v1`` into ``("", "v1")``."""
    group, _, version = api_version.rpartition("/")
    return group, version


def metadata_of(obj: Manifest) -> Mapping[str, Any]:
    """The object's metadata, or an empty mapping."""
    meta = obj.get("metadata")
    return meta if isinstance(meta, Mapping) else {}


def group_of(obj: Manifest) -> str:
    """The API group of an object (``""`` for the core group)."""
    return split_api_version(str(obj.get("apiVersion", "")))[0]


def version_of(obj: Manifest) -> str:
    """The API version of an object, without the group."""
    return split_api_version(str(obj.get("apiVersion", "")))[1]


def kind_of(obj: Manifest) -> str:
    """The kind of an object."""
    return str(obj.get("kind", ""))


def name_of(obj: Manifest) -> str:
    """The object's name."""
    return str(metadata_of(obj).get("name", "") or "")


def namespace_of(obj: Manifest) -> str:
    """The object's namespace, ``""`` when it has none."""
    return str(metadata_of(obj).get("namespace", "") or "")


def labels_of(obj: Manifest) -> Mapping[str, str]:
    """The object's labels."""
    labels = metadata_of(obj).get("labels")
    return labels if isinstance(labels, Mapping) else {}


def annotations_of(obj: Manifest) -> Mapping[str, str]:
    """The object's annotations."""
    annotations = metadata_of(obj).get("annotations")
    return annotations if isinstance(annotations, Mapping) else {}


def annotation(obj: Manifest, key: str, default: str = "") -> str:
    """One annotation of an object, or ``default``."""
    value = annotations_of(obj).get(key)
    return value if isinstance(value, str) else default


def status_of(obj: Manifest) -> Mapping[str, Any]:
    """The object's status, or an empty mapping."""
    status = obj.get("status")
    return status if isinstance(status, Mapping) else {}


def spec_of(obj: Manifest) -> Mapping[str, Any]:
    """The object's spec, or an empty mapping."""
    spec = obj.get("spec")
    return spec if isinstance(spec, Mapping) else {}


def conditions_of(obj: Manifest) -> list[Mapping[str, Any]]:
    """The object's ``status.conditions``, keeping only well-formed entries."""
    conditions = status_of(obj).get("conditions")
    if not isinstance(conditions, list):
        return []
    return [c for c in conditions if isinstance(c, Mapping)]


def condition(obj: Manifest, condition_type: str) -> Mapping[str, Any] | None:
    """The ``status.conditions`` entry of one type, if present."""
    for entry in conditions_of(obj):
        if entry.get("type") == condition_type:
            return entry
    return None


def is_being_deleted(obj: Manifest) -> bool:
    """Whether the object has a deletion timestamp."""
    return bool(metadata_of(obj).get("deletionTimestamp"))


def resource_version(obj: Manifest) -> str:
    """``metadata.resourceVersion``, empty when unset."""
    return str(metadata_of(obj).get("resourceVersion") or "")


def version_number(resource_version_text: str | None) -> int:
    """A resourceVersion as a number, to tell which of two reads is newer; 0 if not a number.

    Kubernetes calls resourceVersions opaque, but every one it hands out is etcd's revision.
    """
    try:
        return int(resource_version_text or 0)
    except ValueError:
        return 0
