"""The controller's work queue: each key at most once, due times, per-key exponential backoff.

A key added while it is being processed is re-queued when processing finishes, so no change is
lost and no key is ever processed by two workers at once (client-go's workqueue semantics).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import heapq
import itertools
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from tether.core.sync import backoff

K = TypeVar("K", bound=Hashable)


@dataclasses.dataclass(frozen=True)
class Backoff:
    """Per-key retry delays: ``base * factor**failures``, capped."""

    base_s: float = 0.5
    """Half a second: a conflict on status write usually clears at once."""

    factor: float = 2.0
    cap_s: float = 300.0
    """Five minutes, as Argo CD's retry maxDuration default (3 m) rounded up for safety."""

    def delay(self, failures: int) -> float:
        """The delay before retry number ``failures`` (1-based); saturates at the cap."""
        return backoff.grow(self.base_s, self.factor, failures - 1, self.cap_s)


class WorkQueue(Generic[K]):
    """An asyncio work queue keyed by ``K`` with de-duplication and delayed adds."""

    def __init__(self, *, backoff: Backoff | None = None, max_size: int = 100_000) -> None:
        self._backoff = backoff or Backoff()
        self._max_size = max_size
        self._due: dict[K, float] = {}
        self._heap: list[tuple[float, int, K]] = []
        self._counter = itertools.count()
        self._processing: set[K] = set()
        self._dirty: dict[K, float] = {}
        self._failures: dict[K, int] = {}
        self._changed = asyncio.Event()
        self._closed = False
        self.dropped = 0
        """Adds refused because the queue was full (a metric: the queue must never fill)."""
        self.admit: Callable[[K], bool] | None = None
        """Which keys this queue takes (a sharded replica's own apps); checked on each add and
        again when a key falls due, so a key no longer admitted is dropped, not processed."""

    def __len__(self) -> int:
        return len(self._due)

    @property
    def processing(self) -> int:
        """How many keys a worker holds right now."""
        return len(self._processing)

    def add(self, key: K, delay: float = 0.0) -> bool:
        """Queue ``key`` to be due after ``delay`` seconds; an earlier due time wins.

        Returns ``False`` when a new key was refused because the queue is full: callers (watch
        callbacks, workers) never see an exception from here; the key comes back at its next
        change or resync.
        """
        if self._closed or (self.admit is not None and not self.admit(key)):
            return False
        due = asyncio.get_running_loop().time() + max(0.0, delay)
        if key in self._processing:
            self._dirty[key] = min(due, self._dirty.get(key, due))
            return True
        current = self._due.get(key)
        if current is not None and current <= due:
            return True
        if current is None and len(self._due) >= self._max_size:
            self.dropped += 1
            return False
        self._due[key] = due
        heapq.heappush(self._heap, (due, next(self._counter), key))
        self._changed.set()
        return True

    def retry(self, key: K) -> float:
        """Re-queue ``key`` after its next backoff delay; returns that delay."""
        failures = self._failures.get(key, 0) + 1
        self._failures[key] = failures
        delay = self._backoff.delay(failures)
        self.add(key, delay)
        return delay

    def forget(self, key: K) -> None:
        """Reset ``key``'s failure count after a success."""
        self._failures.pop(key, None)

    def failures(self, key: K) -> int:
        """How many times in a row ``key`` has failed."""
        return self._failures.get(key, 0)

    async def get(self) -> K | None:
        """Wait for the next due key and hold it; ``None`` once the queue is closed."""
        loop = asyncio.get_running_loop()
        while not self._closed:
            self._drop_stale_heads()
            timeout: float | None = None
            if self._heap:
                due, _, key = self._heap[0]
                wait = due - loop.time()
                if wait <= 0:
                    heapq.heappop(self._heap)
                    del self._due[key]
                    if self.admit is not None and not self.admit(key):
                        self._failures.pop(key, None)
                        continue
                    self._processing.add(key)
                    return key
                timeout = wait
            self._changed.clear()
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancellation
            # that lands as the event fires, and a worker then loops on here forever (a test
            # run hung in teardown with exactly that worker "cancelling").
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self._changed.wait()
        return None

    def done(self, key: K) -> None:
        """Release ``key``; if it was added meanwhile, it is queued again."""
        self._processing.discard(key)
        due = self._dirty.pop(key, None)
        if due is not None:
            self.add(key, max(0.0, due - asyncio.get_running_loop().time()))

    def close(self) -> None:
        """Wake every waiter; ``get`` returns ``None`` from now on."""
        self._closed = True
        self._changed.set()

    def _drop_stale_heads(self) -> None:
        # An earlier add for the same key leaves a superseded heap entry behind; skip those.
        while self._heap:
            due, _, key = self._heap[0]
            if self._due.get(key) == due:
                return
            heapq.heappop(self._heap)
