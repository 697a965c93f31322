"""Sync windows: when an AppProject lets its apps sync, decided as Argo CD decides it.

Owns which of a project's ``syncWindows`` apply to an app (:func:`matches`), whether each is
open at a time and when that changes (:meth:`Window.state`), and the verdict for an automated
or a manual sync, overrun included (:func:`check`). Time comes in as ``now``.

A window that cannot be read refuses every sync it applies to, and the message names the
project, the window and the field. Argo CD refuses a bad schedule or duration the same way;
an unknown kind, a time zone it does not know (it reads UTC) or a zero duration (never open)
it lets through, which here would be a silent surprise. Schedules run on the zone's own clock
(``cron``); Argo CD shifts UTC by the zone's offset at the time of asking instead, so the two
differ only while a window's opening and the time asked about lie on both sides of a change of
the clock.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
import zoneinfo
from collections.abc import Sequence

from tether.core import globs
from tether.core.app import cron
from tether.core.sync import backoff
from tether.model import timestamps
from tether.model.application import Application
from tether.model.project import AppProject, SyncWindow

ALLOW = "allow"
DENY = "deny"

LOOKAHEAD = datetime.timedelta(days=366)
"""How far ahead a closed window's next opening is looked for: a yearly one is still found."""

MAX_MERGED_OPENINGS = 16
"""An open window the schedule reopens before it closes is followed this many openings ahead
to find its real end; beyond that it counts as open with no end in sight."""

_TICK = datetime.timedelta(microseconds=1)
_ZONE_NAME = re.compile(r"[A-Za-z0-9_+-]+(?:/[A-Za-z0-9_+-]+)*")
"""IANA names only: the name becomes a file lookup in the time zone database."""

HOST_ZONES = frozenset({"Local", "localtime"})
"""Names for whatever zone the host is set to: a project's windows must not move with it."""


def matches(window: SyncWindow, app: Application) -> bool:
    """Whether ``window`` applies to ``app``: by its name, its destination cluster or namespace.

    Any non-empty selector matching is enough; with ``andOperator`` every non-empty one must
    match. A window selecting nothing applies to no app.
    """
    dest = app.spec.destination
    name, server, namespace = dest.name or "", dest.server or "", dest.namespace or ""

    def cluster(pattern: str) -> bool:
        # Argo CD matches the cluster as the spec names it, by name or by URL.
        return bool(name and globs.match(pattern, name)) or bool(
            server and globs.match(pattern, server)
        )

    selectors = (
        (window.applications, lambda pattern: globs.match(pattern, app.name)),
        (window.clusters, cluster),
        (window.namespaces, lambda pattern: globs.match(pattern, namespace)),
    )
    results = [any(map(test, patterns)) for patterns, test in selectors if patterns]
    if not results:
        return False
    return all(results) if window.and_operator else any(results)


@dataclasses.dataclass(frozen=True)
class Window:
    """One readable window of a project, with its place in ``spec.syncWindows``."""

    index: int
    spec: SyncWindow
    schedule: cron.Schedule
    duration: datetime.timedelta
    zone: datetime.tzinfo

    @property
    def kind(self) -> str:
        """``allow`` or ``deny``."""
        return self.spec.kind or ""

    def describe(self) -> str:
        """The window as messages name it: kind, index, schedule, duration and zone."""
        return (
            f"{self.kind} window {self.index} (schedule {self.spec.schedule!r}, duration "
            f"{self.spec.duration}, timeZone {self.spec.time_zone or 'UTC'})"
        )

    def opened_at(self, at: datetime.datetime) -> datetime.datetime | None:
        """When the opening that holds ``at`` began; ``None`` when the window is closed then.

        An opening lasts from a fire time for ``duration``, end excluded.
        """
        return cron.last_fire(self.schedule, self.zone, at, at - self.duration + _TICK)

    def state(self, now: datetime.datetime) -> WindowState:
        """Whether the window is open at ``now``, and when that changes."""
        opened = self.opened_at(now)
        if opened is None:
            return WindowState(
                self, False, cron.next_fire(self.schedule, self.zone, now, now + LOOKAHEAD)
            )
        closes = opened + self.duration
        for _ in range(MAX_MERGED_OPENINGS):
            # A fire before (or right at) the close starts a new opening: they run together.
            again = cron.last_fire(self.schedule, self.zone, closes, opened + _TICK)
            if again is None:
                return WindowState(self, True, closes)
            opened, closes = again, again + self.duration
        return WindowState(self, True, None)


@dataclasses.dataclass(frozen=True)
class WindowState:
    """A window at one time."""

    window: Window
    active: bool
    changes_at: datetime.datetime | None
    """Open: when it closes. Closed: when it next opens. ``None``: not within sight."""

    def describe(self, *, times: bool) -> str:
        """The window and whether it is open; with ``times``, until when."""
        text = f"{self.window.describe()} is {'active' if self.active else 'closed'}"
        if not times:
            return text
        if self.changes_at is not None:
            return f"{text} until {timestamps.format_time(self.changes_at)}"
        return (
            f"{text} with no end in sight" if self.active else f"{text}, not opening within a year"
        )


