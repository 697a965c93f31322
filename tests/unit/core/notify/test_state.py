"""notified.notifications.argoproj.io: sent once, edge-triggered or once per value."""

from __future__ import annotations

import json

from tether.core.notify import state


def test_the_key_holds_once_per_trigger_index_hash_of_when_service_and_recipient() -> None:
    key = state.key("abc123", "on-sync-succeeded", 0, "true", "slack", "team")
    assert key == (
        "abc123:on-sync-succeeded:[0].5ffe533b830f08a0326348a9160afafc8ada44db:slack:team"
    )
    assert state.key("", "t", 1, "true", "s", "") == (
        "t:[1].5ffe533b830f08a0326348a9160afafc8ada44db:s:"
    )


def test_editing_the_condition_gives_a_new_key_so_it_fires_again() -> None:
    assert state.key("", "t", 0, "a == 1", "s", "r") != state.key("", "t", 0, "a == 2", "s", "r")


def test_without_once_per_a_false_condition_re_arms_the_trigger() -> None:
    entry = state.key("", "t", 0, "x", "s", "r")
    notified = {entry: 10}
    assert not state.should_send(notified, entry)
    state.on_false(notified, entry, once_per="")
    assert state.should_send(notified, entry)


def test_with_once_per_entries_stay_so_each_value_fires_once() -> None:
    entry = state.key("rev1", "t", 0, "x", "s", "r")
    notified = {entry: 10}
    state.on_false(notified, entry, once_per="app.status.sync.revision")
    assert not state.should_send(notified, entry)
    assert state.should_send(notified, state.key("rev2", "t", 0, "x", "s", "r"))


def test_at_most_a_hundred_entries_are_kept_the_oldest_dropped() -> None:
    notified = {f"k{i}": i for i in range(150)}
    kept = json.loads(state.dump(notified))
    assert len(kept) == state.MAX_ENTRIES
    assert "k49" not in kept and "k50" in kept and "k149" in kept


def test_a_damaged_annotation_counts_as_empty() -> None:
    assert state.load({state.ANNOTATION: "{not json"}) == {}
    assert state.load({state.ANNOTATION: "[1]"}) == {}
    assert state.load({state.ANNOTATION: '{"a": 5, "b": "x"}'}) == {"a": 5}


def test_an_app_whose_status_predates_its_finished_operation_is_skipped() -> None:
    finished = {"phase": "Succeeded", "finishedAt": "2026-01-01T00:00:10Z"}
    assert state.is_stale({"operationState": finished, "reconciledAt": "2026-01-01T00:00:05Z"})
    assert not state.is_stale({"operationState": finished, "reconciledAt": "2026-01-01T00:00:11Z"})
    running = {"phase": "Running", "finishedAt": ""}
    assert not state.is_stale({"operationState": running})
    assert not state.is_stale({})


def test_conditions_see_the_struct_fields_argo_cd_always_has() -> None:
    from tether.core.notify import env

    shaped = env.of({"metadata": {"name": "a"}}, None)
    assert shaped["app"]["status"] == {"health": {}, "sync": {}, "summary": {}}
    assert "operationState" not in shaped["app"]["status"]
    assert shaped["appProject"] == {}
