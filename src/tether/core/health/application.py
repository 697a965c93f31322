"""An Application's health from its resources' health, as Argo CD's ``setApplicationHealth``."""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Iterable

from tether.core.health import _hooks, lua, resource
from tether.model import application, resources
from tether.model.resources import ResourceKey
from tether.model.status import Health, HealthStatus, is_worse

IGNORE_HEALTHCHECK = "argocd.argoproj.io/ignore-healthcheck"
"""A live object annotated ``"true"`` is left out of its Application's health."""

APPLICATION = application.GROUP_KIND
CHILD_APP_IGNORED = frozenset({HealthStatus.MISSING, HealthStatus.UNKNOWN})
"""A child Application not created yet, or not reporting, does not hold its parent back."""

CAUSES_SHOWN = 3
"""Resources named in the message; the rest are counted ("and N more")."""


@dataclasses.dataclass(frozen=True)
class ResourceHealthInput:
    """One managed resource: its desired and live object and the health of the live one."""

    key: ResourceKey
    target: resources.Manifest | None
    live: resources.Manifest | None
    health: Health | None
    """``assess(live)``; not read when ``live`` is None (the resource is Missing)."""
    is_self: bool = False
    """The Application manages its own Application object, which must not judge itself."""

    @classmethod
    def assessed(
        cls,
        target: resources.Manifest | None,
        live: resources.Manifest | None,
        *,
        overrides: lua.LuaHealthOverrides | None = None,
        now: datetime.datetime | None = None,
        is_self: bool = False,
    ) -> ResourceHealthInput:
        """Build an input by assessing the live object."""
        known = live if live is not None else target
        if known is None:
            raise ValueError("a managed resource needs a target, a live object, or both")
        health = None if live is None else resource.assess(live, overrides=overrides, now=now)
        return cls(ResourceKey.of(known), target, live, health, is_self)


def _counted(entry: ResourceHealthInput) -> bool:
    """Whether a resource takes part in the Application's health at all."""
    if entry.target is not None and _hooks.is_skipped(entry.target):
        return False
    # Hooks are judged by the sync that runs them, not by the Application's health.
    return entry.live is None or not _hooks.is_hook(entry.live)


def _causes(causes: list[ResourceKey]) -> str:
    """``Caused by g/Kind:ns/name, ... and N more``."""
    if not causes:
        return ""
    shown = ", ".join(str(key) for key in causes[:CAUSES_SHOWN])
    if len(causes) > CAUSES_SHOWN:
        shown += f" and {len(causes) - CAUSES_SHOWN} more"
    return f"Caused by {shown}"


def aggregate(entries: Iterable[ResourceHealthInput]) -> Health:
    """The worst health among an Application's resources, naming the resources that caused it.

    Hooks, skipped and ignored resources, objects annotated ``ignore-healthcheck``, the app's own
    Application object and kinds without health are left out. A missing resource does not count
    (OutOfSync already says so), unless nothing is live at all: then the app is Missing.
    """
    worst = HealthStatus.HEALTHY
    causes: list[ResourceKey] = []
    has_resources = has_live = False
    for entry in entries:
        if not _counted(entry):
            continue
        has_resources = True
        has_live = has_live or entry.live is not None
        if entry.live is None or entry.is_self or entry.health is None:
            continue
        if resources.annotation(entry.live, IGNORE_HEALTHCHECK) == "true":
            continue
        status = entry.health.status
        if entry.key.group_kind == APPLICATION and status in CHILD_APP_IGNORED:
            continue
        if is_worse(status, worst):
            worst, causes = status, [entry.key]
        elif status == worst and status != HealthStatus.HEALTHY:
            causes.append(entry.key)
    if has_resources and not has_live and is_worse(HealthStatus.MISSING, worst):
        return Health(HealthStatus.MISSING)
    return Health(worst, _causes(causes))
