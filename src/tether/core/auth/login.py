"""Brute-force limits on password logins: lockout per user and per client, in a bounded cache.

A key (a username, or a client's address) is locked once its failures within the window, plus
attempts still being checked, reach the limit; so a burst of parallel guesses gets no more
password checks than a sequence would. When the cache is full a random entry is evicted, never
``admin``'s and never the one being recorded, so flooding it with made-up names cannot wipe the
counter of the account under attack. Time comes in as ``now`` (seconds).
"""

from __future__ import annotations

import dataclasses
import random

from tether.core.auth.accounts import ADMIN

INVALID_LOGIN = "Invalid username or password"
"""The one answer to every failed login, so a caller cannot tell which part was wrong."""

LIMITS: dict[str, tuple[int, float]] = {
    # kind: (failures that lock, window in seconds); Argo CD's defaults for users.
    "user": (5, 300.0),
    # One address may guess across many names; allow it more, but not unlimited.
    "client": (20, 300.0),
}

CACHE_SIZE = 10_000
"""Entries kept per kind; Argo CD's code default."""


@dataclasses.dataclass
class _Entry:
    failures: int = 0
    last_failure: float = 0.0
    in_flight: int = 0


class FailureTracker:
    """Failed logins per key; only touched from one thread (the event loop)."""

    def __init__(
        self,
        max_failures: int,
        window: float,
        *,
        capacity: int = CACHE_SIZE,
        rng: random.Random | None = None,
    ) -> None:
        self._max = max_failures
        self._window = window
        self._capacity = capacity
        self._rng = rng or random.Random()
        self._entries: dict[str, _Entry] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def failures(self, key: str, now: float) -> int:
        """Failures of ``key`` that still count."""
        entry = self._fresh(key, now)
        return 0 if entry is None else entry.failures

    def begin(self, key: str, now: float) -> bool:
        """Start an attempt for ``key``; ``False`` when it is locked (do not check the password)."""
        entry = self._fresh(key, now)
        if entry is not None and entry.failures + entry.in_flight >= self._max:
            return False
        if entry is None:
            entry = self._insert(key)
        entry.in_flight += 1
        return True

    def fail(self, key: str, now: float) -> None:
        """The attempt ``begin`` started for ``key`` failed."""
        entry = self._entries.get(key) or self._insert(key)
        entry.in_flight = max(0, entry.in_flight - 1)
        entry.failures += 1
        entry.last_failure = now

    def succeed(self, key: str) -> None:
        """The attempt succeeded: the key's record is cleared."""
        self._entries.pop(key, None)

    def abandon(self, key: str) -> None:
        """The attempt ended without a verdict on the password (an error)."""
        entry = self._entries.get(key)
        if entry is not None:
            entry.in_flight = max(0, entry.in_flight - 1)
            if entry.failures == 0 and entry.in_flight == 0:
                del self._entries[key]

    def _fresh(self, key: str, now: float) -> _Entry | None:
        entry = self._entries.get(key)
        if entry is not None and entry.failures and now - entry.last_failure > self._window:
            entry.failures = 0  # the window passed: old failures no longer count
        return entry

    def _insert(self, key: str) -> _Entry:
        if len(self._entries) >= self._capacity:
            candidates = [k for k in self._entries if k not in (ADMIN, key)]
            if candidates:
                del self._entries[self._rng.choice(candidates)]
        entry = _Entry()
        self._entries[key] = entry
        return entry


def username_too_long(username: str) -> bool:
    """Names over 32 bytes are refused with 400 before any other check."""
    return len(username.encode()) > 32
