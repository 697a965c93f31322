import datetime

import pytest

from tether.model import app_status, timestamps
from tether.model.app_status import ApplicationCondition as Cond, RevisionHistory

T0 = datetime.datetime(2026, 11, 27, 9, 0, 0, tzinfo=datetime.UTC)
T1 = T0 + datetime.timedelta(minutes=5)
S0, S1 = "2026-11-27T09:00:00Z", "2026-11-27T09:05:00Z"


def test_argo_cd_condition_types_are_all_known_with_their_kind() -> None:
    errors = {
        t for t, k in app_status.CONDITION_TYPES.items() if k is app_status.ConditionKind.ERROR
    }
    assert errors == {
        "ComparisonError",
        "InvalidSpecError",
        "SyncError",
        "UnknownError",
        "DeletionError",
        "DependencyError",
    }
    # Argo CD's nine, tether's AutoSyncDisabled, StatusTruncated, UnsupportedField, SyncWindow
    # and Dependency warnings, and its DependencyError
    assert len(app_status.CONDITION_TYPES) == 15
    assert app_status.SYNC_WINDOW_WARNING in app_status.CONDITION_TYPES
    assert Cond(type="SharedResourceWarning", message="m").is_error is False
    assert Cond(type="SomethingNew", message="m").is_error is True


def test_an_unchanged_condition_keeps_its_transition_time() -> None:
    existing = [Cond(type="ComparisonError", message="boom", last_transition_time=S0)]
    new = [Cond(type="ComparisonError", message="boom")]
    result = app_status.set_conditions(existing, new, {"ComparisonError"}, T1)
    assert [c.last_transition_time for c in result] == [S0]


def test_a_changed_message_gets_a_new_transition_time() -> None:
    existing = [Cond(type="ComparisonError", message="boom", last_transition_time=S0)]
    new = [Cond(type="ComparisonError", message="bang")]
    result = app_status.set_conditions(existing, new, {"ComparisonError"}, T1)
    assert [(c.message, c.last_transition_time) for c in result] == [("bang", S1)]


def test_an_evaluated_type_with_no_new_condition_is_cleared() -> None:
    existing = [Cond(type="SyncError", message="failed", last_transition_time=S0)]
    assert app_status.set_conditions(existing, [], {"SyncError"}, T1) == []


def test_conditions_of_types_not_evaluated_are_kept_as_they_are() -> None:
    existing = [
        Cond(type="SyncError", message="failed", last_transition_time=S0),
        Cond(type="OrphanedResourceWarning", message="2 orphans"),
    ]
    result = app_status.set_conditions(existing, [], {"ComparisonError"}, T1)
    assert [(c.type, c.last_transition_time) for c in result] == [
        ("OrphanedResourceWarning", S1),
        ("SyncError", S0),
    ]


def test_conditions_are_sorted_so_equal_inputs_give_equal_status() -> None:
    new = [Cond(type="SyncError", message="b"), Cond(type="ComparisonError", message="a")]
    result = app_status.set_conditions([], new, {"SyncError", "ComparisonError"}, T0)
    assert [c.type for c in result] == ["ComparisonError", "SyncError"]


def test_set_conditions_does_not_mutate_its_inputs() -> None:
    existing = [Cond(type="SyncError", message="x")]
    app_status.set_conditions(existing, [], set(), T0)
    assert existing[0].last_transition_time is None


def test_times_are_kubernetes_timestamps_in_utc() -> None:
    berlin = datetime.timezone(datetime.timedelta(hours=1))
    assert timestamps.format_time(datetime.datetime(2026, 1, 2, 4, 5, 6, 789, berlin)) == (
        "2026-01-02T03:05:06Z"
    )


def _entry(entry_id: int) -> RevisionHistory:
    return RevisionHistory(id=entry_id, revision=f"r{entry_id}", deployed_at=S0)


def test_history_ids_count_up_from_zero() -> None:
    assert app_status.next_history_id([]) == 0
    assert app_status.next_history_id([_entry(0), _entry(7)]) == 8


@pytest.mark.parametrize(
    ("limit", "kept"),
    [(None, list(range(2, 12))), (3, [9, 10, 11]), (1, [11]), (0, []), (50, list(range(12)))],
)
def test_history_keeps_only_the_newest_entries(limit: int | None, kept: list[int]) -> None:
    history = [_entry(i) for i in range(11)]
    result = app_status.append_history(history, _entry(11), limit)
    assert [e.id for e in result] == kept
    assert len(history) == 11


def test_history_keeps_the_newest_entries_within_its_byte_budget():
    big = {"helm": {"values": "x" * 40_000}}
    source = {"repoURL": "https://r", "path": "p", **big}
    history = [
        RevisionHistory.model_validate({"id": i, "revision": f"r{i}", "source": source})
        for i in range(5)
    ]
    entry = RevisionHistory.model_validate({"id": 5, "revision": "r5", "source": source})
    kept = app_status.append_history(history, entry, limit=10)
    assert [h.id for h in kept] == [3, 4, 5]
    one_huge = RevisionHistory.model_validate(
        {"id": 6, "revision": "r6", "source": {"repoURL": "r", "helm": {"values": "y" * 200_000}}}
    )
    assert [h.id for h in app_status.append_history(kept, one_huge, limit=10)] == [6]
