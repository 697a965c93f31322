"""Custom resource actions from argocd-cm, in Argo CD's format, run in the Lua sandbox.

``resource.customizations.actions.<group>_<Kind>`` (or ``actions:`` under a key of the
``resource.customizations`` block) holds a ``discovery.lua`` that returns the actions an object
offers (name → ``disabled``, ``iconClass``, ``displayName``) and ``definitions``, each an
``action.lua`` that returns the changed object, or a list of operations: ``patch`` of that
object, ``create`` of new ones. A run becomes a merge patch of that object only (an action may
not rename, move or retype it) and the objects to create, each in the object's own namespace.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Mapping, Sequence
from typing import Any

import yaml

from tether.core import globs, luavm
from tether.core.app import resourceactions
from tether.core.app.resourceactions import ActionSource, Offered, Outcome
from tether.model.errors import InvalidInputError
from tether.model.resources import GroupKind, Manifest, group_of, kind_of

BLOCK_KEY = "resource.customizations"
"""argocd-cm key holding a YAML map of ``group/Kind`` (or glob) to customizations."""
BLOCK_FIELD = "actions"
SPLIT_PREFIX = "resource.customizations.actions."
"""argocd-cm keys ``resource.customizations.actions.<group>_<Kind>``, one kind's actions each."""

DISCOVERY = "discovery.lua"
DEFINITIONS = "definitions"
MERGE_BUILTIN = "mergeBuiltinActions"
ACTION_NAME = "name"
ACTION_SCRIPT = "action.lua"

FIELDS = {
    DISCOVERY: "the script returning the actions an object offers now",
    DEFINITIONS: "each action's name and action.lua",
    MERGE_BUILTIN: "also offer the kind's built-in actions, as Argo CD does; custom ones win",
}
"""The fields of one kind's actions tether reads; any other is refused, naming it."""
DEFINITION_FIELDS = {
    ACTION_NAME: "the action's name, as discovery.lua offers it",
    ACTION_SCRIPT: "the script returning the changed object",
}

IDENTITY = (
    ("apiVersion",),
    ("kind",),
    ("metadata", "name"),
    ("metadata", "namespace"),
)
"""What an action's result must keep: the object it patches is the one it ran on."""

OPERATIONS = {
    "patch": "the object the action ran on, changed: written as a merge patch",
    "create": "a new object (Argo CD 2.8+), in the namespace of the object the action ran on",
}
"""The operations a list-shaped result may name."""


class LuaActionError(InvalidInputError):
    """A custom action that cannot be listed or run: the message names the key and the action."""


@dataclasses.dataclass(frozen=True)
class Definition:
    """One action's script."""

    name: str
    source: str


@dataclasses.dataclass(frozen=True)
class KindActions:
    """The custom actions of one group and kind (or glob), as one argocd-cm key declares them."""

    pattern: str
    """``group/Kind``, ``Kind`` for the core group, or a glob such as ``*.example.com/*``."""
    key: str
    """The argocd-cm key they come from, for messages."""
    discovery: str = ""
    definitions: tuple[Definition, ...] = ()
    merge_builtin: bool = False
    problem: str = ""
    """Why the key cannot be used (bad YAML, an unknown field); empty when it can."""

    def definition(self, action: str) -> Definition | None:
        """The script of ``action``, if defined."""
        return next((d for d in self.definitions if d.name == action), None)


