"""Strategic merge patch metadata, read from the OpenAPI v3 document the API server publishes.

A kind takes strategic merge patches only when the server says so: the PATCH operation of its
path lists ``application/strategic-merge-patch+json`` (built-in types; custom resources take
JSON merge patches only). Patch strategies (``merge``, ``retainKeys``, ``replace``) and merge
keys come from the ``x-kubernetes-patch-strategy`` and ``x-kubernetes-patch-merge-key``
extensions on the schema's fields, as kubectl reads them; nothing here knows a Kubernetes type.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from typing import Any

from tether.model.resources import split_api_version

STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"
"""The media type a PATCH operation lists when the server accepts strategic merge patches."""

_KEPT = (
    # The parts of a schema a patch needs; descriptions and validations are dropped, so the
    # schema kept per kind is a small fraction of the published document.
    "properties",
    "items",
    "additionalProperties",
    "allOf",
    "$ref",
    "x-kubernetes-patch-strategy",
    "x-kubernetes-patch-merge-key",
)
_REF_PREFIX = "#/components/schemas/"


@dataclasses.dataclass(frozen=True)
class FieldMeta:
    """How a strategic merge patch treats one field."""

    strategies: tuple[str, ...] = ()
    merge_key: str = ""

    @property
    def strategy(self) -> str:
        """``merge``, ``replace`` or ``""`` (the default: maps merge, lists are replaced)."""
        return next((s for s in self.strategies if s != "retainKeys"), "")

    @property
    def retain_keys(self) -> bool:
        """Whether the field's map clears keys the patch does not name (``retainKeys``)."""
        return "retainKeys" in self.strategies


NO_META = FieldMeta()


@dataclasses.dataclass(frozen=True, eq=False)
class PatchSchema:
    """One node of a kind's schema, with the named schemas its references resolve to.

    ``node`` is ``None`` below a field the schema does not describe (free-form data, a typo):
    there maps merge and lists are replaced, as in a JSON merge patch.
    """

    schemas: Mapping[str, Mapping[str, Any]]
    node: Mapping[str, Any] | None

    def field(self, name: str) -> tuple[FieldMeta, PatchSchema]:
        """The metadata of map field ``name`` and the schema of its value."""
        prop = self._property(name)
        if prop is None:
            return NO_META, PatchSchema(self.schemas, None)
        return _meta(prop), PatchSchema(self.schemas, self._resolve(prop))

    def items_of(self, name: str) -> tuple[FieldMeta, PatchSchema]:
        """The metadata of list field ``name`` and the schema of its items."""
        prop = self._property(name)
        if prop is None:
            return NO_META, PatchSchema(self.schemas, None)
        resolved = self._resolve(prop)
        items = resolved.get("items") if resolved is not None else None
        node = self._resolve(items) if isinstance(items, Mapping) else None
        return _meta(prop), PatchSchema(self.schemas, node)

    def _property(self, name: str) -> Mapping[str, Any] | None:
        if self.node is None:
            return None
        props = self.node.get("properties")
        if isinstance(props, Mapping) and isinstance(props.get(name), Mapping):
            found: Mapping[str, Any] = props[name]
            return found
        # A map of values (labels, resources.limits, a CRD's properties): one schema per key.
        values = self.node.get("additionalProperties")
        return values if isinstance(values, Mapping) else None

    def _resolve(self, node: Mapping[str, Any]) -> Mapping[str, Any] | None:
        # As kubectl's PatchMetaFromOpenAPIV3: the first allOf, then the reference.
        all_of = node.get("allOf")
        if isinstance(all_of, list) and all_of and isinstance(all_of[0], Mapping):
            node = all_of[0]
        ref = node.get("$ref")
        if isinstance(ref, str):
            return self.schemas.get(ref.removeprefix(_REF_PREFIX))
        return node


def _meta(prop: Mapping[str, Any]) -> FieldMeta:
    strategy = prop.get("x-kubernetes-patch-strategy")
    key = prop.get("x-kubernetes-patch-merge-key")
    return FieldMeta(
        tuple(s.strip() for s in strategy.split(",")) if isinstance(strategy, str) else (),
        key if isinstance(key, str) else "",
    )


def of_kind(document: Mapping[str, Any], api_version: str, kind: str) -> PatchSchema | None:
    """The patch schema of ``kind`` from its group version's OpenAPI v3 document.

    ``None`` when the server does not take strategic merge patches for the kind (a custom
    resource), or the document does not describe it: the caller sends a JSON merge patch.
    """
    group, version = split_api_version(api_version)
    gvk = {"group": group, "version": version, "kind": kind}
    if not _takes_strategic_patches(document, gvk):
        return None
    components = document.get("components")
    published = components.get("schemas") if isinstance(components, Mapping) else None
    if not isinstance(published, Mapping):
        return None
    root = next(
        (
            name
            for name, schema in published.items()
            if isinstance(schema, Mapping)
            and gvk in (schema.get("x-kubernetes-group-version-kind") or [])
        ),
        None,
    )
    if root is None:
        return None
    kept = _reachable(published, root)
    return PatchSchema(kept, kept[root])


def _takes_strategic_patches(document: Mapping[str, Any], gvk: Mapping[str, str]) -> bool:
    paths = document.get("paths")
    if not isinstance(paths, Mapping):
        return False
    for path, operations in paths.items():
        # The object's own path: subresources (/status, /scale) end in another segment.
        if not str(path).endswith("/{name}") or not isinstance(operations, Mapping):
            continue
        patch = operations.get("patch")
        if not isinstance(patch, Mapping) or patch.get("x-kubernetes-group-version-kind") != gvk:
            continue
        content = (patch.get("requestBody") or {}).get("content") or {}
        return STRATEGIC_MERGE_PATCH in content
    return False


def _reachable(published: Mapping[str, Any], root: str) -> dict[str, Mapping[str, Any]]:
    """The named schemas ``root`` reaches, each reduced to what a patch reads."""
    kept: dict[str, Mapping[str, Any]] = {}
    pending = [root]
    while pending:
        name = pending.pop()
        if name in kept or not isinstance(published.get(name), Mapping):
            continue
        kept[name] = _compact(published[name])
        pending.extend(_references(kept[name]))
    return kept


def _compact(node: Any) -> Any:
    if isinstance(node, list):
        return [_compact(item) for item in node]
    if not isinstance(node, Mapping):
        return node
    out: dict[str, Any] = {}
    for key in _KEPT:
        if key not in node:
            continue
        value = node[key]
        if key == "properties" and isinstance(value, Mapping):
            out[key] = {name: _compact(prop) for name, prop in value.items()}
        else:
            out[key] = _compact(value)
    return out


def _references(node: Any) -> Iterator[str]:
    if isinstance(node, list):
        for item in node:
            yield from _references(item)
    elif isinstance(node, Mapping):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value.removeprefix(_REF_PREFIX)
            else:
                yield from _references(value)
