"""The writes and Events of a sync, fewer: one Event per write, Running with the request."""

from __future__ import annotations

import datetime
from typing import Any

from tether.core.app import refresh
from tether.model.application import Application, parse_application
from tether.model.operation import Operation, OperationInitiator, OperationState, SyncOperation
from tether.model.status import Health, HealthStatus, SyncStatus
from tether.services import events
from tether.services.compare import Comparison
from tether.services.sync import starting

NOW = datetime.datetime(2026, 12, 7, 20, 0, tzinfo=datetime.UTC)
SHA = "a" * 40


def app(status: dict[str, Any] | None = None, operation: dict[str, Any] | None = None) -> Any:
    manifest: dict[str, Any] = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "web", "namespace": "tether", "uid": "u-1"},
        "spec": {
            "project": "default",
            "source": {"repoURL": "https://git.example/r.git", "path": "a"},
            "destination": {"server": "https://kubernetes.default.svc", "namespace": "web"},
        },
    }
    if status is not None:
        manifest["status"] = status
    if operation is not None:
        manifest["operation"] = operation
    return parse_application(manifest)


def comparison(
    sync: SyncStatus = SyncStatus.SYNCED, health: HealthStatus = HealthStatus.HEALTHY
) -> Comparison:
    return Comparison(
        sync_status=sync,
        revisions=(SHA,),
        resources=(),
        health=Health(health, ""),
        desired=(),
        errors=(),
    )


def automated() -> Operation:
    sync = SyncOperation(revision=SHA, prune=False)
    return Operation(sync=sync, initiated_by=OperationInitiator(automated=True))


class Recorded:
    """Collects what the recorder would send, instead of a background queue."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str, bool]] = []

    def recorder(self) -> events.EventRecorder:
        recorder = events.EventRecorder(cluster=None, field_manager="t")  # type: ignore[arg-type]

        def enqueue(_app: Application, reason: str, message: str, *, warning: bool = False) -> None:
            self.sent.append((reason, message, warning))

        recorder.enqueue = enqueue  # type: ignore[method-assign,assignment]
        return recorder


async def test_a_status_write_that_moves_sync_and_health_records_one_event_with_both():
    seen = Recorded()
    before = app({"sync": {"status": "OutOfSync"}, "health": {"status": "Missing"}})
    await seen.recorder().status_changed(before, comparison())
    assert seen.sent == [
        (
            "ResourceUpdated",
            "Updated sync status: OutOfSync -> Synced; Updated health status: Missing -> Healthy",
            False,
        )
    ]


async def test_an_automated_syncs_request_records_one_event_named_for_the_operation():
    seen = Recorded()
    started = comparison(SyncStatus.OUT_OF_SYNC, HealthStatus.MISSING)
    await seen.recorder().sync_started(app(), "out of sync", automated=True, comparison=started)
    assert seen.sent == [
        (
            "OperationStarted",
            "Initiated automated sync: out of sync; Updated sync status: (none) -> OutOfSync; "
            "Updated health status: (none) -> Missing",
            False,
        )
    ]


async def test_a_failed_operation_or_a_degraded_app_makes_the_one_event_a_warning():
    seen = Recorded()
    before = app({"sync": {"status": "OutOfSync"}, "health": {"status": "Missing"}})
    recorder = seen.recorder()
    await recorder.operation_completed(before, "Failed", "boom")
    degraded = comparison(SyncStatus.SYNCED, HealthStatus.DEGRADED)
    await recorder.operation_completed(before, "Succeeded", "ok", degraded)
    assert seen.sent == [
        ("OperationCompleted", "Sync operation Failed: boom", True),
        (
            "OperationCompleted",
            "Sync operation Succeeded: ok; Updated sync status: OutOfSync -> Synced; "
            "Updated health status: Missing -> Degraded",
            True,
        ),
    ]


async def test_nothing_moved_records_no_event_and_an_unknown_desired_state_says_nothing():
    seen = Recorded()
    same = app({"sync": {"status": "Synced"}, "health": {"status": "Healthy"}})
    await seen.recorder().status_changed(same, comparison())
    unknown = Comparison(
        sync_status=SyncStatus.UNKNOWN,
        revisions=(),
        resources=(),
        health=Health(HealthStatus.UNKNOWN, ""),
        desired=(),
        errors=(("ComparisonError", "git is down"),),
        desired_known=False,
    )
    await seen.recorder().status_changed(app(), unknown)
    assert seen.sent == []


def test_an_automated_syncs_request_carries_its_running_state_pinned_to_the_compared_revision():
    patch = starting.request_patch(app(), automated(), (SHA,), NOW, {"status": {"x": 1}})
    state = OperationState.model_validate(patch["status"]["operationState"])
    assert patch["operation"] == automated().to_manifest()
    assert patch["status"]["x"] == 1
    assert state.phase == "Running"
    assert state.message == starting.STARTING
    assert state.operation == automated()
    assert state.sync_result is not None and state.sync_result.revision == SHA
    assert state.started_at == "2026-12-07T20:00:00Z"


def test_the_running_state_replaces_the_last_operations_state_field_by_field():
    last = {
        "operation": {"sync": {"revision": "b" * 40, "syncOptions": ["Validate=false"]}},
        "phase": "Succeeded",
        "message": "successfully synced (all tasks run)",
        "startedAt": "2026-12-07T19:00:00Z",
        "finishedAt": "2026-12-07T19:00:01Z",
        "syncResult": {"revision": "b" * 40, "resources": [{"name": "cm", "kind": "ConfigMap"}]},
    }
    patch = starting.request_patch(app({"operationState": last}), automated(), (SHA,), NOW, None)
    written = patch["status"]["operationState"]
    assert written["finishedAt"] is None
    assert written["operation"]["sync"]["syncOptions"] is None
    assert written["syncResult"]["resources"] == []
    merged = merge(last, written)
    assert OperationState.model_validate(merged).model_dump() == (
        OperationState.model_validate(
            starting.request_patch(app(), automated(), (SHA,), NOW, None)["status"][
                "operationState"
            ]
        ).model_dump()
    )


def test_an_operation_tether_refuses_gets_no_running_state_so_its_first_pass_ends_it():
    refused = Operation(
        sync=SyncOperation(revision=SHA, manifests=["kind: ConfigMap"]),
        initiated_by=OperationInitiator(automated=True),
    )
    patch = starting.request_patch(app(), refused, (SHA,), NOW, None)
    assert patch["status"]["operationState"] is None


def test_a_refresh_that_wrote_nothing_counts_as_reconciled_when_deciding_the_next():
    stamped = app({"reconciledAt": "2026-12-07T19:00:00Z"})
    seen = refresh.with_reconciled(stamped, NOW)
    assert seen.status is not None
    assert seen.status.reconciled_at == "2026-12-07T20:00:00Z"
    assert refresh.with_reconciled(stamped, None) is stamped
    earlier = datetime.datetime(2026, 12, 7, 18, 0, tzinfo=datetime.UTC)
    assert refresh.with_reconciled(stamped, earlier) is stamped


def merge(target: Any, patch: Any) -> Any:
    """RFC 7386, as the API server applies a merge patch."""
    if not isinstance(patch, dict):
        return patch
    out = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merge(out.get(key), value)
    return out
