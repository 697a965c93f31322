"""The controller's work queue: de-duplication, delays, backoff, no key held twice."""

from __future__ import annotations

import asyncio

import pytest

from tether.controller.queue import OPERATION_BURST, Backoff, WorkQueue


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


async def test_a_key_marked_as_operating_is_taken_before_older_plain_keys():
    queue: WorkQueue[str] = WorkQueue()
    for key in ("a", "b", "c"):
        queue.add(key)
    queue.mark_operating("syncing", True)
    queue.add("syncing")
    assert await queue.get() == "syncing"
    assert [await queue.get() for _ in range(3)] == ["a", "b", "c"]


async def test_a_queued_key_marked_as_operating_moves_ahead_and_back_when_cleared():
    queue: WorkQueue[str] = WorkQueue()
    queue.add("a")
    queue.add("b")
    queue.mark_operating("b", True)
    assert await queue.get() == "b"
    queue.done("b")
    queue.add("b")
    queue.mark_operating("b", False)
    assert [await queue.get() for _ in range(2)] == ["a", "b"]
    assert len(queue) == 0


async def test_operating_keys_do_not_starve_the_comparisons():
    queue: WorkQueue[str] = WorkQueue()
    queue.add("plain")
    for i in range(OPERATION_BURST + 5):
        queue.mark_operating(f"op{i}", True)
        queue.add(f"op{i}")
    taken = [await queue.get() for _ in range(OPERATION_BURST + 1)]
    assert taken[:OPERATION_BURST] == [f"op{i}" for i in range(OPERATION_BURST)]
    assert taken[OPERATION_BURST] == "plain"


async def test_an_operating_key_re_added_while_held_comes_back_in_its_lane_after_done():
    queue: WorkQueue[str] = WorkQueue()
    queue.add("a")
    queue.mark_operating("a", True)
    assert await queue.get() == "a"
    queue.add("b")
    queue.add("a")  # its watch event, while a worker holds it
    assert len(queue) == 1
    queue.done("a")
    assert await queue.get() == "a"


async def test_the_operation_lane_keeps_due_times():
    queue: WorkQueue[str] = WorkQueue()
    queue.mark_operating("later", True)
    queue.add("later", delay=60)
    queue.add("now")
    assert await asyncio.wait_for(queue.get(), 1) == "now"
    assert len(queue) == 1


async def test_a_key_no_longer_admitted_is_dropped_from_the_operation_lane_too():
    queue: WorkQueue[str] = WorkQueue()
    owned = {"a", "b"}
    queue.admit = owned.__contains__
    queue.mark_operating("a", True)
    queue.add("a")
    queue.add("b")
    owned.discard("a")
    assert await queue.get() == "b"
    assert not queue.is_operating("a")


async def test_two_workers_never_hold_the_same_key_across_lanes():
    queue: WorkQueue[int] = WorkQueue()
    held: set[int] = set()
    seen: list[int] = []

    async def worker() -> None:
        while (key := await queue.get()) is not None:
            assert key not in held
            held.add(key)
            seen.append(key)
            queue.mark_operating((key + len(seen)) % 3, len(seen) % 2 == 0)  # lanes flip
            queue.add((key + 1) % 10)
            await asyncio.sleep(0)
            queue.add(key)  # re-added while held
            held.discard(key)
            queue.done(key)
            if len(seen) >= 300:
                queue.close()

    for i in range(10):
        queue.add(i)
    await asyncio.wait_for(asyncio.gather(*(worker() for _ in range(4))), 5)
    assert len(seen) >= 300
