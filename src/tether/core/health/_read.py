"""Typed reads of raw manifest fields: the one place health turns ``Any`` into plain types.

A missing or mistyped field reads as Go's zero value, as after Argo CD's typed conversion.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tether.model import resources

EMPTY: Mapping[str, Any] = {}


def node(value: Any, *path: str) -> Any:
    """The raw value at ``path`` under ``value``, or None when any step is missing."""
    for step in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(step)
    return value


def mapping(value: Any, *path: str) -> Mapping[str, Any]:
    """The mapping at ``path``, or an empty one."""
    found = node(value, *path)
    return found if isinstance(found, Mapping) else EMPTY


def has_mapping(value: Any, *path: str) -> bool:
    """Whether a mapping is present at ``path`` (a Go pointer that is not nil)."""
    return isinstance(node(value, *path), Mapping)


def items(value: Any, *path: str) -> list[Mapping[str, Any]]:
    """The list of mappings at ``path``; entries that are not mappings are dropped."""
    found = node(value, *path)
    if isinstance(found, str) or not isinstance(found, Sequence):
        return []
    return [entry for entry in found if isinstance(entry, Mapping)]


def count(value: Any, *path: str) -> int:
    """The length of the list at ``path``, 0 when there is none."""
    found = node(value, *path)
    if isinstance(found, str) or not isinstance(found, Sequence):
        return 0
    return len(found)


def optional_int(value: Any, *path: str) -> int | None:
    """The integer at ``path``, or None when missing or not a whole number."""
    found = node(value, *path)
    if isinstance(found, bool):
        return None
    if isinstance(found, int):
        return found
    if isinstance(found, float) and found.is_integer():
        return int(found)
    return None


def integer(value: Any, *path: str) -> int:
    """The integer at ``path``, or 0 (Go's zero value)."""
    found = optional_int(value, *path)
    return 0 if found is None else found


def text(value: Any, *path: str) -> str:
    """The string at ``path``, or ``""``."""
    found = node(value, *path)
    return found if isinstance(found, str) else ""


def flag(value: Any, *path: str) -> bool:
    """The boolean at ``path``; only a real ``true`` counts."""
    return node(value, *path) is True


def generation(obj: resources.Manifest) -> int:
    """``metadata.generation``, 0 when unset."""
    return integer(resources.metadata_of(obj), "generation")


def conditions(obj: resources.Manifest) -> list[Mapping[str, Any]]:
    """``status.conditions`` in order, keeping well-formed entries."""
    return resources.conditions_of(obj)


def condition_is(entry: Mapping[str, Any], condition_type: str, status: str) -> bool:
    """Whether a condition entry has this type and status."""
    return entry.get("type") == condition_type and entry.get("status") == status


def has_condition(obj: resources.Manifest, condition_type: str, status: str = "True") -> bool:
    """Whether ``status.conditions`` has an entry of this type with this status."""
    return any(condition_is(entry, condition_type, status) for entry in conditions(obj))


def finalizers(obj: resources.Manifest) -> list[str]:
    """``metadata.finalizers``, keeping strings only."""
    found = resources.metadata_of(obj).get("finalizers")
    if not isinstance(found, list):
        return []
    return [entry for entry in found if isinstance(entry, str)]
