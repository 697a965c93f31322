"""Sync windows: which apply to an app, when they are open, and whether a sync may run."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from tether.core.app import syncwindows
from tether.model.application import parse_application
from tether.model.project import SyncWindow, parse_project

UTC = datetime.UTC
HOUR = datetime.timedelta(hours=1)


def at(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime.datetime:
    return datetime.datetime(year, month, day, hour, minute, second, tzinfo=UTC)


NOW = at(2026, 6, 10, 10, 30)
"""A Wednesday, 10:30 UTC (12:30 in Paris)."""

ACTIVE = {"schedule": "0 10 * * *", "duration": "1h"}
"""Open 10:00-11:00 UTC every day: open at ``NOW``."""

CLOSED = {"schedule": "0 22 * * *", "duration": "1h"}
"""Open 22:00-23:00 UTC every day: closed at ``NOW``."""


def app(
    name: str = "web", namespace: str = "shop", server: str = "https://kubernetes.default.svc"
) -> Any:
    return parse_application(
        {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Application",
            "metadata": {"name": name, "namespace": "tether"},
            "spec": {
                "project": "p",
                "source": {"repoURL": "https://git.example/r.git", "path": "a"},
                "destination": {"server": server, "namespace": namespace},
            },
        }
    )


def project(*windows: dict[str, Any]) -> Any:
    return parse_project(
        {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "AppProject",
            "metadata": {"name": "p", "namespace": "tether"},
            "spec": {"syncWindows": [{"applications": ["*"], **w} for w in windows]},
        }
    )


def window(**fields: Any) -> SyncWindow:
    return SyncWindow.model_validate(fields)


def check(*windows: dict[str, Any], manual: bool = False, **kw: Any) -> syncwindows.Verdict:
    return syncwindows.check(project(*windows), app(), now=kw.pop("now", NOW), manual=manual, **kw)


# ---- which windows apply ------------------------------------------------------------------------


def test_a_window_applies_when_any_of_its_selectors_matches():
    web = app()
    assert syncwindows.matches(window(applications=["we*"]), web)
    assert syncwindows.matches(window(applications=["other"], namespaces=["sh?p"]), web)
    assert syncwindows.matches(window(clusters=["https://kubernetes.*"]), web)
    assert not syncwindows.matches(window(applications=["other"], namespaces=["prod"]), web)


def test_a_window_selecting_nothing_applies_to_no_app():
    assert not syncwindows.matches(window(kind="deny"), app())


def test_with_the_and_operator_every_selector_given_must_match():
    web = app()
    both = window(applications=["web"], namespaces=["shop"], and_operator=True)
    one_wrong = window(applications=["web"], namespaces=["prod"], and_operator=True)
    only_cluster = window(clusters=["*default*"], and_operator=True)
    assert syncwindows.matches(both, web)
    assert not syncwindows.matches(one_wrong, web)
    assert syncwindows.matches(only_cluster, web)


def test_clusters_match_the_destination_as_the_spec_names_it():
    by_name = parse_application(
        {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Application",
            "metadata": {"name": "web", "namespace": "tether"},
            "spec": {
                "project": "p",
                "source": {"repoURL": "https://git.example/r.git"},
                "destination": {"name": "in-cluster", "namespace": "shop"},
            },
        }
    )
    assert syncwindows.matches(window(clusters=["in-*"]), by_name)
    assert not syncwindows.matches(window(clusters=["https://kubernetes.default.svc"]), by_name)


def test_windows_that_do_not_apply_change_nothing_even_when_invalid():
    verdict = syncwindows.check(
        project({"kind": "deny", "schedule": "bad", "applications": ["other"]}),
        app(),
        now=NOW,
        manual=False,
    )
    assert verdict.allowed and not verdict.windows


# ---- when a window is open ----------------------------------------------------------------------


def test_a_window_is_open_from_its_fire_time_for_its_duration_end_excluded():
    parsed = syncwindows.parse(0, window(kind="deny", **ACTIVE))
    assert isinstance(parsed, syncwindows.Window)
    assert parsed.opened_at(at(2026, 6, 10, 10)) == at(2026, 6, 10, 10)
    assert parsed.opened_at(at(2026, 6, 10, 10, 59, 59)) == at(2026, 6, 10, 10)
    assert parsed.opened_at(at(2026, 6, 10, 11)) is None
    assert parsed.opened_at(at(2026, 6, 10, 9, 59, 59)) is None


@pytest.mark.parametrize(
    ("duration", "open_at_11_29", "open_at_11_31"),
    [("1h30m", True, False), ("90m", True, False), ("1.5h", True, False), ("30m", False, False)],
)
def test_durations_are_go_durations(duration, open_at_11_29, open_at_11_31):
    parsed = syncwindows.parse(0, window(kind="deny", schedule="0 10 * * *", duration=duration))
    assert isinstance(parsed, syncwindows.Window)
    assert (parsed.opened_at(at(2026, 6, 10, 11, 29)) is not None) is open_at_11_29
    assert (parsed.opened_at(at(2026, 6, 10, 11, 31)) is not None) is open_at_11_31


def test_a_window_spanning_midnight_is_open_on_the_next_day():
    parsed = syncwindows.parse(0, window(kind="deny", schedule="0 23 * * *", duration="3h"))
    assert isinstance(parsed, syncwindows.Window)
    assert parsed.opened_at(at(2026, 6, 11, 1, 30)) == at(2026, 6, 10, 23)


def test_the_time_zone_sets_the_wall_clock_of_the_schedule():
    # 12:00-13:00 in Paris is 10:00-11:00 UTC in summer: open at NOW (10:30 UTC).
    paris = {"kind": "deny", "schedule": "0 12 * * *", "duration": "1h"}
    assert not check({**paris, "timeZone": "Europe/Paris"}).allowed
    assert check(paris).allowed  # the same schedule in UTC is closed at 10:30


def test_a_daily_window_in_a_zone_with_summer_time_keeps_its_wall_clock_across_the_change():
    paris = window(kind="deny", schedule="0 9 * * *", duration="1h", time_zone="Europe/Paris")
    parsed = syncwindows.parse(0, paris)
    assert isinstance(parsed, syncwindows.Window)
    # The day before and the day after the spring change (2026-03-29): 08:00 UTC, then 07:00.
    assert parsed.opened_at(at(2026, 3, 28, 8, 30)) == at(2026, 3, 28, 8)
    assert parsed.opened_at(at(2026, 3, 29, 7, 30)) == at(2026, 3, 29, 7)
    assert parsed.opened_at(at(2026, 3, 29, 8, 30)) is None


def test_a_window_reopened_before_it_closes_stays_open_until_the_last_opening_ends():
    state = check({"kind": "deny", "schedule": "*/20 * * * *", "duration": "30m"}).blocking[0]
    assert state.active
    # Fires every 20 minutes for 30: the openings run together, with no end in sight.
    assert state.changes_at is None
    hourly = check({"kind": "deny", "schedule": "0,20 10 * * *", "duration": "30m"}).blocking[0]
    assert hourly.changes_at == at(2026, 6, 10, 10, 50)


def test_a_closed_window_says_when_it_opens_next():
    verdict = check({"kind": "allow", **CLOSED})
    assert verdict.changes_at == at(2026, 6, 10, 22)


def test_an_open_window_says_when_it_closes():
    verdict = check({"kind": "deny", **ACTIVE})
    assert verdict.changes_at == at(2026, 6, 10, 11)


# ---- the verdict --------------------------------------------------------------------------------


def test_an_app_without_windows_may_always_sync():
    assert check().allowed


def test_an_active_deny_window_refuses_and_a_closed_one_does_not():
    denied = check({"kind": "deny", **ACTIVE})
    assert not denied.allowed
    assert denied.reason() == (
        "project 'p': deny window 0 (schedule '0 10 * * *', duration 1h, timeZone UTC) is active"
    )
    assert check({"kind": "deny", **CLOSED}).allowed


def test_allow_windows_allow_syncs_only_while_one_is_open():
    assert check({"kind": "allow", **ACTIVE}).allowed
    closed = check({"kind": "allow", **CLOSED})
    assert not closed.allowed
    assert closed.reason().startswith(
        "project 'p' syncs only inside an allow window: allow window 0 (schedule '0 22 * * *'"
    )
    assert check({"kind": "allow", **CLOSED}, {"kind": "allow", **ACTIVE}).allowed


def test_an_active_deny_window_wins_over_an_open_allow_window():
    verdict = check({"kind": "allow", **ACTIVE}, {"kind": "deny", **ACTIVE})
    assert not verdict.allowed
    assert [s.window.index for s in verdict.blocking] == [1]


def test_a_closed_deny_window_leaves_the_decision_to_the_allow_windows():
    assert not check({"kind": "allow", **CLOSED}, {"kind": "deny", **CLOSED}).allowed
    assert check({"kind": "allow", **ACTIVE}, {"kind": "deny", **CLOSED}).allowed


def test_manual_sync_passes_a_deny_window_only_when_every_active_deny_window_allows_it():
    lenient = {"kind": "deny", "manualSync": True, **ACTIVE}
    strict = {"kind": "deny", **ACTIVE}
    assert check(lenient, manual=True).allowed
    assert not check(lenient, manual=False).allowed
    assert not check(lenient, strict, manual=True).allowed


def test_manual_sync_passes_closed_allow_windows_only_when_all_of_them_allow_it():
    lenient = {"kind": "allow", "manualSync": True, **CLOSED}
    strict = {"kind": "allow", "schedule": "0 23 * * *", "duration": "1h"}
    assert check(lenient, manual=True).allowed
    assert not check(lenient, manual=False).allowed
    assert not check(lenient, strict, manual=True).allowed


def test_a_sync_started_before_a_deny_window_opened_goes_on_with_sync_overrun():
    started = at(2026, 6, 10, 9, 55)  # before the 10:00 deny window
    overrun = {"kind": "deny", "syncOverrun": True, **ACTIVE}
    verdict = check(overrun, started_at=started)
    assert verdict.allowed and verdict.overrun
    assert not check({"kind": "deny", **ACTIVE}, started_at=started).allowed
    # Started inside the deny window: overrun does not apply.
    assert not check(overrun, started_at=at(2026, 6, 10, 10, 5)).allowed


def test_a_sync_started_inside_an_allow_window_goes_on_after_it_closes_with_sync_overrun():
    later = at(2026, 6, 10, 11, 30)  # the 10:00-11:00 allow window has closed
    overrun = {"kind": "allow", "syncOverrun": True, **ACTIVE}
    inside = at(2026, 6, 10, 10, 45)
    assert check(overrun, now=later, started_at=inside).allowed
    assert not check({"kind": "allow", **ACTIVE}, now=later, started_at=inside).allowed
    assert not check(overrun, now=later, started_at=at(2026, 6, 10, 9, 30)).allowed
    assert not check(overrun, now=later).allowed  # nothing under way: nothing to overrun


@pytest.mark.parametrize(
    ("fields", "names"),
    [
        (
            {"kind": "block", **ACTIVE},
            "spec.syncWindows[0].kind 'block': must be 'allow' or 'deny'",
        ),
        ({"schedule": "0 10 * * *", "duration": "1h"}, "spec.syncWindows[0].kind None"),
        ({"kind": "deny", "schedule": "61 * * * *", "duration": "1h"}, "[0].schedule '61 * * * *'"),
        ({"kind": "deny", "schedule": "@hourly", "duration": "1h"}, "[0].schedule '@hourly'"),
        ({"kind": "deny", "schedule": "0 10 * * *", "duration": "1 hour"}, "[0].duration '1 hour'"),
        ({"kind": "deny", "schedule": "0 10 * * *", "duration": "3600"}, "[0].duration '3600'"),
        ({"kind": "deny", "schedule": "0 10 * * *", "duration": "0s"}, "[0].duration '0s'"),
        ({"kind": "deny", "schedule": "0 10 * * *"}, "[0].duration None"),
        ({"kind": "deny", **ACTIVE, "timeZone": "Mars/Olympus"}, "[0].timeZone 'Mars/Olympus'"),
        ({"kind": "deny", **ACTIVE, "timeZone": "../../etc/passwd"}, "[0].timeZone '../../"),
        ({"kind": "deny", **ACTIVE, "timeZone": "localtime"}, "[0].timeZone 'localtime'"),
    ],
)
def test_an_invalid_window_refuses_every_sync_naming_project_window_and_field(fields, names):
    for manual in (False, True):
        verdict = check(fields, manual=manual)
        assert not verdict.allowed
        assert verdict.reason().startswith("project 'p': spec.syncWindows[0].")
        assert names in verdict.reason()


def test_the_invalid_window_is_named_by_its_place_in_the_project():
    verdict = check({"kind": "allow", **ACTIVE}, {"kind": "deny", **ACTIVE, "duration": "soon"})
    assert "spec.syncWindows[1].duration 'soon'" in verdict.reason()


def test_the_reason_with_times_says_until_when():
    verdict = check({"kind": "deny", **ACTIVE})
    assert verdict.reason(times=True).endswith("timeZone UTC) is active until 2026-06-10T11:00:00Z")
    closed = check({"kind": "allow", **CLOSED})
    assert closed.reason(times=True).endswith("is closed until 2026-06-10T22:00:00Z")
