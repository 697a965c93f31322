"""Tables, summaries, diffs and progress lines of ``tether app``, from plain objects."""

from __future__ import annotations

import base64
import datetime
from typing import Any

from tether.cli import output
from tether.core.app import syncwindows
from tether.core.diff import diff
from tether.model.application import parse_application
from tether.model.project import parse_project
from tether.services import apps
from tether.services.compare import ResourceState

SHA1 = "b12af150f917826d9ff3cc918378454054304f97"
SHA2 = "1973c0f0d4dd7bad47511fc162cf79f293fc905f"


def application(**status: Any) -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "web", "namespace": "tether"},
        "spec": {
            "project": "default",
            "source": {
                "repoURL": "git://example/demo.git",
                "path": "plain",
                "targetRevision": "main",
            },
            "destination": {"server": "https://kubernetes.default.svc", "namespace": "web"},
            "syncPolicy": {"automated": {"prune": True}},
        },
        "status": status,
    }


def state(desired: dict[str, Any] | None, live: dict[str, Any] | None) -> ResourceState:
    difference = diff.compare(desired, live)
    status = diff.resource_status(difference, desired, live)
    counts = diff.counts_against_sync(status, live)
    return ResourceState(difference.key, desired, live, difference, status, None, counts)


def config_map(value: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "web", "namespace": "web"},
        "data": {"greeting": value},
    }


def test_a_table_aligns_columns_two_spaces_apart_and_trims_trailing_blanks():
    text = output.table(("NAME", "HEALTH"), [("web", "Healthy"), ("a-longer-name", "")])

    assert text.splitlines() == [
        "NAME           HEALTH",
        "web            Healthy",
        "a-longer-name",
    ]


def test_a_commit_sha_is_shortened_and_a_tag_is_left_alone():
    assert output.short(SHA1) == "b12af15"
    assert output.short("v1.2.0") == "v1.2.0"
    assert output.short(None) == ""


def test_the_list_shows_sync_health_operation_and_the_short_revision():
    app = application(
        sync={"status": "Synced", "revision": SHA1},
        health={"status": "Healthy"},
        operationState={"phase": "Succeeded"},
    )

    rows = output.list_rows([app], wide=False, qualify=False)

    assert rows == [("web", "default", "Synced", "Healthy", "Succeeded", "b12af15")]


def test_the_wide_list_has_argo_cds_columns():
    app = application(
        sync={"status": "OutOfSync", "revisions": [SHA1, SHA2]},
        conditions=[{"type": "SyncError", "message": "x"}],
    )

    (row,) = output.list_rows([app], wide=True, qualify=True)

    assert dict(zip(output.WIDE_HEADERS, row, strict=True)) == {
        "NAME": "tether/web",
        "CLUSTER": "https://kubernetes.default.svc",
        "NAMESPACE": "web",
        "PROJECT": "default",
        "STATUS": "OutOfSync",
        "HEALTH": "",
        "SYNCPOLICY": "Auto-Prune",
        "CONDITIONS": "SyncError",
        "REPO": "git://example/demo.git",
        "PATH": "plain",
        "TARGET": "main",
        "OPERATION": "",
        "REVISION": "b12af15,1973c0f",
    }


def test_a_requested_operation_not_yet_started_shows_as_requested():
    app = {**application(), "operation": {"sync": {}}}

    assert output.list_rows([app], wide=False, qualify=False)[0][4] == "Requested"


def test_auto_sync_turned_off_with_enabled_false_is_manual():
    app = application()
    app["spec"]["syncPolicy"]["automated"]["enabled"] = False

    assert output.sync_policy(app) == "Manual"


def test_resource_rows_merge_status_resources_with_sync_results_and_add_hooks():
    app = application(
        resources=[
            {
                "kind": "Service",
                "namespace": "web",
                "name": "web",
                "status": "Synced",
                "health": {"status": "Healthy"},
            },
        ],
        operationState={
            "phase": "Succeeded",
            "syncResult": {
                "resources": [
                    {
                        "kind": "Service",
                        "namespace": "web",
                        "name": "web",
                        "status": "Synced",
                        "message": "configured",
                        "syncPhase": "Sync",
                    },
                    {
                        "group": "batch",
                        "kind": "Job",
                        "namespace": "web",
                        "name": "migrate",
                        "hookType": "PreSync",
                        "hookPhase": "Succeeded",
                        "message": "done",
                        "syncPhase": "PreSync",
                    },
                ]
            },
        },
    )

    assert output.resource_rows(app) == [
        ("", "Service", "web", "web", "Synced", "Healthy", "", "configured"),
        ("batch", "Job", "web", "migrate", "Succeeded", "", "PreSync", "done"),
    ]


def test_the_summary_names_the_source_the_status_and_the_last_operation():
    app = application(
        sync={"status": "Synced", "revision": SHA1},
        health={"status": "Degraded", "message": "Deployment web: 0/1 ready"},
        conditions=[{"type": "AutoSyncDisabled", "message": "by rollback"}],
        operationState={
            "phase": "Succeeded",
            "message": "successfully synced",
            "startedAt": "2026-01-01T00:00:00Z",
            "finishedAt": "2026-01-01T00:00:07Z",
            "syncResult": {"revision": SHA1},
        },
    )

    text = output.summary(app)

    assert "Name:          tether/web" in text
    assert "Repo:          git://example/demo.git" in text
    assert "Sync Status:   Synced (b12af15)" in text
    assert "Health Status: Degraded (Deployment web: 0/1 ready)" in text
    assert "AutoSyncDisabled: by rollback" in text
    assert "Phase:         Succeeded" in text
    assert "Duration:      7s" in text