@dataclasses.dataclass(frozen=True)
class LuaActionsConfig:
    """Every kind's custom actions, and the limits their scripts run under."""

    kinds: tuple[KindActions, ...] = ()
    limits: luavm.Limits = dataclasses.field(default_factory=luavm.Limits)
    problem: str = ""
    """Why the ``resource.customizations`` block cannot be read: then no kind's actions are
    known, and listing or running any action says so rather than fall back to a built-in."""

    @classmethod
    def from_config_map(cls, data: Mapping[str, str]) -> LuaActionsConfig:
        """Read the actions of an argocd-cm ``data`` map; split keys win over the block.

        A key that cannot be read is kept with its problem, so listing or running an action of
        its kind says why, and other kinds are not affected.
        """
        try:
            found: dict[str, KindActions] = dict(_block_actions(data.get(BLOCK_KEY, "")))
        except InvalidInputError as err:
            return cls(problem=str(err))
        for key, value in sorted(data.items()):
            if not key.startswith(SPLIT_PREFIX):
                continue
            pattern = _pattern(key[len(SPLIT_PREFIX) :])
            if pattern is None:
                problem = "expected resource.customizations.actions.<group>_<Kind> or .<Kind>"
                found[key] = KindActions(key, key, problem=problem)
                continue
            found[pattern] = _parse(pattern, key, value)
        return cls(tuple(found[p] for p in sorted(found)))

    def for_kind(self, group_kind: GroupKind) -> KindActions | None:
        """The actions of a group and kind: an exact key first, else the first matching glob."""
        if self.problem:
            return KindActions("*", BLOCK_KEY, problem=self.problem)
        key = config_key(group_kind)
        for entry in self.kinds:
            if entry.pattern == key:
                return entry
        for entry in self.kinds:
            if globs.is_pattern(entry.pattern) and globs.match(entry.pattern, key):
                return entry
        return None


def config_key(group_kind: GroupKind) -> str:
    """Argo CD's key for a group and kind: ``group/Kind``, or ``Kind`` for the core group."""
    return f"{group_kind.group}/{group_kind.kind}" if group_kind.group else group_kind.kind


def _pattern(group_kind: str) -> str | None:
    """``group_Kind`` → ``group/Kind`` (``Kind`` alone for the core group); None if malformed."""
    pieces = group_kind.split("_")
    if len(pieces) == 2 and all(pieces):
        return f"{pieces[0]}/{pieces[1]}"
    if len(pieces) == 1 and group_kind:
        return group_kind
    return None


def _block_actions(text: str) -> dict[str, KindActions]:
    """The ``actions`` of each key of the ``resource.customizations`` block."""
    if not text.strip():
        return {}
    try:
        block = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise InvalidInputError(f"argocd-cm {BLOCK_KEY} is not valid YAML: {err}") from err
    if not isinstance(block, Mapping):
        raise InvalidInputError(f"argocd-cm {BLOCK_KEY} must be a map of group/Kind to settings")
    found: dict[str, KindActions] = {}
    for pattern, settings in block.items():
        if isinstance(settings, Mapping) and settings.get(BLOCK_FIELD) is not None:
            label = f"{BLOCK_KEY} ({pattern}: {BLOCK_FIELD})"
            found[str(pattern)] = _parse(str(pattern), label, settings[BLOCK_FIELD])
    return found


def _parse(pattern: str, key: str, value: object) -> KindActions:
    """One kind's actions from their YAML (a string, as Argo CD keeps it, or a map)."""
    try:
        spec = yaml.safe_load(value) if isinstance(value, str) else value
    except yaml.YAMLError as err:
        return KindActions(pattern, key, problem=f"not valid YAML: {err}")
    if not isinstance(spec, Mapping):
        return KindActions(
            pattern, key, problem="expected a map with discovery.lua and definitions"
        )
    unknown = sorted(str(k) for k in spec if k not in FIELDS)
    if unknown:
        return KindActions(pattern, key, problem=f"unknown field {', '.join(unknown)}")
    discovery = spec.get(DISCOVERY) or ""
    merge = spec.get(MERGE_BUILTIN, False)
    if not isinstance(discovery, str) or not isinstance(merge, bool):
        return KindActions(
            pattern, key, problem=f"{DISCOVERY} must be text, {MERGE_BUILTIN} true/false"
        )
    definitions: list[Definition] = []
    for item in spec.get(DEFINITIONS) or []:
        if not isinstance(item, Mapping):
            return KindActions(pattern, key, problem="each definition must be a map")
        extra = sorted(str(k) for k in item if k not in DEFINITION_FIELDS)
        name, source = item.get(ACTION_NAME), item.get(ACTION_SCRIPT)
        if extra or not isinstance(name, str) or not name or not isinstance(source, str):
            what = f"unknown field {', '.join(extra)}" if extra else "needs a name and action.lua"
            return KindActions(pattern, key, problem=f"a definition {what}")
        definitions.append(Definition(name, source))
    return KindActions(pattern, key, discovery, tuple(definitions), merge)


