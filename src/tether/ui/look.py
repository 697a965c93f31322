"""How statuses look: the icon, colour class and words for each health and sync status.

One table per status family, so every page, tile and tree node shows a status the same way. The
words are what screen readers say and what the tests look for; the icon is decoration.
"""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass(frozen=True)
class Look:
    """One status as shown: ``icon`` (decorative), ``tone`` (a CSS class), ``label`` (words)."""

    icon: str
    tone: str
    label: str


HEALTH: dict[str, Look] = {
    # Argo CD's health statuses, with its colours: green good, blue moving, red bad, grey idle.
    # Icons are characters the fonts Debian ships draw (⏸, an emoji, showed as an empty box).
    "Healthy": Look("♥", "good", "Healthy"),
    "Progressing": Look("◔", "moving", "Progressing"),
    "Degraded": Look("✖", "bad", "Degraded"),
    "Suspended": Look("‖", "idle", "Suspended"),
    "Missing": Look("◌", "warn", "Missing"),
    "Unknown": Look("?", "idle", "Unknown"),
}

SYNC: dict[str, Look] = {
    "Synced": Look("✔", "good", "Synced"),
    "OutOfSync": Look("⟳", "warn", "OutOfSync"),
    "Unknown": Look("?", "idle", "Unknown"),
}

OPERATION: dict[str, Look] = {
    # An operation's phase: Argo CD shows running ones as moving and failed ones as bad.
    "Running": Look("◔", "moving", "Running"),
    "Terminating": Look("◔", "moving", "Terminating"),
    "Succeeded": Look("✔", "good", "Succeeded"),
    "Failed": Look("✖", "bad", "Failed"),
    "Error": Look("✖", "bad", "Error"),
}

UNKNOWN = Look("?", "idle", "Unknown")


def health(status: str | None) -> Look:
    """How a health status looks (``Unknown`` for none or one we do not know)."""
    return HEALTH.get(status or "", UNKNOWN)


def sync(status: str | None) -> Look:
    """How a sync status looks."""
    return SYNC.get(status or "", UNKNOWN)


def operation(phase: str | None) -> Look:
    """How an operation phase looks."""
    return OPERATION.get(phase or "", dataclasses.replace(UNKNOWN, label=phase or "Unknown"))
