"""The controller's work queue: each key at most once, due times, per-key exponential backoff.

A key added while it is being processed is re-queued when processing finishes, so no change is
lost and no key is ever processed by two workers at once (client-go's workqueue semantics).

Two lanes share the one set of due times and held keys: keys marked as operating (an app whose
sync is in progress) are taken before plain keys (apps waiting for a comparison), but after
``OPERATION_BURST`` operation keys in a row while a plain key was due, one plain key goes.
Argo CD gets the same effect from separate operation and status processors; one lane per key
over one held set keeps a key from ever being held twice, whichever lane it came by.
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

OPERATION_BURST = 4
"""Operation keys taken in a row while comparisons wait: operations (short steps, each bringing
an app closer to Synced) get four in five takes under load, comparisons never starve. With
10,000 apps created at once a breadth-first queue let no app finish before all had compared."""


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
        self._op_heap: list[tuple[float, int, K]] = []
        self._operating: set[K] = set()
        """Keys marked as operating: whenever queued, they wait in the operation lane."""
        self._in_op: set[K] = set()
        """Queued keys whose entry lives in ``_op_heap`` (the rest are in ``_heap``)."""
        self._op_streak = 0
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
        self._push(key, due)
        return True

    def mark_operating(self, key: K, operating: bool) -> None:
        """Say whether ``key`` has an operation in progress: such a key goes in the fast lane.

        The mark stays until cleared; a key already queued moves lanes at its due time.
        """
        if operating:
            self._operating.add(key)
        else:
            self._operating.discard(key)
        due = self._due.get(key)
        if due is not None and (key in self._in_op) != operating:
            self._push(key, due)

    def is_operating(self, key: K) -> bool:
        """Whether ``key`` is marked as operating."""
        return key in self._operating

    def _push(self, key: K, due: float) -> None:
        self._due[key] = due
        entry = (due, next(self._counter), key)
        if key in self._operating:
            self._in_op.add(key)
            heapq.heappush(self._op_heap, entry)
        else:
            self._in_op.discard(key)
            heapq.heappush(self._heap, entry)
        self._changed.set()

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
            op_due = self._head_due(self._op_heap, operation=True)
            plain_due = self._head_due(self._heap, operation=False)
            now = loop.time()
            op_ready = op_due is not None and op_due <= now
            plain_ready = plain_due is not None and plain_due <= now
            if op_ready or plain_ready:
                take_op = op_ready and not (plain_ready and self._op_streak >= OPERATION_BURST)
                # The streak counts only operations taken while a comparison was due too.
                self._op_streak = self._op_streak + 1 if take_op and plain_ready else 0
                _, _, key = heapq.heappop(self._op_heap if take_op else self._heap)
                del self._due[key]
                self._in_op.discard(key)
                if self.admit is not None and not self.admit(key):
                    self._failures.pop(key, None)
                    self._operating.discard(key)
                    continue
                self._processing.add(key)
                return key
            dues = [due for due in (op_due, plain_due) if due is not None]
            timeout: float | None = min(dues) - now if dues else None
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

    def _head_due(self, heap: list[tuple[float, int, K]], *, operation: bool) -> float | None:
        """The due time of ``heap``'s first live entry, dropping stale ones before it.

        An earlier add for the same key, or a move to the other lane, leaves a superseded
        entry behind.
        """
        while heap:
            due, _, key = heap[0]
            if self._due.get(key) == due and (key in self._in_op) == operation:
                return due
            heapq.heappop(heap)
        return None
