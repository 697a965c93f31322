"""The DEPENDENCIES section of ``tether app get``."""

from __future__ import annotations

from typing import Any

from tether.cli import dependency_view

SOURCE = {"repoURL": "https://git.example/repo.git", "path": "app", "targetRevision": "main"}
DEST = {"server": "https://kubernetes.default.svc", "namespace": "web"}


def app(name: str, depends_on: str = "", **status: Any) -> dict[str, Any]:
    annotations = {"tether.dev/depends-on": depends_on} if depends_on else {}
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": name, "namespace": "apps", "annotations": annotations},
        "spec": {"project": "default", "source": SOURCE, "destination": DEST},
        "status": status,
    }


READY: dict[str, Any] = {
    "sync": {"status": "Synced", "comparedTo": {"source": SOURCE, "destination": DEST}},
    "health": {"status": "Healthy"},
}


def test_app_get_shows_what_an_app_waits_for_and_what_waits_for_it_with_their_status():
    me = app("b", "a, infra/db", **READY)
    waiting = app(
        "c",
        "b",
        operationState={"phase": "Running", "message": "Waiting for b (syncing)"},
    )
    shown = dependency_view.section(me, [app("a", **READY), me, waiting])
    assert shown.splitlines() == [
        "DEPENDENCIES:",
        "             APP       SYNC    HEALTH   STATE",
        "  waits for  a         Synced  Healthy  ready",
        "  waits for  infra/db  -       -        not ready: not found",
        "  needed by  c         -       -        waiting",
    ]


def test_an_app_with_no_dependency_either_way_shows_no_section():
    assert dependency_view.section(app("a", **READY), [app("b", **READY)]) == ""