class LuaActions:
    """argocd-cm's custom actions as an ``ActionSource``, before the built-in ones.

    ``fallback`` is what ``mergeBuiltinActions: true`` merges in (the built-in actions).
    """

    def __init__(
        self,
        config: LuaActionsConfig,
        now: datetime.datetime,
        fallback: ActionSource | None = None,
    ) -> None:
        self._config = config
        self._now = now
        self._fallback = fallback

    def _of(self, obj: Manifest) -> KindActions | None:
        entry = self._config.for_kind(GroupKind(group_of(obj), kind_of(obj)))
        if entry is not None and entry.problem:
            prefix = "" if entry.problem.startswith("argocd-cm ") else f"argocd-cm {entry.key}: "
            raise LuaActionError(prefix + entry.problem)
        return entry

    def offered(self, obj: Manifest) -> Sequence[Offered] | None:
        """What discovery.lua offers for ``obj`` (with the built-in ones if merged)."""
        entry = self._of(obj)
        if entry is None:
            return None
        found = _discover(entry, obj, self._now, self._config.limits)
        if entry.merge_builtin and self._fallback is not None:
            names = {a.name for a in found}
            found += [a for a in self._fallback.offered(obj) or () if a.name not in names]
        return found

    def run(self, obj: Manifest, action: str, now: datetime.datetime) -> Outcome | None:
        """What running ``action`` on ``obj`` writes; None when it is not offered or disabled.

        Raises:
            LuaActionError: a script failed or returned something that cannot be written.
        """
        entry = self._of(obj)
        if entry is None:
            return None
        offered = {a.name: a for a in _discover(entry, obj, now, self._config.limits)}
        if action not in offered:
            if entry.merge_builtin and self._fallback is not None:
                return self._fallback.run(obj, action, now)
            return None
        if offered[action].disabled:
            return None
        definition = entry.definition(action)
        if definition is None:
            raise LuaActionError(
                f"argocd-cm {entry.key}: {DISCOVERY} offers action {action!r}, "
                f"but {DEFINITIONS} has no {ACTION_SCRIPT} for it"
            )
        label = f"argocd-cm {entry.key}, action {action!r}"
        result = luavm.evaluate(
            definition.source, "=action.lua", obj, limits=self._config.limits, now=now
        )
        if isinstance(result, luavm.Failed):
            raise LuaActionError(f"{label}: {ACTION_SCRIPT} {result.message}")
        return _outcome_of(label, obj, result.value)


def _discover(
    entry: KindActions, obj: Manifest, now: datetime.datetime, limits: luavm.Limits
) -> list[Offered]:
    """Run ``discovery.lua``: the actions it offers, sorted by name."""
    if not entry.discovery.strip():
        return []
    label = f"argocd-cm {entry.key}"
    result = luavm.evaluate(entry.discovery, "=discovery.lua", obj, limits=limits, now=now)
    if isinstance(result, luavm.Failed):
        raise LuaActionError(f"{label}: {DISCOVERY} {result.message}")
    value = result.value
    if value == []:
        return []  # an empty table: no actions
    if not isinstance(value, dict):
        raise LuaActionError(f"{label}: {DISCOVERY} must return a table of actions by name")
    found = []
    for name, spec in sorted(value.items()):
        if spec == []:
            spec = {}  # ``actions["x"] = {}``: every default
        if not isinstance(spec, dict):
            raise LuaActionError(f"{label}: {DISCOVERY} gave action {name!r} a non-table value")
        icon, display = spec.get("iconClass", ""), spec.get("displayName", "")
        found.append(
            Offered(
                name,
                disabled=spec.get("disabled") is True,  # Argo CD reads only a boolean true
                icon_class=icon if isinstance(icon, str) else "",
                display_name=display if isinstance(display, str) else "",
            )
        )
    return found


def _outcome_of(label: str, live: Manifest, value: object) -> Outcome:
    """What ``action.lua`` returned (the object, or operations) as a patch and objects to create."""
    creates: list[Manifest] = []
    if isinstance(value, list):
        changed, creates = _operations(label, live, value)
    elif isinstance(value, dict):
        changed = value
    else:
        raise LuaActionError(
            f"{label}: {ACTION_SCRIPT} must return the object or a list of operations"
        )
    before: Any = luavm.plain(live)
    if changed is None:
        return Outcome({}, tuple(creates))
    changed = _restore_maps(changed, before)
    for path in IDENTITY:
        old, new = _at(before, path), _at(changed, path)
        if old != new:
            raise LuaActionError(
                f"{label}: {ACTION_SCRIPT} changed {'.'.join(path)} from {old!r} to {new!r}; "
                "an action may change only the object it runs on"
            )
    patch = merge_patch(before, changed)
    return Outcome(patch if isinstance(patch, dict) else {}, tuple(creates))


