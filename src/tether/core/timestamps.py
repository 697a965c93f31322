"""Kubernetes timestamps (RFC 3339) to timezone-aware datetimes, tolerating what users write."""

from __future__ import annotations

import datetime


def parse(text: str | None) -> datetime.datetime | None:
    """Parse ``2026-11-27T09:00:00Z`` and friends; ``None`` for empty or unparsable input."""
    if not text:
        return None
    try:
        parsed = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.UTC)
