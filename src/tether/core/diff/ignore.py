"""ignoreDifferences: which fields a comparison ignores, removing them, and restoring them at sync.

Rules come from an Application's ``spec.ignoreDifferences[]`` and from system-wide settings per
group/kind. jq expressions run through an evaluator the caller injects, which enforces a deadline.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import jsonpatch
import jsonpointer

from tether.core import globs
from tether.core.diff import managedfields, normalize
from tether.model.application import GROUP_KIND as APPLICATION, ROLLBACK_HOLD
from tether.model.errors import InvalidInputError, TetherError
from tether.model.resources import Manifest, MutableManifest, ResourceKey, metadata_of


class JqError(TetherError):
    """A jq path expression could not be evaluated."""


class JqEvaluationError(JqError):
    """The expression failed on this object (a type error, say): the rule is skipped for it."""


class JqTimeoutError(JqError):
    """The expression ran past its deadline: the comparison fails rather than guess."""


JqEvaluator = Callable[[str, Any], Any]
"""Runs a jq program on one input and returns its single result, or raises ``JqError``."""


@dataclasses.dataclass(frozen=True)
class IgnoreRule:
    """One ``ignoreDifferences`` entry: which objects it selects and which fields it ignores.

    ``group`` and ``kind`` are globs; ``name`` and ``namespace`` match exactly when set.
    """

    group: str = "*"
    kind: str = "*"
    name: str = ""
    namespace: str = ""
    json_pointers: tuple[str, ...] = ()
    jq_path_expressions: tuple[str, ...] = ()
    managed_fields_managers: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for pointer in self.json_pointers:
            if not pointer.startswith("/"):
                raise InvalidInputError(
                    f"ignoreDifferences jsonPointer {pointer!r} must start with '/'"
                )

    def selects(self, key: ResourceKey) -> bool:
        """Whether the rule applies to the object with this key."""
        return (
            globs.match(self.group, key.group)
            and globs.match(self.kind, key.kind)
            and (not self.name or self.name == key.name)
            and (not self.namespace or self.namespace == key.namespace)
        )

    @classmethod
    def from_spec(cls, entry: Mapping[str, Any]) -> IgnoreRule:
        """Read one ``spec.ignoreDifferences[]`` entry (camelCase keys, as in Argo CD)."""
        return cls(
            group=str(entry.get("group") or ""),
            kind=str(entry.get("kind") or ""),
            name=str(entry.get("name") or ""),
            namespace=str(entry.get("namespace") or ""),
            json_pointers=_strings(entry.get("jsonPointers")),
            jq_path_expressions=_strings(entry.get("jqPathExpressions")),
            managed_fields_managers=_strings(entry.get("managedFieldsManagers")),
        )

    @classmethod
    def from_settings(cls, group_kind: str, entry: Mapping[str, Any]) -> IgnoreRule:
        """Read a system-wide rule keyed as in argocd-cm.

        Keys: ``all``, ``Kind`` (core group), ``group/Kind`` or ``group_Kind``.
        """
        if group_kind == "all":
            group, kind = "*", "*"
        else:
            separator = "/" if "/" in group_kind else "_"
            group, _, kind = group_kind.rpartition(separator)
        return dataclasses.replace(cls.from_spec(entry), group=group, kind=kind)


def _strings(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(str(item) for item in value)


@dataclasses.dataclass(frozen=True)
class Ignores:
    """Everything ignored for one object: merged from all rules that select it."""

    json_pointers: tuple[str, ...] = ()
    jq_path_expressions: tuple[str, ...] = ()
    owned: managedfields.FieldSet = managedfields.EMPTY
    """Fields owned by the rules' ``managedFieldsManagers`` in the live object."""

    @property
    def empty(self) -> bool:
        """Whether nothing is ignored."""
        return not self.json_pointers and not self.jq_path_expressions and self.owned.empty


def prepare(rules: Iterable[IgnoreRule], key: ResourceKey, live: Manifest | None) -> Ignores:
    """Collect what the rules selecting ``key`` ignore; ``live`` supplies managedFields.

    Call it with the raw live object: normalisation strips ``managedFields``.
    """
    selected = [rule for rule in rules if rule.selects(key)]
    managers = {m for rule in selected for m in rule.managed_fields_managers}
    return Ignores(
        json_pointers=_unique(p for rule in selected for p in rule.json_pointers),
        jq_path_expressions=_unique(e for rule in selected for e in rule.jq_path_expressions),
        owned=managedfields.owned_by(live, managers)
        if live is not None and managers
        else managedfields.FieldSet(),
    )


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def strip(obj: Manifest, ignores: Ignores, jq: JqEvaluator | None = None) -> MutableManifest:
    """Return a copy of ``obj`` without the ignored fields.

    Args:
        obj: a normalised object.
        ignores: from ``prepare``.
        jq: evaluates ``del(<expr>)``; required when there are jq expressions.

    Raises:
        JqTimeoutError: an expression ran past the evaluator's deadline.
        InvalidInputError: jq expressions are configured but no evaluator was given.
    """
    return strip_in_place(normalize.copy_manifest(obj), ignores, jq)