def windows_of(app: dict[str, Any], *windows: dict[str, Any]) -> apps.Windows:
    project = parse_project(
        {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "AppProject",
            "metadata": {"name": "default", "namespace": "tether"},
            "spec": {"syncWindows": [{"applications": ["web"], **w} for w in windows]},
        }
    )
    parsed = parse_application(app)
    now = datetime.datetime(2026, 6, 10, 10, 30, tzinfo=datetime.UTC)
    return apps.Windows(
        syncwindows.check(project, parsed, now=now, manual=False),
        syncwindows.check(project, parsed, now=now, manual=True),
    )


def test_the_summary_says_which_sync_windows_refuse_what_and_until_when():
    app = application(sync={"status": "OutOfSync"})
    deny = {"kind": "deny", "schedule": "0 10 * * *", "duration": "1h", "manualSync": True}
    allow = {"kind": "allow", "schedule": "0 22 * * *", "duration": "2h", "timeZone": "UTC"}

    text = output.summary(app, windows_of(app, deny, allow))

    assert "Sync Window:   Manual Allowed" in text
    assert (
        "SYNC WINDOWS:\n"
        "  deny window 0 (schedule '0 10 * * *', duration 1h, timeZone UTC) is active until "
        "2026-06-10T11:00:00Z: refuses automated syncs (manualSync lets manual ones through)\n"
        "  allow window 1 (schedule '0 22 * * *', duration 2h, timeZone UTC) is closed until "
        "2026-06-10T22:00:00Z"
    ) in text


def test_the_summary_says_sync_allowed_or_denied_and_names_invalid_windows():
    app = application()
    assert "Sync Window:   Sync Allowed" in output.summary(app, windows_of(app))
    assert "SYNC WINDOWS" not in output.summary(app, windows_of(app))
    strict = {"kind": "deny", "schedule": "0 10 * * *", "duration": "1h"}
    denied = output.summary(app, windows_of(app, strict))
    assert "Sync Window:   Sync Denied" in denied
    assert "is active until 2026-06-10T11:00:00Z: refuses every sync" in denied
    broken = output.summary(app, windows_of(app, {**strict, "schedule": "daily"}))
    assert "Sync Window:   Sync Denied" in broken
    assert "invalid: project 'default': spec.syncWindows[0].schedule 'daily'" in broken


def test_history_rows_show_who_deployed_what():
    app = application(
        history=[
            {
                "id": 0,
                "revision": SHA1,
                "deployedAt": "2026-01-01T00:00:00Z",
                "source": {"repoURL": "git://r", "path": "p"},
                "initiatedBy": {"username": "ann"},
            },
            {
                "id": 1,
                "revision": SHA2,
                "deployedAt": "2026-01-02T00:00:00Z",
                "source": {"repoURL": "git://r", "path": "p"},
                "initiatedBy": {"automated": True},
            },
        ]
    )

    assert output.history_rows(app) == [
        ("0", "2026-01-01T00:00:00Z", SHA1, "git://r", "p", "ann"),
        ("1", "2026-01-02T00:00:00Z", SHA2, "git://r", "p", "automated"),
    ]


def test_the_diff_report_shows_only_differing_resources_under_argo_style_titles():
    same = state(config_map("hi"), config_map("hi"))
    changed = state(config_map("new"), config_map("old"))

    text, count = output.diff_report([same, changed])

    assert count == 1
    assert text.startswith("===== ConfigMap web/web ======\n")
    assert "-  greeting: old" in text
    assert "+  greeting: new" in text


def test_the_diff_report_is_empty_when_nothing_differs():
    assert output.diff_report([state(config_map("hi"), config_map("hi"))]) == ("", 0)


def test_a_missing_resource_counts_as_a_difference():
    text, count = output.diff_report([state(config_map("hi"), None)])

    assert count == 1
    assert "+  greeting: hi" in text


def test_secret_values_never_appear_in_a_diff():
    def secret(value: str) -> dict[str, Any]:
        return {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "db", "namespace": "web"},
            "data": {"password": base64.b64encode(value.encode()).decode()},
        }

    text, count = output.diff_report([state(secret("hunter2-new"), secret("hunter2-old"))])

    assert count == 1
    assert "password" in text
    for value in ("hunter2-new", "hunter2-old"):
        assert value not in text
        assert base64.b64encode(value.encode()).decode() not in text


def test_plain_progress_prints_a_line_only_when_a_resource_changes():
    lines: list[str] = []
    clock = lambda: datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)  # noqa: E731
    progress = output.PlainProgress(lines.append, clock)
    result = {"kind": "Service", "namespace": "web", "name": "web", "syncPhase": "Sync"}
    running = application(
        operationState={
            "phase": "Running",
            "message": "one or more tasks are running",
            "syncResult": {"resources": [result]},
        }
    )
    synced = application(
        operationState={
            "phase": "Succeeded",
            "message": "successfully synced",
            "syncResult": {"resources": [{**result, "status": "Synced", "message": "configured"}]},
        }
    )

    for app in (running, running, synced):
        progress.update(app)

    assert lines[0] == "Running: one or more tasks are running"
    assert lines[1].split() == ["TIMESTAMP", *output.RESOURCE_HEADERS]
    assert lines[2].split() == ["2026-01-01T00:00:00Z", "Service", "web", "web"]
    assert lines[3] == "Succeeded: successfully synced"
    assert lines[4].split() == [
        "2026-01-01T00:00:00Z",
        "Service",
        "web",
        "web",
        "Synced",
        "configured",
    ]
    assert len(lines) == 5
