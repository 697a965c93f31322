"""Five-field cron schedules as Argo CD reads them (robfig/cron), and when they fire in a zone.

The grammar is robfig/cron's standard parser without descriptors: minute, hour, day of month,
month, day of week; ``*``, ``?``, numbers, ranges, steps, lists, month and weekday names.
A schedule fires at every instant whose wall-clock time in its zone it names, as robfig/cron
and Kubernetes CronJobs with a time zone do: a time the clock skips (spring) fires not at all
that day, a time the clock shows twice (autumn) fires twice.
"""

from __future__ import annotations

import bisect
import dataclasses
import datetime
from collections.abc import Mapping

STAR_MEANS_ALL = ("*", "?")

MONTH_NAMES = {
    name: number
    for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}
WEEKDAY_NAMES = {
    name: number for number, name in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))
}

_FIELDS: tuple[tuple[str, int, int, Mapping[str, int]], ...] = (
    # name, lowest, highest, names: robfig/cron's bounds (a weekday of 7 is refused there too).
    ("minute", 0, 59, {}),
    ("hour", 0, 23, {}),
    ("day of month", 1, 31, {}),
    ("month", 1, 12, MONTH_NAMES),
    ("day of week", 0, 6, WEEKDAY_NAMES),
)

_DAY = datetime.timedelta(days=1)
_TICK = datetime.timedelta(microseconds=1)
_PROBE = datetime.timedelta(hours=12)
"""Offset changes are looked for this far apart: zones change offset months apart, never twice
within half a day."""


class CronError(ValueError):
    """A schedule robfig/cron would refuse; the message says which field and why."""


@dataclasses.dataclass(frozen=True)
class Schedule:
    """A parsed schedule: the values each field allows, sorted."""

    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]
    either_day: bool
    """Both day fields are restricted: a day matching either one is enough (cron's old rule);
    otherwise a day must match both (a ``*`` matches every day)."""

    def day_matches(self, day: datetime.date) -> bool:
        """Whether the schedule fires on ``day`` at all."""
        if day.month not in self.months:
            return False
        in_days = day.day in self.days
        in_weekdays = day.isoweekday() % 7 in self.weekdays
        return (in_days or in_weekdays) if self.either_day else (in_days and in_weekdays)


def parse(spec: str) -> Schedule:
    """Parse a five-field schedule.

    Raises:
        CronError: Not five fields, or a field robfig/cron refuses (descriptors such as
            ``@daily`` and a ``TZ=`` prefix included: Argo CD's parser takes neither well).
    """
    text = spec.strip()
    if not text:
        raise CronError("the schedule is empty")
    if text.startswith("@"):
        raise CronError(f"descriptors such as {text.split()[0]!r} are not accepted; use 5 fields")
    if text.startswith(("TZ=", "CRON_TZ=")):
        raise CronError("a TZ= prefix is not accepted here; set the window's timeZone")
    fields = text.split()
    if len(fields) != len(_FIELDS):
        raise CronError(f"expected 5 fields (minute hour day month weekday), found {len(fields)}")
    values: list[frozenset[int]] = []
    stars: list[bool] = []
    for field, (name, low, high, names) in zip(fields, _FIELDS, strict=True):
        allowed, star = _field(field, name, low, high, names)
        values.append(allowed)
        stars.append(star)
    minutes, hours, days, months, weekdays = values
    return Schedule(
        minutes=tuple(sorted(minutes)),
        hours=tuple(sorted(hours)),
        days=days,
        months=months,
        weekdays=weekdays,
        either_day=not (stars[2] or stars[4]),
    )


def _field(
    text: str, name: str, low: int, high: int, names: Mapping[str, int]
) -> tuple[frozenset[int], bool]:
    """The values of one field and whether it counts as a star (``*``, ``?``, ``*/1``)."""
    values: set[int] = set()
    star = False
    for part in (p for p in text.split(",") if p):
        span, slash, step_text = part.partition("/")
        if "/" in step_text:
            raise CronError(f"{name} {text!r}: too many slashes in {part!r}")
        bounds = span.split("-")
        if bounds[0] in STAR_MEANS_ALL:
            start, end, part_star = low, high, True
        elif len(bounds) > 2:
            raise CronError(f"{name} {text!r}: too many hyphens in {part!r}")
        else:
            start = _number(bounds[0], name, text, names)
            end = _number(bounds[1], name, text, names) if len(bounds) == 2 else start
            part_star = False
        step = 1
        if slash:
            step = _number(step_text, name, text, {})
            if len(bounds) == 1:
                end = high  # "N/step" means "N-high/step"
            if step > 1:
                part_star = False
        if start < low or end > high:
            raise CronError(f"{name} {text!r}: {part!r} is outside {low}-{high}")
        if start > end:
            raise CronError(f"{name} {text!r}: {part!r} starts after it ends")
        if step == 0:
            raise CronError(f"{name} {text!r}: the step of {part!r} must be positive")
        values.update(range(start, end + 1, step))
        star = star or part_star
    if not values:
        raise CronError(f"{name} {text!r}: no values")
    return frozenset(values), star


def _number(text: str, name: str, field: str, names: Mapping[str, int]) -> int:
    if text.lower() in names:
        return names[text.lower()]
    if not text.isdecimal() or not text.isascii():
        raise CronError(f"{name} {field!r}: {text!r} is not a number")
    return int(text)


# ---- wall-clock times (naive, one offset) -------------------------------------------------------


