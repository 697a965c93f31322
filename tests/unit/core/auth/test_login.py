"""Brute-force limits: lockout in a window, parallel attempts, a cache nobody can flush."""

from __future__ import annotations

import random

from tether.core.auth import login


def tracker(capacity: int = 100) -> login.FailureTracker:
    return login.FailureTracker(5, 300.0, capacity=capacity, rng=random.Random(7))


def test_five_failures_within_the_window_lock_the_user() -> None:
    t = tracker()
    for second in range(5):
        assert t.begin("alice", now=float(second))
        t.fail("alice", now=float(second))
    assert not t.begin("alice", now=10.0)
    assert t.failures("alice", now=10.0) == 5


def test_the_lock_lifts_once_the_window_has_passed_since_the_last_failure() -> None:
    t = tracker()
    for _ in range(5):
        t.begin("alice", now=0.0)
        t.fail("alice", now=0.0)
    assert not t.begin("alice", now=300.0)
    assert t.begin("alice", now=300.5)


def test_a_success_clears_the_record() -> None:
    t = tracker()
    for _ in range(4):
        t.begin("alice", now=0.0)
        t.fail("alice", now=0.0)
    t.begin("alice", now=1.0)
    t.succeed("alice")
    assert t.failures("alice", now=1.0) == 0


def test_parallel_attempts_get_no_more_password_checks_than_the_limit() -> None:
    t = tracker()
    started = [t.begin("alice", now=0.0) for _ in range(30)]
    assert started.count(True) == 5
    for _ in range(5):
        t.fail("alice", now=0.0)
    assert t.failures("alice", now=0.0) == 5
    assert not t.begin("alice", now=1.0)


def test_an_abandoned_attempt_frees_its_slot() -> None:
    t = tracker()
    assert t.begin("bob", now=0.0)
    t.abandon("bob")
    assert len(t) == 0


def test_flooding_the_cache_with_made_up_names_keeps_admin_and_the_current_user() -> None:
    t = tracker(capacity=50)
    for _ in range(4):
        t.begin("admin", now=0.0)
        t.fail("admin", now=0.0)
    for n in range(10_000):
        name = f"made-up-{n}"
        t.begin(name, now=1.0)
        t.fail(name, now=1.0)
        assert len(t) <= 50
        assert t.failures(name, now=1.0) == 1
    assert t.failures("admin", now=2.0) == 4
    t.begin("admin", now=2.0)
    t.fail("admin", now=2.0)
    assert not t.begin("admin", now=3.0)


def test_a_username_over_32_bytes_is_too_long() -> None:
    assert not login.username_too_long("a" * 32)
    assert login.username_too_long("a" * 33)
    assert login.username_too_long("é" * 17)
