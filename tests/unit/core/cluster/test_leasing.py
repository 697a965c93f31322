"""Leader election decisions over a Lease, with time passed in."""

from __future__ import annotations

import datetime

from tether.core.cluster import leasing as L

T0 = datetime.datetime(2026, 11, 27, 9, 0, 0, tzinfo=datetime.UTC)


def at(seconds: float) -> datetime.datetime:
    return T0 + datetime.timedelta(seconds=seconds)


def held_by(holder: str, renewed_at: float = 0, duration: int = 15) -> L.LeaseState:
    return L.LeaseState(holder, duration, T0, at(renewed_at), 2)


def test_an_absent_lease_is_created():
    assert L.decide(None, "a", T0) is L.Verdict.CREATE


def test_a_live_lease_held_by_another_is_waited_for():
    assert L.decide(held_by("b"), "a", at(14)) is L.Verdict.WAIT


def test_an_expired_lease_is_taken_over():
    assert L.decide(held_by("b"), "a", at(15.001)) is L.Verdict.TAKE


def test_a_released_lease_is_taken_at_once():
    released = L.released(held_by("b"), at(1))
    assert L.decide(released, "a", at(1)) is L.Verdict.TAKE


def test_the_holder_renews():
    assert L.decide(held_by("a"), "a", at(100)) is L.Verdict.RENEW


def test_renewing_keeps_the_acquire_time_and_transitions():
    renewed = L.next_state(held_by("a"), L.Verdict.RENEW, "a", 15, at(5))
    assert renewed.acquired == T0
    assert renewed.renewed == at(5)
    assert renewed.transitions == 2


def test_taking_over_counts_a_transition_and_restarts_the_acquire_time():
    taken = L.next_state(held_by("b"), L.Verdict.TAKE, "a", 15, at(20))
    assert (taken.holder, taken.acquired, taken.transitions) == ("a", at(20), 3)


def test_releasing_clears_the_holder():
    assert L.released(held_by("a"), at(3)).holder == ""


def test_microtime_round_trips():
    moment = at(1.5)
    assert L.format_microtime(moment) == "2026-11-27T09:00:01.500000Z"
    assert L.parse_microtime(L.format_microtime(moment)) == moment
    assert L.parse_microtime("garbage") is None
    assert L.parse_microtime(None) is None


def test_a_holder_renewing_its_expired_lease_acquires_it_anew():
    lapsed = held_by("a", renewed_at=0)
    renewed = L.next_state(lapsed, L.Verdict.RENEW, "a", 15, at(20))
    assert renewed.acquired == at(20) and renewed.renewed == at(20)
    kept = L.next_state(lapsed, L.Verdict.RENEW, "a", 15, at(10))
    assert kept.acquired == T0 and kept.renewed == at(10)


def test_a_leaders_attempt_may_use_what_is_left_of_its_renew_deadline():
    # Renewed at 0, deadline 10 s, trying again at 2 s: a slow API may take 8 s, not 4.
    assert L.attempt_timeout(T0, at(2), renew_deadline_s=10, least_s=4) == 8


def test_an_attempt_near_or_past_the_deadline_still_gets_the_least_time():
    assert L.attempt_timeout(T0, at(9), renew_deadline_s=10, least_s=4) == 4
    assert L.attempt_timeout(T0, at(30), renew_deadline_s=10, least_s=4) == 4


def test_a_candidate_that_never_renewed_gets_the_least_time():
    assert L.attempt_timeout(None, at(2), renew_deadline_s=10, least_s=4) == 4
