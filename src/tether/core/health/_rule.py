"""What a built-in health rule is: a check, the API versions it understands, and why it exists."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from tether.model import resources
from tether.model.status import Health, HealthStatus

Check = Callable[[resources.Manifest], Health]
"""Reads one live object and says how healthy it is."""


@dataclasses.dataclass(frozen=True)
class Rule:
    """A built-in health check for one group and kind."""

    check: Check
    why: str
    """Where the rule comes from (Argo CD's Go check, its bundled Lua, or tether's own)."""
    versions: frozenset[str] | None = None
    """API versions the check understands; None accepts any. Argo CD's typed Go checks refuse
    other versions with Unknown, and so do we."""

    def assess(self, obj: resources.Manifest) -> Health:
        """Run the check, or say Unknown for an API version it does not understand."""
        if self.versions is not None and resources.version_of(obj) not in self.versions:
            kind = resources.kind_of(obj)
            api_version = obj.get("apiVersion", "")
            return unknown(f"unsupported {kind} API version {api_version!s}")
        return self.check(obj)


def healthy(message: str = "") -> Health:
    """A Healthy verdict."""
    return Health(HealthStatus.HEALTHY, message)


def progressing(message: str = "") -> Health:
    """A Progressing verdict."""
    return Health(HealthStatus.PROGRESSING, message)


def degraded(message: str = "") -> Health:
    """A Degraded verdict."""
    return Health(HealthStatus.DEGRADED, message)


def suspended(message: str = "") -> Health:
    """A Suspended verdict."""
    return Health(HealthStatus.SUSPENDED, message)


def unknown(message: str = "") -> Health:
    """An Unknown verdict."""
    return Health(HealthStatus.UNKNOWN, message)


V1 = frozenset({"v1"})
"""The only version of the apps, core and batch kinds Argo CD's typed checks accept."""
