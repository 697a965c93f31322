"""An operation's progress by wave, from its results and the app's resources."""

from __future__ import annotations

from typing import Any

from tether.model.application import parse_application
from tether.ui import waves


def resource(name: str, wave: int, status: str = "OutOfSync", **extra: Any) -> dict[str, Any]:
    return {
        "version": "v1",
        "kind": "ConfigMap",
        "namespace": "d",
        "name": name,
        "status": status,
        "syncWave": wave,
        **extra,
    }


def result(name: str, phase: str = "Sync", **fields: Any) -> dict[str, Any]:
    return {
        "version": "v1",
        "kind": "ConfigMap",
        "namespace": "d",
        "name": name,
        "syncPhase": phase,
        **fields,
    }


def app(phase: str, results: list[dict[str, Any]], listed: list[dict[str, Any]], **sync: Any):
    return parse_application(
        {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Application",
            "metadata": {"name": "a", "namespace": "n"},
            "spec": {
                "project": "default",
                "source": {"repoURL": "https://git.example/r.git", "path": "p"},
                "destination": {"server": "https://kubernetes.default.svc", "namespace": "d"},
            },
            "status": {
                "resources": listed,
                "operationState": {
                    "phase": phase,
                    "startedAt": "2026-01-01T00:00:00Z",
                    "operation": {"sync": sync},
                    "syncResult": {"revision": "a" * 40, "resources": results},
                },
            },
        }
    )


def shown(found: list[waves.Wave]) -> list[tuple[str, int, str, int, int]]:
    return [(w.phase, w.wave, w.state.value, w.done, len(w.tasks)) for w in found]


def test_a_running_sync_shows_done_running_and_pending_waves_in_order():
    running = app(
        "Running",
        [
            result(
                "migrate", "PreSync", status="Synced", hookPhase="Succeeded", hookType="PreSync"
            ),
            result("db", status="Synced", hookPhase="Succeeded"),
            result("api", status="Synced", hookPhase="Running"),
        ],
        [
            resource("db", -1),
            resource("api", 0),
            resource("web", 0),
            resource("ui", 3),
            resource("migrate", 0, hook=True),
            resource("gone", 5, requiresPruning=True),
        ],
    )
    assert shown(waves.progress(running)) == [
        ("PreSync", 0, "done", 1, 1),
        ("Sync", -1, "done", 1, 1),
        ("Sync", 0, "running", 0, 2),
        ("Sync", 3, "pending", 0, 1),
    ]
    assert [t.state.value for t in waves.progress(running)[2].tasks] == ["running", "pending"]


def test_a_finished_sync_counts_applied_resources_done_though_argo_left_them_running():
    finished = app(
        "Succeeded",
        [result("db", status="Synced", hookPhase="Running")],
        [resource("db", 1, status="Synced"), resource("other", 2, status="Synced")],
    )
    assert shown(waves.progress(finished)) == [("Sync", 1, "done", 1, 1)]


def test_a_terminated_sync_shows_the_wave_it_stopped_in_and_the_waves_it_never_ran():
    terminated = app(
        "Failed",
        [result("claim", status="Synced", hookPhase="Running")],
        [resource("claim", 0), resource("after", 1)],
    )
    assert shown(waves.progress(terminated)) == [
        ("Sync", 0, "stopped", 0, 1),
        ("Sync", 1, "not run", 0, 1),
    ]


def test_a_failed_task_fails_its_wave():
    failed = app(
        "Running",
        [
            result("a", status="SyncFailed", hookPhase="Failed", message="refused"),
            result("b", status="Synced", hookPhase="Succeeded"),
        ],
        [resource("a", 0), resource("b", 0)],
    )
    [wave] = waves.progress(failed)
    assert (wave.state.value, wave.tasks[0].message) == ("failed", "refused")


def test_a_partial_or_out_of_sync_only_sync_waits_only_for_what_it_applies():
    listed = [resource("a", 0), resource("b", 1, status="Synced"), resource("c", 2)]
    partial = app("Running", [], listed, resources=[{"kind": "ConfigMap", "name": "c"}])
    assert shown(waves.progress(partial)) == [("Sync", 2, "pending", 0, 1)]
    only = app("Running", [], listed, syncOptions=["ApplyOutOfSyncOnly=true"])
    assert shown(waves.progress(only)) == [
        ("Sync", 0, "pending", 0, 1),
        ("Sync", 2, "pending", 0, 1),
    ]


def test_no_operation_means_no_waves():
    plain = app("Succeeded", [], [])
    assert waves.progress(plain.model_copy(update={"status": None})) == []
