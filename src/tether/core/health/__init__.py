"""Resource and Application health, as Argo CD judges it, plus tether's rules for Kubeflow kinds.

``assess`` judges one live object; ``aggregate`` judges an Application from its resources.
"""

from __future__ import annotations

from tether.core.health.application import ResourceHealthInput, aggregate
from tether.core.health.lua import LuaHealthOverrides, LuaHealthScript
from tether.core.health.resource import assess

__all__ = [
    "LuaHealthOverrides",
    "LuaHealthScript",
    "ResourceHealthInput",
    "aggregate",
    "assess",
]
