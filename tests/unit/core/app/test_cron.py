"""Cron schedules as Argo CD reads them, and when they fire in a time zone."""

from __future__ import annotations

import datetime
import zoneinfo

import pytest

from tether.core.app import cron

UTC = datetime.UTC
PARIS = zoneinfo.ZoneInfo("Europe/Paris")
NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
DAY = datetime.timedelta(days=1)
YEAR = datetime.timedelta(days=366)


def at(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime.datetime:
    return datetime.datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def fires(spec: str, zone: datetime.tzinfo, start: datetime.datetime, count: int) -> list[str]:
    """The next ``count`` fire times after ``start``, as UTC ISO strings."""
    schedule = cron.parse(spec)
    found: list[str] = []
    while len(found) < count:
        fire = cron.next_fire(schedule, zone, start, start + YEAR)
        assert fire is not None
        found.append(fire.strftime("%Y-%m-%d %H:%M"))
        start = fire
    return found


@pytest.mark.parametrize(
    "spec",
    [
        "* * * * *",
        "*/15 * * * *",
        "0 22 * * 1-5",
        "30 2 1,15 * *",
        "0 0 * jan,jul sun",
        "0 0 ? * MON",
        "5/20 * * * *",
        "0 9-17/2 * * *",
        "  0  9 * * *  ",
    ],
)
def test_schedules_robfig_cron_accepts_are_accepted(spec):
    cron.parse(spec)


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ("", "empty"),
        ("* * * *", "expected 5 fields"),
        ("0 * * * * *", "expected 5 fields"),
        ("@daily", "descriptors"),
        ("TZ=Europe/Paris 0 9 * * *", "timeZone"),
        ("60 * * * *", "minute '60'"),
        ("0 24 * * *", "hour '24'"),
        ("0 0 0 * *", "day of month '0'"),
        ("0 0 * 13 *", "month '13'"),
        ("0 0 * * 7", "day of week '7'"),
        ("5-1 * * * *", "starts after it ends"),
        ("*/0 * * * *", "must be positive"),
        ("1-2-3 * * * *", "too many hyphens"),
        ("*/2/3 * * * *", "too many slashes"),
        ("x * * * *", "'x' is not a number"),
        ("-1 * * * *", "not a number"),
        ("0 0 * * funday", "not a number"),
    ],
)
def test_schedules_robfig_cron_refuses_are_refused_naming_the_field(spec, says):
    with pytest.raises(cron.CronError, match=says):
        cron.parse(spec)


def test_a_step_from_a_single_value_runs_to_the_end_of_the_field():
    assert cron.parse("50/5 * * * *").minutes == (50, 55)


def test_a_day_must_match_both_day_fields_when_one_is_a_star():
    # 2026-03-02 is a Monday: "* * 1 *" style rules need both fields.
    assert fires("0 0 * * mon", UTC, at(2026, 3, 1), 2) == ["2026-03-02 00:00", "2026-03-09 00:00"]
    assert fires("0 0 1 * *", UTC, at(2026, 3, 1), 1) == ["2026-04-01 00:00"]


def test_a_day_matching_either_day_field_is_enough_when_both_are_restricted():
    # The 13th, or any Friday (robfig/cron and Vixie cron alike).
    assert fires("0 0 13 * fri", UTC, at(2026, 3, 1), 3) == [
        "2026-03-06 00:00",
        "2026-03-13 00:00",
        "2026-03-20 00:00",
    ]


def test_a_stepped_star_counts_as_restricted_for_the_day_rule():
    # "*/2" is not a star for robfig/cron: odd days of month, or Sundays.
    assert fires("0 0 */2 * sun", UTC, at(2026, 3, 1, 1), 3) == [
        "2026-03-03 00:00",
        "2026-03-05 00:00",
        "2026-03-07 00:00",
    ]


def test_february_29th_fires_only_in_leap_years():
    schedule = cron.parse("0 0 29 2 *")
    assert cron.next_fire(schedule, UTC, at(2026, 1, 1), at(2027, 12, 31)) is None
    assert cron.next_fire(schedule, UTC, at(2026, 1, 1), at(2028, 12, 31)) == at(2028, 2, 29)


def test_a_schedule_that_never_fires_finds_nothing():
    schedule = cron.parse("0 0 31 2 *")
    assert cron.next_fire(schedule, PARIS, at(2026, 1, 1), at(2027, 1, 1)) is None
    assert cron.last_fire(schedule, PARIS, at(2027, 1, 1), at(2026, 1, 1)) is None


def test_the_last_fire_counts_the_instant_itself_and_the_next_one_does_not():
    schedule = cron.parse("0 9 * * *")
    nine = at(2026, 6, 1, 9)
    assert cron.last_fire(schedule, UTC, nine, nine - DAY) == nine
    assert cron.next_fire(schedule, UTC, nine, nine + 2 * DAY) == nine + DAY


def test_the_last_fire_is_searched_no_lower_than_asked():
    schedule = cron.parse("0 9 * * *")
    now = at(2026, 6, 1, 12)
    assert cron.last_fire(schedule, UTC, now, at(2026, 6, 1, 9)) == at(2026, 6, 1, 9)
    assert cron.last_fire(schedule, UTC, now, at(2026, 6, 1, 9, 0, 1)) is None


def test_a_zone_moves_the_fire_times_to_its_wall_clock_summer_and_winter():
    # 09:00 in Paris is 07:00 UTC in summer (CEST) and 08:00 UTC in winter (CET).
    assert fires("0 9 * * *", PARIS, at(2026, 7, 1), 1) == ["2026-07-01 07:00"]
    assert fires("0 9 * * *", PARIS, at(2026, 12, 1), 1) == ["2026-12-01 08:00"]


def test_a_time_the_clock_skips_in_spring_does_not_fire_that_day():
    # Paris skips 02:00-03:00 on 2026-03-29; 02:30 does not exist that day.
    assert fires("30 2 * * *", PARIS, at(2026, 3, 27, 12), 3) == [
        "2026-03-28 01:30",
        "2026-03-30 00:30",
        "2026-03-31 00:30",
    ]


def test_a_time_the_clock_shows_twice_in_autumn_fires_twice():
    # Paris shows 02:00-03:00 twice on 2026-10-25: first in CEST (00:xx UTC), then in CET.
    assert fires("30 2 * * *", PARIS, at(2026, 10, 24, 12), 3) == [
        "2026-10-25 00:30",
        "2026-10-25 01:30",
        "2026-10-26 01:30",
    ]


def test_the_last_fire_is_found_across_an_offset_change():
    schedule = cron.parse("30 1 * * *")
    # New York falls back at 06:00 UTC on 2026-11-01: 01:30 happens at 05:30 and at 06:30.
    after_second = at(2026, 11, 1, 6, 45)
    assert cron.last_fire(schedule, NEW_YORK, after_second, after_second - DAY) == at(
        2026, 11, 1, 6, 30
    )
    between = at(2026, 11, 1, 6, 10)
    assert cron.last_fire(schedule, NEW_YORK, between, between - DAY) == at(2026, 11, 1, 5, 30)


def test_every_minute_keeps_firing_through_both_changes_of_the_clock():
    schedule = cron.parse("* * * * *")
    for change in (at(2026, 3, 29, 1), at(2026, 10, 25, 1)):
        for minutes in range(-2, 3):
            moment = change + datetime.timedelta(minutes=minutes, seconds=30)
            last = cron.last_fire(schedule, PARIS, moment, moment - DAY)
            assert last == moment.replace(second=0)
            assert cron.next_fire(
                schedule, PARIS, moment, moment + DAY
            ) == last + datetime.timedelta(minutes=1)
