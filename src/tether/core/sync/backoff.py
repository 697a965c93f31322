"""Retry, timeout and self-heal schedules for sync operations; the caller supplies ``now``.

Retries follow the Application's own ``RetryStrategy`` (the model's), read field by field here.
"""

from __future__ import annotations

import dataclasses
import re
from datetime import datetime, timedelta

from tether.model.app_spec import Backoff, RetryStrategy

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
class Retry:
    """The next attempt: its number (1 for the first retry) and when it may start."""

    attempt: int
    at: datetime


MAX_DURATION = timedelta(days=365)
"""Longer waits are mistakes (``99999999999999999h`` overflowed and stopped the controller)."""


def parse_duration(value: str | int) -> timedelta | None:
    """Parse ``"5s"``, ``"2m"``, ``"1h30m"`` or a bare integer (seconds); ``None`` if invalid.

    A duration over ``MAX_DURATION`` is invalid too.
    """
    if isinstance(value, int):
        seconds = float(value)
    elif value.strip().isdigit():
        seconds = float(value.strip())
    else:
        return go_duration(value)
    if not 0 <= seconds <= MAX_DURATION.total_seconds():
        return None
    return timedelta(seconds=seconds)


def go_duration(text: str) -> timedelta | None:
    """Parse a Go duration (``"90s"``, ``"1h30m"``, ``"1.5h"``): every number has its unit.

    ``None`` if invalid or over ``MAX_DURATION`` (a bare ``"0"`` is zero, as in Go).
    """
    text = text.strip()
    if text == "0":
        return timedelta(0)
    if not text or _PART.sub("", text):
        return None
    seconds = sum(float(n) * UNITS[unit] for n, unit in _PART.findall(text))
    if seconds > MAX_DURATION.total_seconds():
        return None
    return timedelta(seconds=seconds)


def problem(strategy: RetryStrategy) -> str | None:
    """Why ``spec.syncPolicy.retry`` cannot be followed, naming the field; ``None`` if it can."""
    backoff = strategy.backoff or Backoff()
    if backoff.factor is not None and backoff.factor < 1:
        return f"retry.backoff.factor must be a positive integer, not {backoff.factor!r}"
    for field, value in (("duration", backoff.duration), ("maxDuration", backoff.max_duration)):
        if value is not None and parse_duration(value) is None:
            return f"retry.backoff.{field} is not a duration: {value!r}"
    return None


def _growth(strategy: RetryStrategy) -> tuple[timedelta, int, timedelta]:
    """The first wait, the factor and the cap; Argo CD's defaults for what is unset or invalid."""
    backoff = strategy.backoff or Backoff()
    if problem(strategy) is not None:
        return DEFAULT_DURATION, DEFAULT_FACTOR, DEFAULT_MAX_DURATION
    first = parse_duration(backoff.duration) if backoff.duration is not None else None
    cap = parse_duration(backoff.max_duration) if backoff.max_duration is not None else None
    return (
        DEFAULT_DURATION if first is None else first,
        DEFAULT_FACTOR if backoff.factor is None else backoff.factor,
        DEFAULT_MAX_DURATION if cap is None else cap,
    )


def _limit(strategy: RetryStrategy) -> int:
    """Retries after the first attempt (negative: no limit); none for a strategy that is invalid."""
    return 0 if problem(strategy) is not None else strategy.limit or 0


def delay(strategy: RetryStrategy, attempt: int) -> timedelta:
    """How long retry number ``attempt`` (1-based) waits after the previous attempt finished.

    ``duration * factor^(attempt-1)``, capped at ``max_duration``. Argo CD's code multiplies
    by the already-incremented count, so its first retry waits ``duration * factor`` while
    its message and docs promise ``duration``; tether keeps the documented schedule.
    """
    first, factor, cap = _growth(strategy)
    return _grow(first, factor, attempt - 1, cap)


def next_retry(strategy: RetryStrategy, retries_so_far: int, finished_at: datetime) -> Retry | None:
    """The next retry after a failed attempt, or ``None`` once the limit is spent."""
    if 0 <= _limit(strategy) <= retries_so_far:
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
    """``base * factor**times`` capped (see ``grow``)."""
    seconds = grow(base.total_seconds(), factor, times, cap.total_seconds())
    return timedelta(seconds=seconds)


def grow(base: float, factor: float, times: int, cap: float) -> float:
    """``base * factor**times``, capped, step by step: no count, however large, overflows it.

    The controller's work queue backs off with this too: a power computed directly overflowed
    after about 1,025 failures of one app, and the exception ended the controller.
    """
    wait = base
    if factor <= 1 or base <= 0:
        return min(wait, cap)  # no growth, and a loop could otherwise run for every attempt
    for _ in range(max(times, 0)):
        if wait >= cap:
            break
        wait *= factor
    return min(wait, cap)
