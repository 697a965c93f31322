"""Custom Lua health checks in Argo CD's format: reading argocd-cm, finding a script, running it.

Each run gets a fresh sandbox of ``core/luavm``, bounded by instructions and memory, not the clock.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Mapping

import yaml

from tether.core import globs, luavm
from tether.core.health._rule import unknown
from tether.model import resources
from tether.model.errors import InvalidInputError
from tether.model.resources import GroupKind
from tether.model.status import Health, HealthStatus

BLOCK_KEY = "resource.customizations"
"""argocd-cm key holding a YAML map of ``group/Kind`` (or glob) to customizations."""
SPLIT_PREFIX = "resource.customizations."
"""argocd-cm keys ``resource.customizations.<type>.<group>_<Kind>``, one customization each."""
BLOCK_SCRIPT = "health.lua"
BLOCK_OPEN_LIBS = "health.lua.useOpenLibs"
ALL_KINDS = "all"
"""``resource.customizations.health.all`` applies to every kind (Argo CD's ``*/*``)."""

DEFAULT_INSTRUCTION_BUDGET = luavm.DEFAULT_INSTRUCTION_BUDGET
DEFAULT_MEMORY_LIMIT = luavm.DEFAULT_MEMORY_LIMIT

VALID_STATUSES = frozenset(status.value for status in HealthStatus)
INVALID_STATUS = "Lua returned an invalid health status"

GO_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})
GO_FALSE = frozenset({"0", "f", "F", "FALSE", "false", "False"})
"""The spellings Go's strconv.ParseBool accepts, which argocd-cm values are parsed with."""


@dataclasses.dataclass(frozen=True)
class LuaHealthScript:
    """One custom health check and the resources it applies to."""

    pattern: str
    """``group/Kind``, ``Kind`` for the core group, or a glob such as ``*.crossplane.io/*``."""
    source: str
    use_open_libs: bool = False
    """Argo CD's switch to open all Lua libraries; accepted for compatibility, but tether always
    gives the same safe set (string, table and math included): never io, and no clock but the
    ``now`` its caller passes."""

    @property
    def is_wildcard(self) -> bool:
        """Whether the pattern is a glob rather than one exact group and kind."""
        return globs.is_pattern(self.pattern)

    def matches(self, key: str) -> bool:
        """Whether this script applies to the config key of a group and kind."""
        if self.is_wildcard:
            return globs.match(self.pattern, key)
        return self.pattern == key


@dataclasses.dataclass(frozen=True)
class LuaHealthOverrides:
    """The custom health checks configured for a cluster, and the limits they run under."""

    scripts: tuple[LuaHealthScript, ...] = ()
    instruction_budget: int = DEFAULT_INSTRUCTION_BUDGET
    memory_limit: int = DEFAULT_MEMORY_LIMIT

    @classmethod
    def from_config_map(cls, data: Mapping[str, str]) -> LuaHealthOverrides:
        """Read the health customizations of an argocd-cm ``data`` map.

        Both forms are read: the ``resource.customizations`` YAML block (``health.lua`` and
        ``health.lua.useOpenLibs`` per key, globs allowed) and the split keys
        ``resource.customizations.health.<group>_<Kind>`` and
        ``resource.customizations.useOpenLibs.<group>_<Kind>``, which win over the block.

        Raises:
            InvalidInputError: the block is not YAML, or a split key names no group and kind.
        """
        scripts: dict[str, tuple[str, bool]] = dict(_block_scripts(data.get(BLOCK_KEY, "")))
        for key, value in sorted(data.items()):
            parsed = _split_key(key)
            if parsed is None:
                continue
            kind, pattern = parsed
            source, open_libs = scripts.get(pattern, ("", False))
            if kind == "health":
                scripts[pattern] = (value, open_libs)
            else:
                scripts[pattern] = (source, _go_bool(key, value))
        return cls(
            tuple(
                LuaHealthScript(pattern, source, open_libs)
                for pattern, (source, open_libs) in sorted(scripts.items())
                if source.strip()
            )
        )

    def script_for(self, group_kind: GroupKind) -> LuaHealthScript | None:
        """The script for a group and kind: an exact key first, else the first matching glob.

        Argo CD takes whichever matching glob its map iteration meets first; tether takes them in
        sorted order so the choice is the same every time.
        """
        key = config_key(group_kind)
        for script in self.scripts:
            if not script.is_wildcard and script.pattern == key:
                return script
        for script in self.scripts:
            if script.is_wildcard and script.matches(key):
                return script
        return None


