"""The health of one live object, with Argo CD's precedence: deletion, custom Lua, built-in rule."""

from __future__ import annotations

import datetime

from tether.core.health import _hooks, _read, builtin, lua
from tether.model import resources
from tether.model.status import Health, HealthStatus

PENDING_DELETION = Health(HealthStatus.PROGRESSING, "Pending deletion")


def assess(
    obj: resources.Manifest,
    *,
    overrides: lua.LuaHealthOverrides | None = None,
    now: datetime.datetime | None = None,
) -> Health | None:
    """How healthy a live object is; None when its kind has no health (ConfigMap, Secret...).

    Args:
        obj: the live object.
        overrides: custom Lua checks from argocd-cm; they win over built-in rules.
        now: the time a Lua script's ``os.time()`` returns; without it such scripts fail, as the
            core never reads the clock.
    """
    if resources.is_being_deleted(obj) and _hooks.HOOK_FINALIZER not in _read.finalizers(obj):
        # A hook keeps its finalizer until its phase ends; until then its own health counts.
        return PENDING_DELETION
    group_kind = resources.ResourceKey.of(obj).group_kind
    if overrides is not None:
        script = overrides.script_for(group_kind)
        if script is not None:
            # A script's nil answer means "no health": it does not fall through to the rule.
            return lua.run(
                script,
                obj,
                instruction_budget=overrides.instruction_budget,
                memory_limit=overrides.memory_limit,
                now=now,
            )
    rule = builtin.CHECKS.get(group_kind)
    return None if rule is None else rule.assess(obj)
