"""What an operation asks for: revision, selection, request, retries, and the records it leaves."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from tether.core.sync import plan, request
from tether.core.sync.options import SyncOptions
from tether.model.application import Application, parse_application
from tether.model.operation import Operation, OperationState, SyncOperation
from tether.model.resources import ResourceKey

NOW = datetime.datetime(2026, 12, 1, 12, 0, tzinfo=datetime.UTC)
SOURCE = {"repoURL": "https://git.example/r.git", "path": "p", "targetRevision": "main"}


def app(spec: dict[str, Any] | None = None, status: dict[str, Any] | None = None) -> Application:
    full: dict[str, Any] = {
        "project": "default",
        "destination": {"namespace": "shop"},
        "source": dict(SOURCE),
        **(spec or {}),
    }
    return parse_application(
        {"metadata": {"name": "web", "namespace": "tether"}, "spec": full, "status": status or {}}
    )


def operation(**sync: Any) -> Operation:
    return Operation.model_validate({"sync": sync})


def test_the_operation_revision_overrides_the_spec_for_one_source() -> None:
    target = request.at_operation_revision(app(), operation(revision="v2"))
    assert target.spec.source is not None and target.spec.source.target_revision == "v2"


def test_the_operation_revisions_override_each_source_in_order() -> None:
    two = app({"source": None, "sources": [dict(SOURCE), {**SOURCE, "path": "q"}]})
    target = request.at_operation_revision(two, operation(revisions=["a", "b"]))
    assert [s.target_revision for s in target.spec.sources or []] == ["a", "b"]


def test_a_retry_with_refresh_syncs_the_spec_revision_not_the_pinned_commit() -> None:
    pinned = operation(revision="0" * 40, revisions=["1" * 40], prune=True)
    latest = request.without_pinned_revisions(pinned)
    target = request.at_operation_revision(app(), latest)
    assert target.spec.source is not None and target.spec.source.target_revision == "main"
    assert latest.sync is not None and latest.sync.prune is True


def test_an_operations_sources_replace_the_specs_for_that_sync() -> None:
    other = {**SOURCE, "path": "other", "helm": {"releaseName": "r"}}
    target = request.at_operation_revision(app(), operation(source=other))
    assert target.spec.source is not None and target.spec.source.to_manifest() == other
    two = app({"source": None, "sources": [dict(SOURCE), dict(SOURCE)]})
    target = request.at_operation_revision(two, operation(sources=[other]))
    assert [s.to_manifest() for s in target.spec.sources or []] == [other]


def test_a_partial_sync_selects_by_name_in_every_namespace_when_none_is_given() -> None:
    sync = SyncOperation.model_validate({"resources": [{"kind": "ConfigMap", "name": "a"}]})
    known = [ResourceKey("", "ConfigMap", "x", "a"), ResourceKey("", "ConfigMap", "x", "b")]
    assert request.selected(sync, known) == frozenset(
        {ResourceKey("", "ConfigMap", "", "a"), ResourceKey("", "ConfigMap", "x", "a")}
    )
    assert request.selected(SyncOperation(), known) is None


@pytest.mark.parametrize(
    ("automated", "expected"),
    [(True, request.AUTOMATED_RETRIES), (False, 0)],
)
def test_without_a_retry_strategy_only_automated_syncs_retry(
    automated: bool, expected: int
) -> None:
    op = Operation.model_validate({"sync": {}, "initiatedBy": {"automated": automated}})
    assert request.retry_strategy(app(), op).limit == expected


def test_the_operation_retry_wins_over_the_app_retry() -> None:
    with_policy = app({"syncPolicy": {"retry": {"limit": 2}}})
    assert request.retry_strategy(with_policy, operation()).limit == 2
    own = Operation.model_validate({"sync": {}, "retry": {"limit": 7}})
    assert request.retry_strategy(with_policy, own).limit == 7


def test_a_retry_refreshes_when_the_app_or_the_operation_says_so() -> None:
    refreshing = app({"syncPolicy": {"retry": {"limit": 2, "refresh": True}}})
    assert request.retry_strategy(refreshing, operation()).refresh is True
    own = Operation.model_validate({"sync": {}, "retry": {"limit": 1, "refresh": True}})
    assert request.retry_strategy(app(), own).refresh is True
    assert not request.retry_strategy(app(), operation()).refresh


def test_invalid_sync_options_are_named() -> None:
    message = request.options_of(app(), SyncOperation(sync_options=["Prune=maybe"]))
    assert isinstance(message, str) and message.startswith("invalid sync option")


def test_the_request_carries_the_pinned_revision_and_the_strategy() -> None:
    state = OperationState(
        started_at="2026-12-01T11:59:00Z", sync_result=request.result(app(), ["abc"])
    )
    sync = SyncOperation.model_validate({"prune": True, "syncStrategy": {"apply": {"force": True}}})
    wanted = request.build(
        app({"syncPolicy": {"automated": {"allowEmpty": True}}}),
        sync,
        state,
        options=SyncOptions(),
        known=[],
        now=NOW,
        timeout=None,
    )
    assert (wanted.revision, wanted.destination_namespace) == ("abc", "shop")
    assert wanted.started_at == NOW - datetime.timedelta(minutes=1)
    assert (wanted.prune, wanted.force, wanted.allow_empty) == (True, True, True)
    assert wanted.strategy is plan.Strategy.APPLY


def test_the_request_names_the_manager_the_app_annotation_asks_to_migrate() -> None:
    def built(annotations: dict[str, str]) -> plan.Request:
        annotated = app().model_copy(
            update={"metadata": app().metadata.model_copy(update={"annotations": annotations})}
        )
        return request.build(
            annotated,
            SyncOperation(),
            OperationState(started_at="2026-12-01T11:59:00Z"),
            options=SyncOptions(),
            known=[],
            now=NOW,
            timeout=None,
        )

    assert built({}).migration_manager == ""
    named = built({"argocd.argoproj.io/client-side-apply-migration-manager": "old-operator"})
    assert named.migration_manager == "old-operator"


def test_a_sync_result_names_one_revision_or_several() -> None:
    assert request.result(app(), ["abc"]).to_manifest()["revision"] == "abc"
    two = app({"source": None, "sources": [dict(SOURCE), dict(SOURCE)]})
    written = request.result(two, ["a", "b"]).to_manifest()
    assert written["revisions"] == ["a", "b"] and "revision" not in written


def test_the_request_and_the_result_carry_the_managed_namespace_metadata() -> None:
    metadata = {"labels": {"istio-injection": "enabled"}, "annotations": {"owner": "ml"}}
    managed = app({"syncPolicy": {"managedNamespaceMetadata": metadata}})
    recorded = request.result(managed, ["abc"])
    assert recorded.to_manifest()["managedNamespaceMetadata"] == metadata
    state = OperationState(started_at="2026-12-01T11:59:00Z", sync_result=recorded)
    wanted = request.build(
        managed, SyncOperation(), state, options=SyncOptions(), known=[], now=NOW, timeout=None
    )
    assert wanted.namespace_metadata is not None
    assert wanted.namespace_metadata.labels == {"istio-injection": "enabled"}
    assert "managedNamespaceMetadata" not in request.result(app(), ["abc"]).to_manifest()


def test_a_success_adds_a_history_entry_and_keeps_the_limit() -> None:
    history = [{"id": i, "revision": f"r{i}"} for i in range(3)]
    limited = app({"revisionHistoryLimit": 3}, {"history": history})
    state = OperationState(
        started_at="2026-12-01T11:59:00Z", sync_result=request.result(limited, ["new"])
    )
    kept = request.history(limited, operation(), state, NOW)
    assert kept is not None
    assert [(h.id, h.revision) for h in kept] == [(1, "r1"), (2, "r2"), (3, "new")]
    assert kept[-1].deployed_at == "2026-12-01T12:00:00Z"


@pytest.mark.parametrize(
    "sync", [{"dryRun": True}, {"resources": [{"kind": "ConfigMap", "name": "a"}]}]
)
def test_dry_runs_and_partial_syncs_leave_no_history(sync: dict[str, Any]) -> None:
    state = OperationState(sync_result=request.result(app(), ["abc"]))
    assert request.history(app(), Operation.model_validate({"sync": sync}), state, NOW) is None
