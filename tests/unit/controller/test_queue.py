"""The controller's work queue: de-duplication, delays, backoff, no key held twice."""

from __future__ import annotations

import asyncio

import pytest

from tether.controller.queue import Backoff, WorkQueue


async def test_a_key_added_twice_is_processed_once():
    queue: WorkQueue[str] = WorkQueue()
    queue.add("a")
    queue.add("a")
    assert len(queue) == 1
    assert await queue.get() == "a"
    assert len(queue) == 0


async def test_an_earlier_due_time_wins_over_a_later_one():
    queue: WorkQueue[str] = WorkQueue()
    queue.add("a", delay=60)
    queue.add("b", delay=0.05)
    queue.add("a", delay=0)
    assert await queue.get() == "a"
    assert await queue.get() == "b"


async def test_a_key_added_while_processing_comes_back_after_done():
    queue: WorkQueue[str] = WorkQueue()
    queue.add("a")
    key = await queue.get()
    assert key is not None
    queue.add("a")
    assert len(queue) == 0  # not queued twice while held
    queue.done(key)
    assert await asyncio.wait_for(queue.get(), 1) == "a"


async def test_retries_back_off_exponentially_up_to_the_cap():
    backoff = Backoff(base_s=1, factor=2, cap_s=5)
    assert [backoff.delay(n) for n in (1, 2, 3, 4)] == [1, 2, 4, 5]
    queue: WorkQueue[str] = WorkQueue(backoff=Backoff(base_s=0.01))
    queue.add("a")
    await queue.get()
    queue.done("a")
    assert queue.retry("a") == pytest.approx(0.01)
    assert queue.failures("a") == 1
    assert await asyncio.wait_for(queue.get(), 1) == "a"
    queue.forget("a")
    assert queue.failures("a") == 0


async def test_a_full_queue_refuses_new_keys_without_raising_but_accepts_known_ones():
    queue: WorkQueue[str] = WorkQueue(max_size=1)
    assert queue.add("a", delay=10)
    assert queue.add("a")
    assert not queue.add("b")
    assert queue.dropped == 1


def test_the_backoff_saturates_however_often_one_key_fails():
    # 2.0 ** 1025 overflowed a float: the exception ended tether run.
    backoff = Backoff()
    assert backoff.delay(1_025) == backoff.cap_s
    assert backoff.delay(10**9) == backoff.cap_s
    assert Backoff(factor=1.0001).delay(10**6) == Backoff().cap_s


async def test_a_key_that_fails_thousands_of_times_stays_queued():
    queue: WorkQueue[str] = WorkQueue(backoff=Backoff(base_s=0.0, cap_s=0.0))
    for _ in range(5_000):
        queue.add("a")
        assert await queue.get() == "a"
        queue.done("a")
        queue.retry("a")
    assert queue.failures("a") == 5_000


async def test_closing_wakes_waiting_workers():
    queue: WorkQueue[str] = WorkQueue()
    waiter = asyncio.create_task(queue.get())
    await asyncio.sleep(0)
    queue.close()
    assert await asyncio.wait_for(waiter, 1) is None
    queue.add("late")
    assert len(queue) == 0


async def test_two_workers_never_hold_the_same_key():
    queue: WorkQueue[int] = WorkQueue()
    held: set[int] = set()
    seen: list[int] = []

    async def worker() -> None:
        while (key := await queue.get()) is not None:
            assert key not in held
            held.add(key)
            seen.append(key)
            await asyncio.sleep(0)
            if key < 50:
                queue.add(key)  # re-added while held
            held.discard(key)
            queue.done(key)
            if len(seen) >= 60:
                queue.close()

    for i in range(10):
        queue.add(i)
    await asyncio.wait_for(asyncio.gather(worker(), worker()), 2)
    assert len(seen) >= 60


async def test_a_queue_that_admits_some_keys_refuses_the_others():
    queue: WorkQueue[str] = WorkQueue()
    queue.admit = lambda key: key != "theirs"
    assert not queue.add("theirs")
    assert queue.add("mine")
    assert len(queue) == 1 and queue.dropped == 0


async def test_a_key_no_longer_admitted_when_due_is_dropped_not_processed():
    queue: WorkQueue[str] = WorkQueue()
    owned = {"a", "b"}
    queue.admit = owned.__contains__
    queue.add("a")
    queue.add("b")
    owned.discard("a")  # another replica took "a" while it waited
    assert await queue.get() == "b"
    assert len(queue) == 0
