from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tether.core.sync import backoff
from tether.core.sync.backoff import Retry
from tether.model.app_spec import RetryStrategy
from tether.model.application import parse_application
from tether.model.errors import InvalidInputError


def strategy(raw: dict[str, object]) -> RetryStrategy:
    return RetryStrategy.model_validate(raw)


T0 = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("5s", timedelta(seconds=5)),
        ("2m", timedelta(minutes=2)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("1.5s", timedelta(seconds=1.5)),
        ("250ms", timedelta(milliseconds=250)),
        ("10", timedelta(seconds=10)),
        (10, timedelta(seconds=10)),
        (" 3m ", timedelta(minutes=3)),
        ("", None),
        ("5 s", None),
        ("soon", None),
        ("5d", None),
        (-1, None),
    ],
)
def test_durations_are_go_durations_or_bare_seconds(
    text: str | int, expected: timedelta | None
) -> None:
    assert backoff.parse_duration(text) == expected


def test_a_retry_strategy_is_read_with_argos_defaults() -> None:
    assert backoff.delay(strategy({}), 1) == timedelta(seconds=5)
    custom = strategy({"limit": 3, "backoff": {"duration": "10", "factor": 3, "maxDuration": "1m"}})
    assert [backoff.delay(custom, n) for n in (1, 2, 3)] == [
        timedelta(seconds=10),
        timedelta(seconds=30),
        timedelta(minutes=1),
    ]
    assert backoff.next_retry(custom, 3, T0) is None


@pytest.mark.parametrize(
    ("spec", "named"),
    [
        ({"backoff": {"factor": 0}}, "retry.backoff.factor"),
        ({"backoff": {"duration": "later"}}, "retry.backoff.duration"),
        ({"backoff": {"maxDuration": "1.5"}}, "retry.backoff.maxDuration"),
    ],
)
def test_a_bad_retry_strategy_names_the_field_and_is_never_retried(
    spec: dict[str, object], named: str
) -> None:
    bad = strategy({"limit": 5, **spec})
    assert named in (backoff.problem(bad) or "")
    assert backoff.next_retry(bad, 0, T0) is None


@pytest.mark.parametrize(
    "spec", [{"backoff": "fast"}, {"limit": "3"}, {"limit": True}, {"backoff": {"duration": 5}}]
)
def test_a_wrongly_typed_retry_strategy_is_refused_when_it_is_read(spec: dict[str, object]) -> None:
    app = {
        "metadata": {"name": "a"},
        "spec": {"project": "p", "destination": {}, "syncPolicy": {"retry": spec}},
    }
    with pytest.raises(InvalidInputError, match=r"spec\.syncPolicy\.retry"):
        parse_application(app)


def test_the_first_retry_waits_the_documented_duration_then_grows_to_the_cap() -> None:
    endless = RetryStrategy(limit=-1)
    waits = [backoff.delay(endless, n).total_seconds() for n in range(1, 9)]
    assert waits == [5, 10, 20, 40, 80, 160, 180, 180]


def test_retries_stop_at_the_limit_and_a_negative_limit_never_stops() -> None:
    limited = RetryStrategy(limit=2)
    assert backoff.next_retry(limited, 0, T0) == Retry(1, T0 + timedelta(seconds=5))
    assert backoff.next_retry(limited, 1, T0) == Retry(2, T0 + timedelta(seconds=10))
    assert backoff.next_retry(limited, 2, T0) is None
    assert backoff.next_retry(RetryStrategy(limit=0), 0, T0) is None
    assert backoff.next_retry(RetryStrategy(limit=-1), 100, T0) is not None


def test_a_sync_times_out_only_past_its_timeout() -> None:
    assert not backoff.timed_out(T0, T0 + timedelta(hours=9), None)
    assert not backoff.timed_out(T0, T0 + timedelta(hours=9), timedelta(0))
    assert not backoff.timed_out(T0, T0 + timedelta(seconds=60), timedelta(seconds=60))
    assert backoff.timed_out(T0, T0 + timedelta(seconds=61), timedelta(seconds=60))


def test_self_heal_backs_off_two_times_three_to_the_n_capped_at_five_minutes() -> None:
    waits = [backoff.self_heal_delay(n).total_seconds() for n in range(7)]
    assert waits == [0, 2, 6, 18, 54, 162, 300]


def test_a_factor_of_one_keeps_the_wait_constant_even_for_huge_counts() -> None:
    constant = strategy({"limit": -1, "backoff": {"factor": 1}})
    assert backoff.delay(constant, 10**9) == timedelta(seconds=5)
    assert backoff.delay(strategy({"backoff": {"duration": "0s"}}), 10**9) == timedelta(0)


@pytest.mark.parametrize("text", ["99999999999999999h", "1e400s", "8761h", 10**20])
def test_a_duration_too_long_to_be_meant_is_invalid_not_an_overflow(text: str | int) -> None:
    assert backoff.parse_duration(text) is None
    bad = strategy({"limit": 3, "backoff": {"duration": str(text)}})
    assert "retry.backoff.duration" in (backoff.problem(bad) or "")
    assert backoff.next_retry(bad, 0, T0) is None
