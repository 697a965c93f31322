"""Kubernetes timestamps (RFC 3339): read tolerantly into aware datetimes, written in one form."""

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


def format_time(now: datetime.datetime) -> str:
    """A Kubernetes timestamp: RFC 3339 in UTC, whole seconds, ``Z`` suffix."""
    if now.tzinfo is not None:
        now = now.astimezone(datetime.UTC)
    return now.replace(microsecond=0, tzinfo=None).isoformat() + "Z"
