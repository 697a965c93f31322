"""Retry, timeout and self-heal schedules for sync operations; the caller supplies ``now``."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

DEFAULT_DURATION = timedelta(seconds=5)
"""Argo's default first back-off: long enough for a webhook or CRD to come up."""
DEFAULT_FACTOR = 2
DEFAULT_MAX_DURATION = timedelta(minutes=3)
"""Argo's cap: a broken app is retried at least every three minutes."""

SELF_HEAL_BASE = timedelta(seconds=2)
"""``--self-heal-backoff-timeout-seconds``: the second self-heal waits this long."""
SELF_HEAL_FACTOR = 3
SELF_HEAL_CAP = timedelta(seconds=300)
"""``--self-heal-backoff-cap-seconds``: an app fighting a mutating controller still converges."""

UNITS: dict[str, float] = {
    # Go's time.ParseDuration units, in seconds.
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "ms": 1e-3,
    "s": 1,
    "m": 60,
    "h": 3600,
}

_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")


@dataclasses.dataclass(frozen=True)
class RetryStrategy:
    """``spec.syncPolicy.retry``: how often and how patiently a failed sync is retried."""

    limit: int = 0
    """Retries after the first attempt; negative means no limit."""
    duration: timedelta = DEFAULT_DURATION
    factor: int = DEFAULT_FACTOR
    max_duration: timedelta = DEFAULT_MAX_DURATION


@dataclasses.dataclass(frozen=True)
class Retry:
    """The next attempt: its number (1 for the first retry) and when it may start."""

    attempt: int
    at: datetime


def parse_duration(value: str | int) -> timedelta | None:
    """Parse ``"5s"``, ``"2m"``, ``"1h30m"`` or a bare integer (seconds); ``None`` if invalid."""
    if isinstance(value, int):
        return timedelta(seconds=value) if value >= 0 else None
    text = value.strip()
    if text.isdigit():
        return timedelta(seconds=int(text))
    if not text or _PART.sub("", text):
        return None
    return timedelta(seconds=sum(float(n) * UNITS[unit] for n, unit in _PART.findall(text)))


def parse_retry(spec: Mapping[str, Any]) -> RetryStrategy | str:
    """Read a retry strategy; an error message naming the bad field when it is invalid."""
    backoff = spec.get("backoff") or {}
    if not isinstance(backoff, Mapping):
        return "retry.backoff must be an object"
    limit = spec.get("limit", 0)
    factor = backoff.get("factor", DEFAULT_FACTOR)
    if not isinstance(limit, int) or isinstance(limit, bool):
        return f"retry.limit must be an integer, not {limit!r}"
    if not isinstance(factor, int) or isinstance(factor, bool) or factor < 1:
        return f"retry.backoff.factor must be a positive integer, not {factor!r}"
    durations: dict[str, timedelta] = {}
    for field, default in (("duration", "5s"), ("maxDuration", "3m")):
        raw = backoff.get(field, default)
        parsed = parse_duration(raw) if isinstance(raw, str | int) else None
        if parsed is None:
            return f"retry.backoff.{field} is not a duration: {raw!r}"
        durations[field] = parsed
    return RetryStrategy(limit, durations["duration"], factor, durations["maxDuration"])


def delay(strategy: RetryStrategy, attempt: int) -> timedelta:
    """How long retry number ``attempt`` (1-based) waits after the previous attempt finished.

    ``duration * factor^(attempt-1)``, capped at ``max_duration``. Argo CD's code multiplies
    by the already-incremented count, so its first retry waits ``duration * factor`` while
    its message and docs promise ``duration``; tether keeps the documented schedule.
    """
    return _grow(strategy.duration, strategy.factor, attempt - 1, strategy.max_duration)


def next_retry(strategy: RetryStrategy, retries_so_far: int, finished_at: datetime) -> Retry | None:
    """The next retry after a failed attempt, or ``None`` once the limit is spent."""
    if 0 <= strategy.limit <= retries_so_far:
        return None
    attempt = retries_so_far + 1
    return Retry(attempt, finished_at + delay(strategy, attempt))


def timed_out(started_at: datetime, now: datetime, timeout: timedelta | None) -> bool:
    """Whether an operation has run past its timeout (``None`` or zero: never)."""
    if not timeout:
        return False
    return now - started_at > timeout


def self_heal_delay(attempts_so_far: int) -> timedelta:
    """How long a self-heal waits after the previous one finished: 0, 2 s, 6 s, 18 s … 300 s."""
    if attempts_so_far <= 0:
        return timedelta(0)
    return _grow(SELF_HEAL_BASE, SELF_HEAL_FACTOR, attempts_so_far - 1, SELF_HEAL_CAP)


def _grow(base: timedelta, factor: int, times: int, cap: timedelta) -> timedelta:
    """``base * factor**times`` capped, multiplying step by step so large counts cannot overflow."""
    wait = base
    if factor <= 1 or not base:
        return min(wait, cap)  # no growth, and a loop could otherwise run for every attempt
    for _ in range(max(times, 0)):
        if wait >= cap:
            break
        wait *= factor
    return min(wait, cap)