@dataclasses.dataclass(frozen=True)
class Verdict:
    """Whether a sync may run now, and the windows that decided it."""

    allowed: bool
    project: str = ""
    windows: tuple[WindowState, ...] = ()
    """The project's windows that apply to the app, at the time asked about."""

    blocking: tuple[WindowState, ...] = ()
    """The windows that refuse the sync (still listed when overrun lets it go on)."""

    problem: str = ""
    """Why the windows cannot be read; a sync is refused while there is one."""

    overrun: bool = False
    """Allowed only because the operation started while syncs were allowed (``syncOverrun``)."""

    @property
    def changes_at(self) -> datetime.datetime | None:
        """The next time any of the app's windows opens or closes: the verdict may change then."""
        times = [s.changes_at for s in self.windows if s.changes_at is not None]
        return min(times) if times else None

    def reason(self, *, times: bool = False) -> str:
        """Why syncs are refused ("" when they are not); ``times`` adds when windows change.

        Without times the text stays the same while the windows do, so a status written from
        it does not change every minute.
        """
        if self.problem:
            return self.problem
        if not self.blocking:
            return ""
        named = "; ".join(s.describe(times=times) for s in self.blocking)
        if self.blocking[0].window.kind == DENY:
            return f"project {self.project!r}: {named}"
        return f"project {self.project!r} syncs only inside an allow window: {named}"


def check(
    project: AppProject,
    app: Application,
    *,
    now: datetime.datetime,
    manual: bool,
    started_at: datetime.datetime | None = None,
) -> Verdict:
    """Whether the project's sync windows let ``app`` sync now, as Argo CD's ``CanSync``.

    An active deny window refuses; else, when the app has allow windows, one must be active.
    A manual sync passes when every refusing window has ``manualSync``. An operation that
    ``started_at`` a time syncs were allowed goes on when every refusing window has
    ``syncOverrun`` (a deny window that opened since, an allow window that closed since).
    """
    applying = [
        (index, window)
        for index, window in enumerate(project.spec.sync_windows or [])
        if matches(window, app)
    ]
    if not applying:
        return Verdict(True, project.name)
    parsed = [parse(index, window) for index, window in applying]
    problems = [p for p in parsed if isinstance(p, str)]
    if problems:
        return Verdict(
            False, project.name, problem=f"project {project.name!r}: {'; '.join(problems)}"
        )
    windows = [w for w in parsed if isinstance(w, Window)]
    states = tuple(w.state(now) for w in windows)
    blocking = _blocking([(s.window, s.active) for s in states], manual)
    overrun = False
    if blocking and started_at is not None and all(w.spec.sync_overrun for w in blocking):
        then = [(w, w.opened_at(started_at) is not None) for w in windows]
        overrun = not _blocking(then, manual)
    refusing = tuple(s for s in states if s.window in blocking)
    return Verdict(not blocking or overrun, project.name, states, refusing, overrun=overrun)


def _blocking(states: Sequence[tuple[Window, bool]], manual: bool) -> tuple[Window, ...]:
    """The windows that refuse a sync, given which are active; empty when it may run."""
    denying = tuple(w for w, active in states if active and w.kind == DENY)
    if denying:
        return () if manual and all(w.spec.manual_sync for w in denying) else denying
    if any(active and w.kind == ALLOW for w, active in states):
        return ()
    closed = tuple(w for w, active in states if not active and w.kind == ALLOW)
    if manual and all(w.spec.manual_sync for w in closed):
        return ()
    return closed


def parse(index: int, spec: SyncWindow) -> Window | str:
    """Window ``index`` of a project parsed, or what is wrong with it, naming the field."""
    where = f"spec.syncWindows[{index}]"
    if spec.kind not in (ALLOW, DENY):
        return f"{where}.kind {spec.kind!r}: must be 'allow' or 'deny'"
    try:
        schedule = cron.parse(spec.schedule or "")
    except cron.CronError as err:
        return f"{where}.schedule {spec.schedule!r}: {err}"
    duration = backoff.go_duration(spec.duration or "")
    if duration is None or duration <= datetime.timedelta(0):
        return (
            f"{where}.duration {spec.duration!r}: expected a positive Go duration such as "
            f"'1h', '30m' or '1h30m', of at most {backoff.MAX_DURATION.days} days"
        )
    zone = time_zone(spec.time_zone or "")
    if zone is None:
        return f"{where}.timeZone {spec.time_zone!r}: not a time zone name such as 'Europe/Paris'"
    return Window(index, spec, schedule, duration, zone)


def time_zone(name: str) -> datetime.tzinfo | None:
    """The zone of an IANA name (unset: UTC), or ``None`` when there is no such zone."""
    if name in ("", "UTC"):
        return datetime.UTC
    if name in HOST_ZONES or not _ZONE_NAME.fullmatch(name):
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return None