def _operations(
    label: str, live: Manifest, items: list[Any]
) -> tuple[dict[str, Any] | None, list[Manifest]]:
    """The one object a list of operations patches (None if none does), and those it creates."""
    patched: list[dict[str, Any]] = []
    creates: list[Manifest] = []
    for item in items:
        operation = item.get("operation") if isinstance(item, dict) else None
        resource = item.get("resource") if isinstance(item, dict) else None
        if operation not in OPERATIONS or not isinstance(resource, dict):
            raise LuaActionError(
                f"{label}: each operation must be a table with operation "
                "(patch or create) and resource"
            )
        if operation == "create":
            creates.append(_created(label, live, resource))
        else:
            patched.append(resource)
    if len(patched) > 1:
        raise LuaActionError(f"{label}: {ACTION_SCRIPT} returns {len(patched)} patches; one only")
    return (patched[0] if patched else None), creates


def _created(label: str, live: Manifest, resource: dict[str, Any]) -> Manifest:
    """An object to create, checked: typed, named, in the namespace of the object acted on."""
    metadata = resource.get("metadata")
    metadata = {} if metadata == [] else metadata  # an empty Lua table reads as a list
    namespace = _at(luavm.plain(live), ("metadata", "namespace"))
    kind = resource.get("kind")
    what = (
        f"{label}: {ACTION_SCRIPT} asks to create {kind if isinstance(kind, str) else 'an object'}"
    )
    if not isinstance(metadata, dict) or not all(
        isinstance(resource.get(field), str) and resource.get(field)
        for field in ("apiVersion", "kind")
    ):
        raise LuaActionError(f"{what} without apiVersion, kind and metadata")
    name, generate = metadata.get("name"), metadata.get("generateName")
    if not (isinstance(name, str) and name) and not (isinstance(generate, str) and generate):
        raise LuaActionError(f"{what} without metadata.name or generateName")
    if not namespace:
        raise LuaActionError(f"{what}; objects are created only beside a namespaced object")
    given = metadata.get("namespace")
    if given not in (None, "", namespace):
        raise LuaActionError(
            f"{what} in namespace {given!r}; objects are created only in {namespace!r}, "
            "the namespace of the object the action runs on"
        )
    return {**resource, "metadata": {**metadata, "namespace": namespace}}


def _at(obj: Any, path: tuple[str, ...]) -> Any:
    for step in path:
        obj = obj.get(step) if isinstance(obj, dict) else None
    return obj


def _restore_maps(new: Any, old: Any) -> Any:
    """Empty tables come back as empty lists; where the object had a map, it stays a map."""
    if isinstance(new, dict) and isinstance(old, dict):
        return {k: _restore_maps(v, old[k]) if k in old else v for k, v in new.items()}
    if isinstance(new, list) and isinstance(old, dict) and not new:
        return old
    if isinstance(new, list) and isinstance(old, list):
        return [_restore_maps(v, old[i]) if i < len(old) else v for i, v in enumerate(new)]
    return new


def merge_patch(old: Any, new: Any) -> Any:
    """The JSON merge patch (RFC 7386) turning ``old`` into ``new``; ``{}`` when equal."""
    if not (isinstance(old, dict) and isinstance(new, dict)):
        return new
    patch: dict[str, Any] = {key: None for key in old if key not in new}
    for key, value in new.items():
        if key not in old:
            patch[key] = value
        elif old[key] != value:
            inner = merge_patch(old[key], value)
            if inner != {} or not isinstance(value, dict):
                patch[key] = inner
    return patch


def sources(
    config: LuaActionsConfig, now: datetime.datetime
) -> tuple[resourceactions.ActionSource, ...]:
    """The action sources in Argo CD's order: argocd-cm's first, then the built-in table."""
    builtin = resourceactions.BuiltinActions()
    return (LuaActions(config, now, fallback=builtin), builtin)