def _last_wall(
    schedule: Schedule, at: datetime.datetime, floor: datetime.datetime
) -> datetime.datetime | None:
    """The latest wall-clock time the schedule names in ``[floor, at]``."""
    day = at.date()
    while day >= floor.date():
        if schedule.day_matches(day):
            top_hour = at.hour if day == at.date() else 23
            index = bisect.bisect_right(schedule.hours, top_hour)
            for hour in reversed(schedule.hours[:index]):
                same_hour = day == at.date() and hour == at.hour
                top_minute = at.minute if same_hour else 59
                position = bisect.bisect_right(schedule.minutes, top_minute)
                if position:
                    found = datetime.datetime.combine(
                        day, datetime.time(hour, schedule.minutes[position - 1])
                    )
                    return found if found >= floor else None
        day -= _DAY
    return None


def _next_wall(
    schedule: Schedule, after: datetime.datetime, ceiling: datetime.datetime, *, inclusive: bool
) -> datetime.datetime | None:
    """The earliest wall-clock time the schedule names after ``after`` and not past ``ceiling``."""
    start = after.replace(second=0, microsecond=0)
    if start < after or not inclusive:
        start += datetime.timedelta(minutes=1)
    day = start.date()
    while day <= ceiling.date():
        if schedule.day_matches(day):
            first_hour = start.hour if day == start.date() else 0
            for hour in schedule.hours[bisect.bisect_left(schedule.hours, first_hour) :]:
                same_hour = day == start.date() and hour == start.hour
                position = bisect.bisect_left(schedule.minutes, start.minute if same_hour else 0)
                if position < len(schedule.minutes):
                    found = datetime.datetime.combine(
                        day, datetime.time(hour, schedule.minutes[position])
                    )
                    return found if found <= ceiling else None
        day += _DAY
    return None


# ---- instants in a zone -------------------------------------------------------------------------


def _offset(zone: datetime.tzinfo, at: datetime.datetime) -> datetime.timedelta:
    return at.astimezone(zone).utcoffset() or datetime.timedelta(0)


def _wall(at: datetime.datetime, offset: datetime.timedelta) -> datetime.datetime:
    return (at.astimezone(datetime.UTC) + offset).replace(tzinfo=None)


def _instant(wall: datetime.datetime, offset: datetime.timedelta) -> datetime.datetime:
    return (wall - offset).replace(tzinfo=datetime.UTC)


def _offset_change_before(
    zone: datetime.tzinfo, at: datetime.datetime, lowest: datetime.datetime
) -> datetime.datetime | None:
    """Where ``at``'s offset began, if after ``lowest``: its first instant; else ``None``."""
    offset = _offset(zone, at)
    later = at
    while later > lowest:
        probe = max(later - _PROBE, lowest)
        if _offset(zone, probe) != offset:
            return _narrow(zone, offset, kept=later, other=probe)[0]
        later = probe
    return None


def _offset_change_after(
    zone: datetime.tzinfo, at: datetime.datetime, highest: datetime.datetime
) -> datetime.datetime | None:
    """The first instant after ``at``, up to ``highest``, with another offset; else ``None``."""
    offset = _offset(zone, at)
    earlier = at
    while earlier < highest:
        probe = min(earlier + _PROBE, highest)
        if _offset(zone, probe) != offset:
            return _narrow(zone, offset, kept=earlier, other=probe)[1]
        earlier = probe
    return None


def _narrow(
    zone: datetime.tzinfo,
    offset: datetime.timedelta,
    *,
    kept: datetime.datetime,
    other: datetime.datetime,
) -> tuple[datetime.datetime, datetime.datetime]:
    """Halve the span between an instant with ``offset`` and one without, down to ``_TICK``.

    Returns the two ends, still one on each side of the change.
    """
    while abs(kept - other) > _TICK:
        middle = other + (kept - other) / 2
        if _offset(zone, middle) == offset:
            kept = middle
        else:
            other = middle
    return kept, other


def last_fire(
    schedule: Schedule, zone: datetime.tzinfo, at: datetime.datetime, lowest: datetime.datetime
) -> datetime.datetime | None:
    """The latest instant in ``[lowest, at]`` the schedule fires at, in UTC."""
    fixed = isinstance(zone, datetime.timezone)
    while at >= lowest:
        # Under one offset wall time and instants move together, so the wall clock is searched;
        # the answer stands if the offset held from it to ``at``, else the search goes on
        # below the change.
        offset = _offset(zone, at)
        found = _last_wall(schedule, _wall(at, offset), _wall(lowest, offset))
        candidate = _instant(found, offset) if found is not None else None
        change = None if fixed else _offset_change_before(zone, at, candidate or lowest)
        if change is None:
            return candidate
        at = change - _TICK
    return None


def next_fire(
    schedule: Schedule, zone: datetime.tzinfo, after: datetime.datetime, highest: datetime.datetime
) -> datetime.datetime | None:
    """The earliest instant in ``(after, highest]`` the schedule fires at, in UTC."""
    fixed = isinstance(zone, datetime.timezone)
    inclusive = False
    while after <= highest:
        offset = _offset(zone, after)
        found = _next_wall(
            schedule, _wall(after, offset), _wall(highest, offset), inclusive=inclusive
        )
        candidate = _instant(found, offset) if found is not None else None
        change = None if fixed else _offset_change_after(zone, after, candidate or highest)
        if change is None:
            return candidate
        # The instant the offset changes belongs to the new offset: searched from there on.
        after, inclusive = change, True
    return None
