"""When an Application is refreshed, and when an automated sync starts."""

from __future__ import annotations

import datetime
import math
from typing import Any

from tether.core.app import autosync, refresh
from tether.model.application import parse_application
from tether.model.project import parse_project
from tether.model.status import SyncStatus

NOW = datetime.datetime(2026, 11, 27, 9, 0, tzinfo=datetime.UTC)
RESYNC = datetime.timedelta(seconds=180)
SOURCE = {"repoURL": "https://git.example/repo.git", "path": "app", "targetRevision": "main"}
DEST = {"server": "https://kubernetes.default.svc", "namespace": "web"}


def app(**overrides: Any) -> Any:
    obj: dict[str, Any] = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "web", "namespace": "tether"},
        "spec": {"project": "default", "source": SOURCE, "destination": DEST},
    }
    obj.update(overrides)
    return parse_application(obj)


def compared_status(reconciled: datetime.datetime, **extra: Any) -> dict[str, Any]:
    return {
        "sync": {
            "status": "Synced",
            "revision": "a" * 40,
            "comparedTo": {"source": SOURCE, "destination": DEST},
        },
        "reconciledAt": reconciled.strftime("%Y-%m-%dT%H:%M:%SZ"),
        **extra,
    }


def test_a_hard_refresh_annotation_forces_resolution_and_bypasses_caches():
    annotated = app(
        metadata={
            "name": "web",
            "namespace": "tether",
            "annotations": {"argocd.argoproj.io/refresh": "hard"},
        },
        status=compared_status(NOW),
    )
    decision = refresh.decide(annotated, now=NOW, resync_period=RESYNC)
    assert decision is not None
    assert decision.level is refresh.Level.FORCE_RESOLVE
    assert decision.hard


def test_an_app_never_compared_is_refreshed_with_resolution():
    decision = refresh.decide(app(), now=NOW, resync_period=RESYNC)
    assert decision is not None and decision.level is refresh.Level.FORCE_RESOLVE


def test_a_changed_source_triggers_a_full_refresh():
    moved = app(status=compared_status(NOW))
    moved = moved.model_copy(
        update={
            "spec": moved.spec.model_copy(
                update={"source": moved.spec.source.model_copy(update={"path": "other"})}
            )
        }
    )
    decision = refresh.decide(moved, now=NOW, resync_period=RESYNC)
    assert decision is not None and "spec.source" in decision.reason


def test_nothing_is_due_inside_the_resync_period():
    fresh = app(status=compared_status(NOW - datetime.timedelta(seconds=10)))
    assert refresh.decide(fresh, now=NOW, resync_period=RESYNC) is None


def test_the_resync_period_elapsing_resolves_the_revision_again():
    stale = app(status=compared_status(NOW - datetime.timedelta(seconds=181)))
    decision = refresh.decide(stale, now=NOW, resync_period=RESYNC)
    assert decision is not None and decision.level is refresh.Level.LATEST


def test_a_managed_resource_change_asks_for_the_requested_level_only():
    fresh = app(status=compared_status(NOW))
    decision = refresh.decide(fresh, now=NOW, resync_period=RESYNC, requested=refresh.Level.RECENT)
    assert decision is not None and decision.level is refresh.Level.RECENT


def test_the_hard_resync_period_forces_a_hard_refresh():
    stale = app(status=compared_status(NOW - datetime.timedelta(hours=2)))
    decision = refresh.decide(
        stale,
        now=NOW,
        resync_period=datetime.timedelta(hours=3),
        hard_resync_period=datetime.timedelta(hours=1),
    )
    assert decision is not None and decision.hard


def automated(**policy: Any) -> dict[str, Any]:
    return {
        "project": "default",
        "source": SOURCE,
        "destination": DEST,
        "syncPolicy": {"automated": policy},
    }


OUT = autosync.OutOfSyncResource("", "ConfigMap", "web", "cm")
EXTRA = autosync.OutOfSyncResource("", "ConfigMap", "web", "old", requires_pruning=True)


def comparison(
    *out: autosync.OutOfSyncResource,
    desired: int = 1,
    live: int = 1,
    status: SyncStatus = SyncStatus.OUT_OF_SYNC,
) -> autosync.Comparison:
    return autosync.Comparison(status, ("b" * 40,), out, desired, live)


def test_an_out_of_sync_app_with_a_new_revision_is_synced_automatically():
    decision = autosync.decide(app(spec=automated(prune=True)), comparison(OUT), now=NOW)
    assert decision.operation is not None
    assert decision.operation.sync is not None
    assert decision.operation.sync.revision == "b" * 40
    assert decision.operation.sync.prune is True
    assert decision.operation.initiated_by is not None
    assert decision.operation.initiated_by.automated


def test_automated_sync_is_off_without_the_policy_or_when_disabled():
    assert autosync.decide(app(), comparison(OUT), now=NOW).operation is None
    off = app(spec=automated(enabled=False))
    assert not off.spec.is_automated
    assert autosync.decide(off, comparison(OUT), now=NOW).operation is None


