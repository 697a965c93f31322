"""Client-side apply (``ServerSideApply=false``): ``kubectl apply``'s three-way patch, as data.

The previous desired object lives in the ``kubectl.kubernetes.io/last-applied-configuration``
annotation. A write patches the live object with the changes from live to the new desired
object, plus the deletions from the previous desired one to the new one, and stores the new one
in the annotation: so a field removed from Git is removed from the cluster, and fields others
set are kept. Built-in kinds get a strategic merge patch (lists merged by their merge keys, as
``patchschema`` reads them from the server), custom resources a JSON merge patch. This follows
Kubernetes' ``strategicpatch.CreateThreeWayMergePatch`` and
``jsonmergepatch.CreateThreeWayJSONMergePatch`` with overwrite on, as ``kubectl apply`` calls
them.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

from tether.core.sync.patchschema import PatchSchema
from tether.model.resources import Manifest, metadata_of

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"

KUBECTL_MANAGER = "kubectl-client-side-apply"
"""The field manager of ``kubectl apply`` without ``--server-side``."""

_ORDER = "$setElementOrder/"
_DELETE_FROM = "$deleteFromPrimitiveList/"
_RETAIN = "$retainKeys"
_DIRECTIVE = "$patch"


class PatchError(ValueError):
    """The objects cannot be patched strategically (a list item without its merge key)."""


def with_last_applied(desired: Manifest) -> dict[str, Any]:
    """``desired`` carrying itself in the last-applied annotation, as ``kubectl apply`` writes it.

    The annotation holds the object without the annotation, as compact JSON with sorted keys and
    a final newline (Go's ``json.Encoder``), so objects tether writes read as kubectl's do.
    """
    metadata = dict(metadata_of(desired))
    # kubectl encodes an empty map when the manifest has no other annotation, and so do we.
    annotations = {
        k: v for k, v in (metadata.get("annotations") or {}).items() if k != LAST_APPLIED
    }
    bare = {**desired, "metadata": {**metadata, "annotations": annotations}}
    encoded = json.dumps(bare, sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n"
    return {**bare, "metadata": {**metadata, "annotations": {**annotations, LAST_APPLIED: encoded}}}


def for_create(desired: Manifest) -> dict[str, Any]:
    """What a client-side apply creates: ``desired`` with the annotation, ``null`` values dropped.

    kubectl drops them after writing the annotation, so a create stores what a patch would.
    """
    created: dict[str, Any] = _without_nulls(with_last_applied(desired))
    return created


def _without_nulls(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def last_applied(live: Manifest) -> dict[str, Any]:
    """The previous desired object from ``live``'s annotation; ``{}`` when it has none.

    An annotation that does not parse counts as none, as for kubectl: nothing is deleted then.
    """
    raw = (metadata_of(live).get("annotations") or {}).get(LAST_APPLIED)
    if not isinstance(raw, str):
        return {}
    try:
        parsed = json.loads(raw)
    except ValueError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def patch(desired: Manifest, live: Manifest, schema: PatchSchema | None) -> dict[str, Any]:
    """The patch ``kubectl apply`` sends to make ``live`` what ``desired`` asks for.

    ``desired`` is written with the annotation (``with_last_applied``); the previous desired
    object is read from ``live``'s. ``schema`` ``None`` makes a JSON merge patch, anything else a
    strategic merge patch. ``{}`` means there is nothing to change (kubectl then sends nothing).

    Raises:
        PatchError: a merged list holds an item without its merge key.
    """
    original = last_applied(live)
    modified = with_last_applied(desired)
    current = dict(live)
    if schema is None:
        additions = _drop_nulls(_merge_diff(current, modified))
        deletions = _only_nulls(_merge_diff(original, modified))
        return _union(deletions, additions, None)
    delta = _diff_maps(current, modified, schema, _Opts(ignore_deletions=True))
    deletions = _diff_maps(original, modified, schema, _Opts(ignore_changes=True))
    return _union(deletions, delta, schema)


# ---- JSON merge patch (custom resources) ----------------------------------------------------


def _merge_diff(source: Any, target: Any) -> dict[str, Any]:
    """RFC 7386: the merge patch turning the map ``source`` into the map ``target``."""
    out: dict[str, Any] = {}
    for key, value in target.items():
        if key not in source:
            out[key] = value
        elif isinstance(value, dict) and isinstance(source[key], dict):
            nested = _merge_diff(source[key], value)
            if nested:
                out[key] = nested
        elif not _equal(source[key], value):
            out[key] = value
    for key in source:
        if key not in target:
            out[key] = None
    return out


def _drop_nulls(patch_body: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in patch_body.items():
        if isinstance(value, dict) and value:
            nested = _drop_nulls(value)
            if nested:
                out[key] = nested
        elif value is not None:
            out[key] = value  # an explicit {} is a value, as in kubectl
    return out


def _only_nulls(patch_body: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in patch_body.items():
        if value is None:
            out[key] = None
        elif isinstance(value, dict) and value:
            nested = _only_nulls(value)
            if nested:
                out[key] = nested
    return out


# ---- strategic merge patch (built-in kinds) -------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Opts:
    ignore_deletions: bool = False
    ignore_changes: bool = False
    retain_keys: bool = False


def _diff_maps(
    original: Mapping[str, Any], modified: Mapping[str, Any], schema: PatchSchema, opts: _Opts
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    retained = []
    for key, value in modified.items():
        if opts.retain_keys and value is not None:
            retained.append(key)
        if key not in original or _kind(original[key]) != _kind(value):
            if not opts.ignore_changes:
                out[key] = value
            continue
        old = original[key]
        if isinstance(old, dict):
            meta, sub = schema.field(key)
            if meta.strategy == "replace":
                if not opts.ignore_changes:
                    out[key] = value
                continue
            nested_opts = dataclasses.replace(opts, retain_keys=meta.retain_keys)
            nested = _diff_maps(old, value, sub, nested_opts)
            if nested:
                out[key] = nested
        elif isinstance(old, list):
            _diff_slice(key, old, value, schema, opts, out)
        elif not opts.ignore_changes and not _equal(old, value):
            out[key] = value
    if not opts.ignore_deletions:
        out.update((key, None) for key in original if key not in modified)
    dropped_elsewhere = any(v is not None and k not in modified for k, v in original.items())
    if retained and (out or dropped_elsewhere):
        out[_RETAIN] = sorted(retained, key=_text)
    return out


def _diff_slice(
    key: str,
    old: list[Any],
    new: list[Any],
    schema: PatchSchema,
    opts: _Opts,
    out: dict[str, Any],
) -> None:
    meta, items = schema.items_of(key)
    if meta.strategy != "merge":
        if not opts.ignore_changes and not _equal(old, new):
            out[key] = new
        return
    item_opts = dataclasses.replace(opts, retain_keys=meta.retain_keys)
    additions, deletions, order = _diff_lists(old, new, items, meta.merge_key, item_opts)
    if additions:
        out[key] = additions
    if deletions:
        out[_DELETE_FROM + key] = deletions
    if order:
        out[_ORDER + key] = order


def _diff_lists(
    original: list[Any], modified: list[Any], schema: PatchSchema, merge_key: str, opts: _Opts
) -> tuple[list[Any], list[Any], list[Any]]:
    """Changed and added items, deleted scalars, and the ``$setElementOrder`` list."""
    if not original:
        return ([] if opts.ignore_changes else list(modified)), [], []
    kinds = {_kind(item) for item in [*original, *modified]}
    if len(kinds) != 1 or "list" in kinds:
        raise PatchError(f"a merged list mixes items of kinds {sorted(kinds)}")
    if kinds == {"map"}:
        changed, deleted = _diff_lists_of_maps(original, modified, schema, merge_key, opts)
        same_order = len(original) == len(modified) and all(
            _equal(a.get(merge_key), b.get(merge_key))
            for a, b in zip(original, modified, strict=True)
        )
        listed = changed + deleted
        wants_order = (not opts.ignore_changes and (listed or not same_order)) or (
            not opts.ignore_deletions and listed
        )
        order = [{merge_key: item[merge_key]} for item in modified] if wants_order else []
        return listed, [], order
    old_texts = [_text(v) for v in original]
    new_texts = [_text(v) for v in modified]
    added = [] if opts.ignore_changes else [v for v in modified if _text(v) not in old_texts]
    removed = []
    if not opts.ignore_deletions:
        removed = list({_text(v): v for v in original if _text(v) not in new_texts}.values())
    changed_order = not opts.ignore_changes and old_texts != new_texts
    order = list(modified) if removed or changed_order else []
    return added, removed, order


def _diff_lists_of_maps(
    original: list[Any], modified: list[Any], schema: PatchSchema, merge_key: str, opts: _Opts
) -> tuple[list[Any], list[Any]]:
    old_by_key = {_merge_key_text(item, merge_key): item for item in original}
    new_by_key = {_merge_key_text(item, merge_key): item for item in modified}
    changed: list[Any] = []
    for text, item in new_by_key.items():
        old = old_by_key.get(text)
        if old is None:
            if not opts.ignore_changes:
                changed.append(item)
            continue
        nested = _diff_maps(old, item, schema, opts)
        if nested:
            changed.append({**nested, merge_key: item[merge_key]})
    deleted = []
    if not opts.ignore_deletions:
        deleted = [
            {merge_key: item[merge_key], _DIRECTIVE: "delete"}
            for text, item in old_by_key.items()
            if text not in new_by_key
        ]
    return changed, deleted


def _union(base: dict[str, Any], top: dict[str, Any], schema: PatchSchema | None) -> dict[str, Any]:
    """The deletions patch and the additions patch as one (they only meet in containers)."""
    out = dict(base)
    for key, value in top.items():
        mine = out.get(key)
        if key not in out or key.startswith(_ORDER) or key == _RETAIN:
            out[key] = value
        elif isinstance(mine, dict) and isinstance(value, dict):
            meta, sub = schema.field(key) if schema is not None else (None, None)
            replaced = meta is not None and meta.strategy == "replace"
            out[key] = value if replaced else _union(mine, value, sub)
        elif isinstance(mine, list) and isinstance(value, list) and schema is not None:
            meta, items = schema.items_of(key)
            out[key] = (
                _union_lists(mine, value, meta.merge_key, items)
                if meta.strategy == "merge"
                else value
            )
        else:
            out[key] = value
    return out


def _union_lists(base: list[Any], top: list[Any], merge_key: str, schema: PatchSchema) -> list[Any]:
    if not merge_key:
        return list({_text(v): v for v in [*base, *top]}.values())
    # The additions' items first, then the deletions', as kubectl orders them.
    earlier = {_merge_key_text(item, merge_key): item for item in base}
    merged: dict[str, Any] = {}
    for item in top:
        text = _merge_key_text(item, merge_key)
        previous = earlier.pop(text, None)
        merged[text] = item if previous is None else _union(previous, item, schema)
    return [*merged.values(), *earlier.values()]


def _merge_key_text(item: Any, merge_key: str) -> str:
    if not isinstance(item, Mapping) or merge_key not in item:
        raise PatchError(
            f"{json.dumps(item)[:200]} does not contain declared merge key {merge_key!r}"
        )
    return _text(item[merge_key])


def _kind(value: Any) -> str:
    # JSON's types, as Go's reflect sees decoded JSON: every number is one type.
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "map"
    return "list"


def _equal(a: Any, b: Any) -> bool:
    """Equality of decoded JSON: ``True`` is not ``1``."""
    if _kind(a) != _kind(b):
        return False
    if isinstance(a, Mapping):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def _text(value: Any) -> str:
    return json.dumps(value, sort_keys=True)