def config_key(group_kind: GroupKind) -> str:
    """Argo CD's key for a group and kind: ``group/Kind``, or ``Kind`` for the core group."""
    return f"{group_kind.group}/{group_kind.kind}" if group_kind.group else group_kind.kind


def _block_scripts(text: str) -> dict[str, tuple[str, bool]]:
    """The health scripts of the ``resource.customizations`` YAML block."""
    if not text.strip():
        return {}
    try:
        block = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise InvalidInputError(f"argocd-cm {BLOCK_KEY} is not valid YAML: {error}") from error
    if not isinstance(block, Mapping):
        raise InvalidInputError(f"argocd-cm {BLOCK_KEY} must be a map of group/Kind to settings")
    found: dict[str, tuple[str, bool]] = {}
    for pattern, settings in block.items():
        if not isinstance(settings, Mapping):
            continue
        source = settings.get(BLOCK_SCRIPT)
        open_libs = settings.get(BLOCK_OPEN_LIBS) is True
        found[str(pattern)] = (source if isinstance(source, str) else "", open_libs)
    return found


def _split_key(key: str) -> tuple[str, str] | None:
    """``(customization, pattern)`` of a split health key; None for keys health does not read."""
    if not key.startswith(SPLIT_PREFIX):
        return None
    parts = key.split(".", 3)
    if len(parts) < 4 or parts[2] not in ("health", "useOpenLibs"):
        return None
    group_kind = parts[3]
    if group_kind == ALL_KINDS:
        return parts[2], "*/*"
    pieces = group_kind.split("_")
    if len(pieces) == 2:
        return parts[2], f"{pieces[0]}/{pieces[1]}"
    if len(pieces) == 1 and group_kind:
        return parts[2], group_kind
    raise InvalidInputError(
        f"argocd-cm key {key!r}: expected resource.customizations.{parts[2]}.<group>_<Kind> "
        f"or resource.customizations.{parts[2]}.<Kind>"
    )


def _go_bool(key: str, value: str) -> bool:
    """A boolean spelled as Go's strconv.ParseBool reads it."""
    if value in GO_TRUE:
        return True
    if value in GO_FALSE:
        return False
    raise InvalidInputError(f"argocd-cm key {key!r}: {value!r} is not a boolean")


def _outcome(values: tuple[object, ...], label: str, budget: int) -> Health | None:
    """Turn the sandbox's answer into a verdict."""
    tag = values[0]
    detail = [value if isinstance(value, str) else "" for value in values[1:]]
    if tag == "health":
        status, message = detail[0], detail[1]
        if status not in VALID_STATUSES:
            return unknown(INVALID_STATUS)
        return Health(HealthStatus(status), message)
    if tag == "none":
        return None
    if tag == "invalid":
        return unknown(INVALID_STATUS)
    if tag == "budget":
        return unknown(
            f"Lua health check {label} ran past its budget of {budget:,} instructions "
            "(does it loop forever?)"
        )
    return unknown(f"Lua health check {label} failed: {detail[0] if detail else tag}")


def run(
    script: LuaHealthScript,
    obj: resources.Manifest,
    *,
    instruction_budget: int = DEFAULT_INSTRUCTION_BUDGET,
    memory_limit: int = DEFAULT_MEMORY_LIMIT,
    now: datetime.datetime | None = None,
) -> Health | None:
    """Run one script against an object, as Argo CD would, in a fresh sandbox.

    Returns None when the script returns nil or an empty table ("no health"), Unknown with the
    reason when it fails, runs past its budget or returns an invalid status.
    """
    label = script.pattern
    limits = luavm.Limits(instruction_budget, memory_limit)
    values = luavm.execute(script.source, "=health.lua", obj, mode="health", limits=limits, now=now)
    if values[0] == "memory":
        return unknown(f"Lua health check {label} failed: not enough memory")
    return _outcome(values, label, instruction_budget)
