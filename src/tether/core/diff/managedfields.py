"""Server-side apply field ownership: the ``fieldsV1`` parser, and removing owned fields.

``metadata.managedFields[].fieldsV1`` is a trie of path elements: ``f:<name>`` a map field,
``k:<json>`` the list item with those key fields, ``v:<json>`` the set item with that value,
``i:<n>`` the list item at that index, and ``.`` the node itself.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Collection, Iterable, Iterator, Mapping
from typing import Any

from tether.core.diff import normalize
from tether.model.resources import Manifest, MutableManifest, metadata_of


@dataclasses.dataclass(frozen=True)
class Field:
    """A map field by name (``f:name``)."""

    name: str

    def __str__(self) -> str:
        return f".{self.name}"


@dataclasses.dataclass(frozen=True)
class Key:
    """The item of an associative list whose key fields have these values (``k:{...}``)."""

    fields: tuple[tuple[str, Any], ...]

    def matches(self, item: Any) -> bool:
        """Whether a list item has every key field with the same value."""
        return isinstance(item, Mapping) and all(
            name in item and item[name] == value for name, value in self.fields
        )

    def __str__(self) -> str:
        return "[" + ",".join(f"{name}={json.dumps(value)}" for name, value in self.fields) + "]"


@dataclasses.dataclass(frozen=True)
class Value:
    """The item of a set-like list equal to this value (``v:<json>``)."""

    value: Any

    def __str__(self) -> str:
        return f"[={json.dumps(self.value)}]"


@dataclasses.dataclass(frozen=True)
class Index:
    """The list item at this position (``i:<n>``), used for atomic-less positional lists."""

    index: int

    def __str__(self) -> str:
        return f"[{self.index}]"


PathElement = Field | Key | Value | Index
Path = tuple[PathElement, ...]


class FieldsV1Error(ValueError):
    """A ``fieldsV1`` document that does not follow the format."""


def _hashable(value: Any) -> Any:
    # Key and value elements must be hashable to live in sets; JSON composites become tuples.
    if isinstance(value, Mapping):
        return tuple(sorted((k, _hashable(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    return value


def parse_element(token: str) -> PathElement:
    """Parse one ``fieldsV1`` key such as ``f:spec`` or ``k:{"name":"app"}``.

    Raises:
        FieldsV1Error: for an unknown prefix or malformed JSON.
    """
    prefix, sep, rest = token.partition(":")
    if not sep:
        raise FieldsV1Error(f"fieldsV1 element {token!r} has no prefix")
    try:
        if prefix == "f":
            return Field(rest)
        if prefix == "k":
            decoded = json.loads(rest)
            if not isinstance(decoded, dict):
                raise FieldsV1Error(f"fieldsV1 key element {token!r} is not a JSON object")
            return Key(tuple(sorted((k, _hashable(v)) for k, v in decoded.items())))
        if prefix == "v":
            return Value(_hashable(json.loads(rest)))
        if prefix == "i":
            return Index(int(rest))
    except ValueError as err:
        raise FieldsV1Error(f"fieldsV1 element {token!r} is malformed: {err}") from err
    raise FieldsV1Error(f"fieldsV1 element {token!r} has unknown prefix {prefix!r}")


@dataclasses.dataclass(frozen=True)
class FieldSet:
    """A set of paths as a trie: ``member`` says the path to this node is itself in the set."""

    member: bool = False
    children: tuple[tuple[PathElement, FieldSet], ...] = ()

    @property
    def empty(self) -> bool:
        """Whether the set holds no path."""
        return not self.member and not self.children


EMPTY = FieldSet()
"""The set with no paths."""


def parse(fields_v1: Mapping[str, Any]) -> FieldSet:
    """Parse a ``fieldsV1`` document into a ``FieldSet``.

    Raises:
        FieldsV1Error: when the document is not a ``fieldsV1`` trie.
    """
    return _parse_node(fields_v1, top=True)


def _parse_node(node: Mapping[str, Any], *, top: bool = False) -> FieldSet:
    if not isinstance(node, Mapping):
        raise FieldsV1Error(f"fieldsV1 node must be an object, got {type(node).__name__}")
    # An empty node below the root is a leaf: the path to it is owned.
    member = (not node and not top) or "." in node
    children = tuple(
        (parse_element(token), _parse_node(child)) for token, child in node.items() if token != "."
    )
    return FieldSet(member=member, children=children)


def paths(fieldset: FieldSet) -> Iterator[Path]:
    """Every path in the set, parents before children."""
    yield from _paths(fieldset, ())


def _paths(node: FieldSet, prefix: Path) -> Iterator[Path]:
    if node.member and prefix:
        yield prefix
    for element, child in node.children:
        yield from _paths(child, (*prefix, element))


def from_paths(all_paths: Iterable[Path]) -> FieldSet:
    """Build a ``FieldSet`` holding exactly these paths (duplicates merge)."""
    root: dict[Any, Any] = {}
    for path in all_paths:
        node = root
        for element in path:
            node = node.setdefault(element, {})
        node[None] = True  # None marks membership; elements are never None.
    return _freeze(root)


def _freeze(node: dict[Any, Any]) -> FieldSet:
    return FieldSet(
        member=bool(node.get(None)),
        children=tuple(
            (element, _freeze(child)) for element, child in node.items() if element is not None
        ),
    )


def union(sets: Iterable[FieldSet]) -> FieldSet:
    """The union of several field sets."""
    return from_paths(path for fieldset in sets for path in paths(fieldset))


def owned_by(obj: Manifest, managers: Collection[str]) -> FieldSet:
    """The fields the listed managers own in ``obj``, per its ``metadata.managedFields``.

    Entries in other formats than ``FieldsV1`` are skipped; a malformed entry raises.
    """
    entries = metadata_of(obj).get("managedFields")
    if not isinstance(entries, list):
        return FieldSet()
    sets = [
        parse(entry.get("fieldsV1") or {})
        for entry in entries
        if isinstance(entry, Mapping)
        and entry.get("manager") in managers
        and entry.get("fieldsType", "FieldsV1") == "FieldsV1"
    ]
    return union(sets)


def remove(obj: Manifest, fieldset: FieldSet) -> MutableManifest:
    """Return a copy of ``obj`` without the fields in ``fieldset``; absent paths are skipped.

    A member node removes the whole value; a non-member node only recurses, so containers stay
    when just some of their fields are owned.
    """
    return remove_in_place(normalize.copy_manifest(obj), fieldset)


def remove_in_place(obj: MutableManifest, fieldset: FieldSet) -> MutableManifest:
    """``remove`` without the copy, for an object the caller owns; returns it."""
    _remove(obj, fieldset)
    return obj


def _remove(value: Any, node: FieldSet) -> None:
    if isinstance(value, dict):
        for element, child in node.children:
            if isinstance(element, Field) and element.name in value:
                if child.member:
                    del value[element.name]
                else:
                    _remove(value[element.name], child)
    elif isinstance(value, list):
        doomed: set[int] = set()
        for element, child in node.children:
            for index in _matching_indices(value, element):
                if child.member:
                    doomed.add(index)
                else:
                    _remove(value[index], child)
        # Delete from the end so earlier indices stay valid.
        for index in sorted(doomed, reverse=True):
            del value[index]


def _matching_indices(items: list[Any], element: PathElement) -> list[int]:
    if isinstance(element, Key):
        return [i for i, item in enumerate(items) if element.matches(item)]
    if isinstance(element, Value):
        return [i for i, item in enumerate(items) if _hashable(item) == element.value]
    if isinstance(element, Index):
        return [element.index] if 0 <= element.index < len(items) else []
    return []


def lookup(obj: Any, path: Path) -> tuple[bool, Any]:
    """Find the value at ``path``: ``(True, value)``, or ``(False, None)`` when absent."""
    current = obj
    for element in path:
        if isinstance(element, Field):
            if not isinstance(current, Mapping) or element.name not in current:
                return False, None
            current = current[element.name]
        else:
            if not isinstance(current, list):
                return False, None
            found = _matching_indices(current, element)
            if not found:
                return False, None
            current = current[found[0]]
    return True, current


def graft(target: Any, source: Any, fieldset: FieldSet) -> Any:
    """Return ``target`` with the values ``fieldset`` names copied over from ``source``.

    Leaves are copied whole; nodes with children only get their listed children, so fields of
    ``source`` outside the set never reach the result. List items are matched by their key,
    value or position, and appended when ``target`` lacks them.
    """
    if isinstance(source, Mapping):
        out = dict(target) if isinstance(target, Mapping) else {}
        for element, child in fieldset.children:
            if isinstance(element, Field) and element.name in source:
                value = source[element.name]
                out[element.name] = (
                    graft(out.get(element.name), value, child)
                    if child.children
                    else normalize.json_copy(value)
                )
        return out
    if isinstance(source, list):
        items = list(target) if isinstance(target, list) else []
        for element, child in fieldset.children:
            for index in _matching_indices(source, element):
                item = source[index]
                found = _matching_indices(items, element)
                at = found[0] if found else None
                if child.children:
                    new = graft(items[at] if at is not None else None, item, child)
                    if isinstance(element, Key) and isinstance(new, dict):
                        # The key fields identify the item even when no one owns them.
                        for name, _ in element.fields:
                            new.setdefault(name, normalize.json_copy(item[name]))
                else:
                    new = normalize.json_copy(item)
                if at is None:
                    items.append(new)
                else:
                    items[at] = new
        return items
    return normalize.json_copy(source)