def strip_in_place(
    obj: MutableManifest, ignores: Ignores, jq: JqEvaluator | None = None
) -> MutableManifest:
    """``strip`` without the first copy, for an object the caller owns.

    ``obj`` may be changed, and the result may be another object (a jq result): use the result.
    """
    out = obj
    for pointer in ignores.json_pointers:
        try:
            out = jsonpatch.JsonPatch([{"op": "remove", "path": pointer}]).apply(out, in_place=True)
        except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException):
            continue  # A path the object does not have is not an error (Argo does the same).
    if ignores.jq_path_expressions:
        if jq is None:
            raise InvalidInputError("jqPathExpressions need a jq evaluator with a deadline")
        for expression in ignores.jq_path_expressions:
            try:
                result = jq(f"del({expression})", out)
            except JqEvaluationError:
                continue  # The expression does not fit this object; nothing to ignore in it.
            if isinstance(result, dict):
                out = result
    if not ignores.owned.empty:
        out = managedfields.remove_in_place(out, ignores.owned)
    return out


PRESERVED_AT_SYNC_EXCLUDED = frozenset({"status"})
"""Top-level fields never copied from live at sync: status belongs to controllers."""


HELD_BY_ROLLBACK = ("/spec/syncPolicy/automated",)
"""What a rolled-back child Application keeps against its app of apps (``ROLLBACK_HOLD``)."""


def rollback_holds(live: Mapping[ResourceKey, Manifest]) -> list[IgnoreRule]:
    """Rules that leave each rolled-back Application's automated sync as the rollback left it.

    Compared with them, the parent shows the held child as Synced and never self-heals it; a
    sync of the parent keeps the child's live value there (see ``respect``). Keyed like the
    comparison's live objects, so only Applications are looked into.
    """
    return [
        IgnoreRule(
            APPLICATION.group,
            APPLICATION.kind,
            key.name,
            key.namespace,
            json_pointers=HELD_BY_ROLLBACK,
        )
        for key, obj in live.items()
        if key.group_kind == APPLICATION
        and ROLLBACK_HOLD in (metadata_of(obj).get("annotations") or {})
    ]


def respect(
    desired: Manifest, live: Manifest | None, ignores: Ignores, jq: JqEvaluator | None = None
) -> MutableManifest:
    """``RespectIgnoreDifferences=true``: give ``desired`` the live values of ignored fields.

    Args:
        desired: the object about to be applied.
        live: the object in the cluster; ``None`` means there is nothing to keep.
        ignores: from ``prepare`` for this object.
        jq: the evaluator for jq expressions.

    Returns:
        A new desired object: ignored fields removed, then filled from live where live has them.
    """
    if live is None or ignores.empty:
        return normalize.copy_manifest(desired)
    target = strip(desired, ignores, jq)
    stripped_live = strip(live, ignores, jq)
    for field in PRESERVED_AT_SYNC_EXCLUDED:
        stripped_live.pop(field, None)
    full_live = {k: v for k, v in live.items() if k not in PRESERVED_AT_SYNC_EXCLUDED}
    restored: MutableManifest = _restore(target, stripped_live, full_live)
    return restored


def _restore(target: Any, stripped: Any, full: Any) -> Any:
    """Put back into ``target`` what ``full`` has and ``stripped`` lacks, at the same places."""
    if isinstance(target, dict) and isinstance(stripped, dict) and isinstance(full, dict):
        out = dict(target)
        for name, value in full.items():
            if name not in stripped:
                out[name] = normalize.json_copy(value)
            elif name in out:
                out[name] = _restore(out[name], stripped[name], value)
            elif stripped[name] != value and isinstance(value, dict):
                restored = _restore({}, stripped[name], value)
                if restored:
                    out[name] = restored
        return out
    if isinstance(target, list) and isinstance(stripped, list) and isinstance(full, list):
        return _restore_list(target, stripped, full)
    return target


def _merge_key(item: Any) -> Any:
    # Most Kubernetes lists of maps are keyed by `name`; fall back to the whole item.
    if isinstance(item, dict) and "name" in item:
        return ("name", item["name"])
    return ("value", repr(item))


def _restore_list(target: list[Any], stripped: list[Any], full: list[Any]) -> list[Any]:
    out = list(target)
    keyed = all(isinstance(i, dict) and "name" in i for i in (*target, *full))
    if len(stripped) == len(full):
        # Same items, some fields inside them ignored: pair them by name, else by position.
        for position, (s_item, f_item) in enumerate(zip(stripped, full, strict=True)):
            index = _find(out, f_item, position, keyed=keyed)
            if index is not None:
                out[index] = _restore(out[index], s_item, f_item)
        return out
    # Whole items were ignored: keep the live ones the target does not already hold.
    kept = [_merge_key(item) for item in stripped]
    present = {_merge_key(item) for item in out}
    for item in full:
        key = _merge_key(item)
        if key in kept:
            kept.remove(key)
        elif key not in present:
            out.append(normalize.json_copy(item))
    return out


def _find(items: Sequence[Any], like: Any, position: int, *, keyed: bool) -> int | None:
    if keyed:
        for index, item in enumerate(items):
            if item.get("name") == like.get("name"):
                return index
        return None
    return position if position < len(items) else None