def test_a_synced_app_is_left_alone():
    decision = autosync.decide(app(spec=automated()), comparison(status=SyncStatus.SYNCED), now=NOW)
    assert decision.operation is None


def test_unknown_state_never_starts_a_sync():
    decision = autosync.decide(
        app(spec=automated(prune=True)), comparison(OUT, status=SyncStatus.UNKNOWN), now=NOW
    )
    assert decision.operation is None


def test_only_extraneous_resources_without_prune_start_nothing():
    decision = autosync.decide(app(spec=automated()), comparison(EXTRA), now=NOW)
    assert decision.operation is None


def test_pruning_everything_is_refused_unless_allow_empty():
    refused = autosync.decide(
        app(spec=automated(prune=True)), comparison(EXTRA, desired=0), now=NOW
    )
    assert refused.operation is None
    assert "allowEmpty" in refused.error
    allowed = autosync.decide(
        app(spec=automated(prune=True, allowEmpty=True)), comparison(EXTRA, desired=0), now=NOW
    )
    assert allowed.operation is not None


def last_op(phase: str, finished: datetime.datetime, attempts: int = 0) -> dict[str, Any]:
    return {
        "operationState": {
            "phase": phase,
            "message": "boom" if phase == "Failed" else "ok",
            "finishedAt": finished.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "operation": {"sync": {"autoHealAttemptsCount": attempts}},
            "syncResult": {"revision": "b" * 40},
        }
    }


def test_a_revision_that_failed_is_not_retried_automatically():
    failed = app(spec=automated(), status=last_op("Failed", NOW))
    decision = autosync.decide(failed, comparison(OUT), now=NOW)
    assert decision.operation is None
    assert decision.error.startswith("Failed last sync attempt to " + "b" * 40)


def test_drift_on_a_synced_revision_is_healed_only_with_self_heal():
    without = app(spec=automated(), status=last_op("Succeeded", NOW))
    assert autosync.decide(without, comparison(OUT), now=NOW).operation is None
    healing = app(
        spec=automated(selfHeal=True),
        status=last_op("Succeeded", NOW - datetime.timedelta(seconds=1)),
    )
    decision = autosync.decide(healing, comparison(OUT), now=NOW)
    assert decision.operation is not None and decision.operation.sync is not None
    assert decision.operation.sync.auto_heal_attempts_count == 1
    assert [r.name for r in decision.operation.sync.resources or []] == ["cm"]


def test_self_heal_backs_off_between_attempts():
    healing = app(spec=automated(selfHeal=True), status=last_op("Succeeded", NOW, attempts=2))
    decision = autosync.decide(healing, comparison(OUT), now=NOW)
    assert decision.operation is None
    assert decision.recheck_at == NOW + datetime.timedelta(seconds=6)


def test_timestamps_parse_zulu_naive_and_garbage():
    from tether.model import timestamps

    assert timestamps.parse("2026-11-27T09:00:00Z") == NOW
    assert timestamps.parse("2026-11-27T09:00:00") == NOW
    assert timestamps.parse("yesterday") is None
    assert timestamps.parse(None) is None


def test_a_changed_destination_or_ignore_rule_triggers_a_refresh():
    fresh = app(status=compared_status(NOW))
    moved = fresh.model_copy(
        update={
            "spec": fresh.spec.model_copy(
                update={
                    "destination": fresh.spec.destination.model_copy(update={"namespace": "other"})
                }
            )
        }
    )
    decision = refresh.decide(moved, now=NOW, resync_period=RESYNC)
    assert decision is not None and "destination" in decision.reason
    ignoring = app(
        spec={
            "project": "default",
            "source": SOURCE,
            "destination": DEST,
            "ignoreDifferences": [{"kind": "ConfigMap", "jsonPointers": ["/data"]}],
        },
        status=compared_status(NOW),
    )
    decision = refresh.decide(ignoring, now=NOW, resync_period=RESYNC)
    assert decision is not None and "ignoreDifferences" in decision.reason


def test_managed_namespace_metadata_changed_since_the_last_sync_refreshes_until_out_of_sync():
    applied = {"labels": {"istio-injection": "enabled"}}
    last_sync = {"phase": "Succeeded", "syncResult": {"managedNamespaceMetadata": applied}}

    def managed(labels: dict[str, str], sync_status: str) -> Any:
        status = compared_status(NOW, operationState=last_sync)
        status["sync"]["status"] = sync_status
        spec = {"managedNamespaceMetadata": {"labels": labels}}
        return app(
            spec={"project": "default", "source": SOURCE, "destination": DEST, "syncPolicy": spec},
            status=status,
        )

    unchanged = managed({"istio-injection": "enabled"}, "Synced")
    assert not unchanged.namespace_metadata_changed
    assert refresh.decide(unchanged, now=NOW, resync_period=RESYNC) is None
    changed = managed({"istio-injection": "disabled"}, "Synced")
    assert changed.namespace_metadata_changed
    decision = refresh.decide(changed, now=NOW, resync_period=RESYNC)
    assert decision is not None and "managedNamespaceMetadata" in decision.reason
    shown = managed({"istio-injection": "disabled"}, "OutOfSync")
    assert refresh.decide(shown, now=NOW, resync_period=RESYNC) is None


