"""The SyncWindowWarning condition in the status patch: set, kept, and cleared."""

from __future__ import annotations

import datetime
from typing import Any

from tether.core.app import refresh
from tether.model.app_status import SYNC_WINDOW_WARNING
from tether.model.application import parse_application
from tether.model.status import Health, HealthStatus, SyncStatus
from tether.services import appstatus
from tether.services.compare import Comparison

NOW = datetime.datetime(2026, 6, 10, 10, 30, tzinfo=datetime.UTC)
HELD = "automated sync held by sync windows: project 'p': deny window 0 (...) is active"


def app(*conditions: dict[str, Any]) -> Any:
    return parse_application(
        {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Application",
            "metadata": {"name": "web", "namespace": "tether"},
            "spec": {
                "project": "p",
                "source": {"repoURL": "https://git.example/r.git", "path": "a"},
                "destination": {"server": "https://kubernetes.default.svc", "namespace": "web"},
            },
            "status": {"conditions": list(conditions)},
        }
    )


def comparison(*, known: bool = True) -> Comparison:
    return Comparison(
        sync_status=SyncStatus.OUT_OF_SYNC if known else SyncStatus.UNKNOWN,
        revisions=("a" * 40,),
        resources=(),
        health=Health(HealthStatus.HEALTHY, ""),
        desired=(),
        errors=() if known else (("ComparisonError", "git is down"),),
        desired_known=known,
    )


def conditions(patch: dict[str, Any] | None) -> dict[str, str]:
    assert patch is not None
    return {c["type"]: c["message"] for c in patch["status"].get("conditions") or []}


def patch(application: Any, held: str | None, *, known: bool = True) -> dict[str, Any] | None:
    return appstatus.status_patch(
        application,
        comparison(known=known),
        None,
        level=refresh.Level.LATEST,
        now=NOW,
        control_plane_namespace="tether",
        held_by_windows=held,
    )


def test_a_held_automated_sync_is_reported_as_a_sync_window_warning():
    assert conditions(patch(app(), HELD)) == {SYNC_WINDOW_WARNING: HELD}


def test_the_warning_goes_once_no_window_holds_a_sync():
    held = app({"type": SYNC_WINDOW_WARNING, "message": HELD})
    assert conditions(patch(held, "")) == {}


def test_the_warning_stays_while_no_automated_sync_was_considered():
    held = app({"type": SYNC_WINDOW_WARNING, "message": HELD})
    assert conditions(patch(held, None, known=False)) == {
        SYNC_WINDOW_WARNING: HELD,
        "ComparisonError": "git is down",
    }
