"""The reflector's state machine, fed scripted event sequences."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from tether.core.cluster import reflection as r


def run(inputs: Iterable[r.Input], start: tuple[r.State, r.Action] | None = None) -> list[r.Action]:
    state, action = start or r.start()
    actions = [action]
    for observed in inputs:
        state, action = r.step(state, observed)
        actions.append(action)
    return actions


def final_state(inputs: Iterable[r.Input]) -> r.State:
    state, _ = r.start()
    for observed in inputs:
        state, _ = r.step(state, observed)
    return state


def test_a_reflector_lists_first_then_watches_from_the_lists_resource_version():
    assert run([r.Listed("100")]) == [r.List(), r.Watch("100")]


def test_events_are_applied_and_move_the_resume_point():
    actions = run([r.Listed("100"), r.Event("ADDED", "101"), r.Event("MODIFIED", "105")])
    assert actions[2:] == [r.Apply(), r.Apply()]
    assert final_state([r.Listed("100"), r.Event("MODIFIED", "105")]).resource_version == "105"


def test_a_bookmark_moves_the_resume_point_without_an_object():
    actions = run([r.Listed("100"), r.Event("BOOKMARK", "250"), r.Closed()])
    assert actions[-1] == r.Watch("250")


def test_a_watch_the_server_ends_resumes_from_the_last_event_without_a_relist():
    actions = run([r.Listed("100"), r.Event("ADDED", "120"), r.Closed()])
    assert actions[-1] == r.Watch("120")


def test_a_drop_mid_event_backs_off_then_resumes_from_the_last_complete_event():
    # The stream broke inside the event at 130: it was never applied, so 120 is the resume point.
    actions = run([r.Listed("100"), r.Event("ADDED", "120"), r.Failed(), r.Waited()])
    assert actions[-2] == r.Sleep(1.0)
    assert actions[-1] == r.Watch("120")


@pytest.mark.parametrize(
    "gone", [r.Failed(410, "Expired"), r.Failed(410, "Gone"), r.Failed(410), r.Failed(0, "Expired")]
)
def test_a_410_relists_at_once_and_watches_from_the_new_list(gone: r.Failed):
    actions = run([r.Listed("100"), r.Event("ADDED", "120"), gone, r.Listed("900")])
    assert actions[-2:] == [r.List(), r.Watch("900")]


def test_a_410_forgets_the_stale_version_so_a_later_wait_lists_instead_of_watching():
    state = final_state([r.Listed("100"), r.Failed(410, "Expired"), r.Failed(410, "Expired")])
    assert state.resource_version == ""
    assert r.step(state, r.Waited())[1] == r.List()


def test_repeated_410s_back_off_instead_of_listing_in_a_loop():
    actions = run([r.Listed("100"), r.Failed(410), r.Failed(410)])
    assert actions[-2] == r.List()
    assert isinstance(actions[-1], r.Sleep)


def test_a_resumed_watch_whose_version_is_too_old_relists():
    actions = run([r.Failed(410, "Expired"), r.Listed("500")], start=r.resume("1"))
    assert actions == [r.Watch("1"), r.List(), r.Watch("500")]


@pytest.mark.parametrize("code", [404, 403, 401, 405])
def test_terminal_errors_stop_the_reflector(code: int):
    actions = run([r.Listed("100"), r.Failed(code)])
    assert isinstance(actions[-1], r.Stop)
    assert final_state([r.Listed("100"), r.Failed(code)]).phase is r.Phase.STOPPED


def test_a_stopped_reflector_stays_stopped():
    actions = run([r.Failed(404), r.Listed("1"), r.Waited()])
    assert all(isinstance(a, r.Stop) for a in actions[1:])


def test_a_failed_first_list_backs_off_and_lists_again():
    actions = run([r.Failed(500), r.Waited(), r.Failed(0), r.Waited(), r.Listed("7")])
    assert actions == [r.List(), r.Sleep(1.0), r.List(), r.Sleep(2.0), r.List(), r.Watch("7")]


def test_backoff_doubles_and_is_capped():
    assert [r.backoff_seconds(n) for n in (1, 2, 3, 4)] == [1.0, 2.0, 4.0, 8.0]
    assert r.backoff_seconds(50) == r.BACKOFF_MAX_S


def test_a_complete_event_resets_the_backoff():
    state = final_state([r.Listed("1"), r.Failed(), r.Waited(), r.Failed(), r.Waited()])
    assert state.failures == 2
    assert r.step(state, r.Event("ADDED", "9"))[0].failures == 0


def test_synced_stays_true_across_relists():
    assert final_state([r.Listed("1"), r.Failed(410)]).synced


def test_a_relist_plan_reports_each_change_once_and_unchanged_objects_not_at_all():
    cached = {"a": "1", "b": "2", "c": "3"}
    listed = {"b": "2", "c": "7", "d": "8"}
    plan = r.plan_replace(cached, listed)
    assert plan.added == {"d"}
    assert plan.modified == {"c"}
    assert plan.deleted == {"a"}