def test_managed_namespace_metadata_counts_as_changed_only_after_a_sync_recorded_one():
    spec = {
        "project": "default",
        "source": SOURCE,
        "destination": DEST,
        "syncPolicy": {"managedNamespaceMetadata": {"labels": {}, "annotations": {}}},
    }
    assert not app(spec=spec).namespace_metadata_changed  # never synced: nothing to differ from
    empty = {"operationState": {"phase": "Succeeded", "syncResult": {"revision": "a"}}}
    assert app(spec=spec, status=compared_status(NOW, **empty)).namespace_metadata_changed
    recorded: dict[str, Any] = {"managedNamespaceMetadata": {}}
    synced = {"operationState": {"phase": "Succeeded", "syncResult": recorded}}
    assert not app(spec=spec, status=compared_status(NOW, **synced)).namespace_metadata_changed


def test_multi_source_apps_compare_their_sources_and_sync_every_revision():
    multi = app(
        spec={
            "project": "default",
            "sources": [SOURCE, {**SOURCE, "path": "b"}],
            "destination": DEST,
            "syncPolicy": {"automated": {}},
        },
        status=compared_status(NOW),
    )
    decision = refresh.decide(multi, now=NOW, resync_period=RESYNC)
    assert decision is not None and "spec.source" in decision.reason
    both = autosync.Comparison(SyncStatus.OUT_OF_SYNC, ("a" * 40, "b" * 40), (OUT,), 1, 1)
    started = autosync.decide(multi, both, now=NOW)
    assert started.operation is not None and started.operation.sync is not None
    assert started.operation.sync.revisions == ["a" * 40, "b" * 40]


def test_no_automated_sync_while_an_operation_runs_or_the_app_is_being_deleted():
    busy = app(spec=automated(), operation={"sync": {}})
    assert autosync.decide(busy, comparison(OUT), now=NOW).operation is None
    deleting = app(
        spec=automated(),
        metadata={
            "name": "web",
            "namespace": "tether",
            "deletionTimestamp": "2026-11-27T08:00:00Z",
        },
    )
    assert autosync.decide(deleting, comparison(OUT), now=NOW).operation is None


def windowed(*windows: dict[str, Any]) -> Any:
    return parse_project(
        {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "AppProject",
            "metadata": {"name": "default", "namespace": "tether"},
            "spec": {"syncWindows": [{"applications": ["*"], **w} for w in windows]},
        }
    )


DENY_NOW = {"kind": "deny", "schedule": "0 9 * * *", "duration": "1h"}
"""Open 09:00-10:00 UTC: active at ``NOW`` (09:00)."""


def test_an_active_deny_window_holds_an_automated_sync_until_it_closes():
    decision = autosync.decide(
        app(spec=automated()), comparison(OUT), now=NOW, project=windowed(DENY_NOW)
    )
    assert decision.operation is None and not decision.error
    assert decision.held == (
        "automated sync held by sync windows: project 'default': deny window 0 "
        "(schedule '0 9 * * *', duration 1h, timeZone UTC) is active"
    )
    assert decision.recheck_at == NOW + datetime.timedelta(hours=1)
    later = autosync.decide(
        app(spec=automated()),
        comparison(OUT),
        now=NOW + datetime.timedelta(hours=1),
        project=windowed(DENY_NOW),
    )
    assert later.operation is not None and not later.held


def test_a_deny_window_letting_manual_syncs_through_still_holds_an_automated_one():
    lenient = {**DENY_NOW, "manualSync": True}
    decision = autosync.decide(
        app(spec=automated()), comparison(OUT), now=NOW, project=windowed(lenient)
    )
    assert decision.operation is None and decision.held


def test_windows_say_nothing_when_there_is_nothing_to_sync():
    decision = autosync.decide(
        app(spec=automated()),
        comparison(status=SyncStatus.SYNCED),
        now=NOW,
        project=windowed(DENY_NOW),
    )
    assert decision.operation is None and not decision.held and decision.recheck_at is None


def test_an_open_allow_window_lets_an_automated_sync_start():
    allow = {**DENY_NOW, "kind": "allow"}
    decision = autosync.decide(
        app(spec=automated()), comparison(OUT), now=NOW, project=windowed(allow)
    )
    assert decision.operation is not None


def test_the_resync_delay_is_the_period_plus_a_share_of_the_jitter():
    minute = datetime.timedelta(minutes=1)
    assert refresh.resync_delay(3 * minute, None, minute, 0.5) == 210.0


def test_with_periodic_refreshes_off_the_hard_period_alone_sets_the_delay_or_none_does():
    off = datetime.timedelta(0)
    assert refresh.resync_delay(off, datetime.timedelta(hours=1), off, 0.9) == 3600.0
    assert refresh.resync_delay(off, None, datetime.timedelta(seconds=30), 0.1) == math.inf
