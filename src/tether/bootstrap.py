"""The composition root: builds adapters from settings and hands them to services and entry points.

Entry points never import adapters; they ask this module for wired objects.
"""

from __future__ import annotations

from tether import ports
from tether.adapters.devcluster import tools
from tether.settings import Settings


def tool_locator(settings: Settings | None = None) -> ports.ToolLocator:
    """The locator for helm, kustomize and the control-plane binaries."""
    del settings
    return tools.ToolLocator()


def build_tools(*components: str) -> dict[str, str]:
    """Build (or find cached) tool components; returns each one's binary directory."""
    return {name: str(path) for name, path in tools.build(*components).items()}
