"""tether's settings, grouped by concern; every default says why it is what it is."""

from __future__ import annotations

import dataclasses

FIELD_MANAGER = "tether"
"""The server-side-apply field manager tether applies and dry-runs under."""


@dataclasses.dataclass(frozen=True)
class Settings:
    """Process-wide configuration, passed down from the entry point through bootstrap."""

    field_manager: str = FIELD_MANAGER
    """Owns the fields tether applies; server-side diff compares only what it owns."""

    app_namespaces: tuple[str, ...] = ("tether",)
    """Namespaces whose Applications this controller reconciles (Argo CD: ``argocd``)."""
