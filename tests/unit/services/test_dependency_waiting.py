"""The status a dependency hold writes: its conditions, its operation state."""

from __future__ import annotations

import datetime
from typing import Any

from tether.model.application import parse_application
from tether.model.operation import Operation, SyncOperation
from tether.services.sync import waiting

NOW = datetime.datetime(2026, 12, 8, 1, 0, tzinfo=datetime.UTC)


def app(conditions: list[dict[str, Any]]) -> Any:
    return parse_application(
        {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Application",
            "metadata": {"name": "web", "namespace": "apps"},
            "spec": {
                "project": "default",
                "source": {"repoURL": "https://git.example/r.git", "path": "p"},
                "destination": {"server": "https://kubernetes.default.svc", "namespace": "web"},
            },
            "status": {"conditions": conditions},
        }
    )


SHARED = {"type": "SharedResourceWarning", "message": "shared"}


def test_a_wait_sets_its_warning_beside_other_conditions_and_writes_nothing_when_it_is_there():
    patch = waiting.conditions_patch(app([SHARED]), "DependencyWarning", "Waiting for a (x)", NOW)
    assert patch is not None
    assert {(c["type"], c["message"]) for c in patch["conditions"]} == {
        ("SharedResourceWarning", "shared"),
        ("DependencyWarning", "Waiting for a (x)"),
    }
    shown = app(patch["conditions"])
    assert waiting.conditions_patch(shown, "DependencyWarning", "Waiting for a (x)", NOW) is None


def test_a_refusal_replaces_the_warning_and_going_on_removes_both():
    held = app([SHARED, {"type": "DependencyWarning", "message": "Waiting for a (x)"}])
    patch = waiting.conditions_patch(held, "DependencyError", "dependency cycle: a -> a", NOW)
    assert patch is not None
    assert {c["type"] for c in patch["conditions"]} == {"SharedResourceWarning", "DependencyError"}
    released = waiting.conditions_patch(held, None, "", NOW)
    assert released is not None
    assert [c["type"] for c in released["conditions"]] == ["SharedResourceWarning"]
    assert waiting.conditions_patch(app([SHARED]), None, "", NOW) is None


def test_a_held_operation_is_running_and_says_what_it_waits_for():
    operation = Operation(sync=SyncOperation())
    state = waiting.held_state(operation, None, "Waiting for a (not found)", NOW)
    assert state.phase == "Running"
    assert state.message == "Waiting for a (not found)"
    assert state.started_at == "2026-12-08T01:00:00Z"
    assert state.sync_result is None
    assert waiting.is_waiting_message(state.message)
    assert not waiting.is_waiting_message("successfully synced")
