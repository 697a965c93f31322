"""The pure parts of an ApplicationSet pass: its status entries and when it runs again."""

from __future__ import annotations

from tether.services import appsets


def test_a_resource_entry_carries_the_app_s_sync_status_and_health_when_known() -> None:
    app = {"status": {"sync": {"status": "Synced"}, "health": {"status": "Healthy"}}}
    entry = appsets._resource("argocd", "web", app)
    assert entry == {
        "group": "argoproj.io",
        "version": "v1alpha1",
        "kind": "Application",
        "namespace": "argocd",
        "name": "web",
        "status": "Synced",
        "health": {"status": "Healthy"},
    }
    assert "health" not in appsets._resource("argocd", "new", None)


def test_git_sets_are_regenerated_every_three_minutes_and_list_sets_only_on_change() -> None:
    git = {"generators": [{"git": {"repoURL": "https://example.com/r.git"}}]}
    assert appsets._requeue_after(git) == appsets.GIT_REQUEUE_S
    assert appsets._requeue_after({"generators": [{"list": {"elements": []}}]}) is None


def test_requeue_after_seconds_wins_but_never_below_the_floor() -> None:
    spec = {"generators": [{"list": {"requeueAfterSeconds": 60}}, {"git": {"repoURL": "x"}}]}
    assert appsets._requeue_after(spec) == 60
    fast = {"generators": [{"list": {"requeueAfterSeconds": 1}}]}
    assert appsets._requeue_after(fast) == appsets.MIN_REQUEUE_S
