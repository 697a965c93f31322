"""Sync windows hold automated and manual syncs, and let them go when the windows change.

The windows are real cron windows evaluated on the real clock: one is made to close seconds
after the test starts, so the release comes from the controller's own requeue at that time
(the resync period is set far beyond the test).
"""

from __future__ import annotations

import asyncio
import datetime
import os
import subprocess
import sys
from typing import Any

import pytest
from lightkube import ApiError
from lightkube.resources.core_v1 import ConfigMap
from lightkube.types import PatchType

from tests.support import tetherenv

pytestmark = pytest.mark.timeout(180)

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: windowed}\ndata: {a: '1'}\n"
NEVER_RESYNC_S = 600.0
"""Longer than any test here: whatever syncs, syncs because a window changed."""

ALWAYS = {"schedule": "* * * * *", "duration": "1h"}
"""Opens every minute for an hour: active whenever the test looks."""


def project(namespace: str, *windows: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AppProject",
        "metadata": {"name": "frozen", "namespace": namespace},
        "spec": {
            "sourceRepos": ["*"],
            "destinations": [{"server": "*", "namespace": namespace}],
            "syncWindows": list(windows),
        },
    }


def app(name: str, namespace: str, repo_url: str, **spec: Any) -> dict[str, Any]:
    body = tetherenv.application(name, namespace, repo_url, "app", namespace, **spec)
    body["spec"]["project"] = "frozen"
    return body


def exists(kube: Any, namespace: str) -> bool:
    try:
        kube.get(ConfigMap, "windowed", namespace=namespace)
    except ApiError as err:
        if err.status.code == 404:
            return False
        raise
    return True


def condition(kube: Any, namespace: str, name: str) -> str:
    conditions = tetherenv.app_status(kube, namespace, name).get("conditions") or []
    return next((c["message"] for c in conditions if c["type"] == "SyncWindowWarning"), "")


def tether(kubeconfig: Any, namespace: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tether", "app", *args, "-n", namespace],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "KUBECONFIG": str(kubeconfig)},
    )


def remove_windows(kube: Any, namespace: str) -> None:
    kube.patch(
        tetherenv.AppProject,
        "frozen",
        {"spec": {"syncWindows": None}},
        namespace=namespace,
        patch_type=PatchType.MERGE,
    )


async def test_a_deny_window_holds_an_automated_sync_and_releases_it_when_it_closes(
    crds, full_namespace, tmp_path
):
    ns = full_namespace
    repo = tetherenv.serve_repo(tmp_path / "git", {"app/cm.yaml": CM})
    kube = tetherenv.client(crds.kubeconfig)
    # Opened at the start of this minute, closing 30 s from now.
    now = datetime.datetime.now(datetime.UTC)
    opened = now.replace(second=0, microsecond=0)
    closes = now + datetime.timedelta(seconds=30)
    deny = {
        "kind": "deny",
        "schedule": f"{opened.minute} {opened.hour} * * *",
        "duration": f"{int((closes - opened).total_seconds())}s",
        "applications": ["held"],
    }
    try:
        tetherenv.create(kube, project(ns, deny))
        tetherenv.create(kube, app("held", ns, repo.url, syncPolicy={"automated": {}}))
        async with tetherenv.running_controller(
            crds.kubeconfig, ns, tmp_path / "cache", resync_s=NEVER_RESYNC_S
        ):
            message = await tetherenv.eventually(
                lambda: condition(kube, ns, "held"), 25, "the SyncWindowWarning"
            )
            assert message == (
                "automated sync held by sync windows: project 'frozen': deny window 0 "
                f"(schedule {deny['schedule']!r}, duration {deny['duration']}, timeZone UTC) "
                "is active"
            )
            assert datetime.datetime.now(datetime.UTC) < closes, "held only after it closed"
            assert tetherenv.sync_status(kube, ns, "held") == "OutOfSync"
            assert not exists(kube, ns)

            status = await tetherenv.eventually(
                lambda: tetherenv.synced_healthy(kube, ns, "held"), 60, "Synced after the window"
            )
            synced_at = datetime.datetime.now(datetime.UTC)
        assert exists(kube, ns)
        assert synced_at - closes < datetime.timedelta(seconds=20), "released by a resync?"
        assert not [c for c in status.get("conditions") or [] if c["type"] == "SyncWindowWarning"]
        started = status["operationState"]["startedAt"]
        assert started >= closes.strftime("%Y-%m-%dT%H:%M:%SZ")
    finally:
        repo.server.stop()
        kube.close()


async def test_a_held_automated_sync_goes_as_soon_as_its_window_is_removed(
    crds, full_namespace, tmp_path
):
    ns = full_namespace
    repo = tetherenv.serve_repo(tmp_path / "git", {"app/cm.yaml": CM})
    kube = tetherenv.client(crds.kubeconfig)
    try:
        tetherenv.create(kube, project(ns, {"kind": "deny", **ALWAYS, "namespaces": [ns]}))
        tetherenv.create(kube, app("edited", ns, repo.url, syncPolicy={"automated": {}}))
        async with tetherenv.running_controller(
            crds.kubeconfig, ns, tmp_path / "cache", resync_s=NEVER_RESYNC_S
        ):
            await tetherenv.eventually(lambda: condition(kube, ns, "edited"), 30, "held")
            assert not exists(kube, ns)
            remove_windows(kube, ns)
            await tetherenv.eventually(
                lambda: tetherenv.synced_healthy(kube, ns, "edited"), 20, "Synced once removed"
            )
            await tetherenv.eventually(lambda: not condition(kube, ns, "edited"), 10, "cleared")
        assert exists(kube, ns)
    finally:
        repo.server.stop()
        kube.close()


async def test_a_manual_sync_is_refused_and_an_operation_written_anyway_waits_for_the_window(
    crds, full_namespace, tmp_path
):
    ns = full_namespace
    repo = tetherenv.serve_repo(tmp_path / "git", {"app/cm.yaml": CM})
    kube = tetherenv.client(crds.kubeconfig)
    try:
        tetherenv.create(kube, project(ns, {"kind": "deny", **ALWAYS, "applications": ["man*"]}))
        tetherenv.create(kube, app("manual", ns, repo.url))
        async with tetherenv.running_controller(
            crds.kubeconfig, ns, tmp_path / "cache", resync_s=NEVER_RESYNC_S
        ):
            await tetherenv.eventually(
                lambda: tetherenv.sync_status(kube, ns, "manual") == "OutOfSync", 30, "compared"
            )
            refused = await asyncio.to_thread(tether, crds.kubeconfig, ns, "sync", "manual")
            assert refused.returncode != 0
            assert (
                f"cannot sync {ns}/manual: blocked by sync window: project 'frozen': deny window "
                "0 (schedule '* * * * *', duration 1h, timeZone UTC) is active"
            ) in refused.stderr
            shown = await asyncio.to_thread(tether, crds.kubeconfig, ns, "get", "manual")
            assert "Sync Window:   Sync Denied" in shown.stdout, shown.stdout
            assert "is active with no end in sight: refuses every sync" in shown.stdout
            assert not tetherenv.get(kube, tetherenv.Application, "manual", ns).get("operation")

            # Written straight into the Application, as a client that does not check would.
            tetherenv.start_sync(kube, ns, "manual")

            def held() -> str:
                state = tetherenv.app_status(kube, ns, "manual").get("operationState") or {}
                message = str(state.get("message") or "")
                return message if state.get("phase") == "Running" else ""

            message = await tetherenv.eventually(held, 30, "the operation held")
            assert message.startswith("Sync operation blocked by sync window: project 'frozen'")
            await asyncio.sleep(3)
            assert held() and not exists(kube, ns)

            # A held operation can be stopped: it ends without having synced anything. (The
            # controller hears no status-only change, so it sees this at its next look: 30 s.)
            stop = await asyncio.to_thread(tether, crds.kubeconfig, ns, "terminate-op", "manual")
            assert stop.returncode == 0, stop.stderr
            ended = await tetherenv.eventually(
                lambda: tetherenv.finished_app(kube, ns, "manual"), 45, "the operation ended"
            )
            assert ended["status"]["operationState"]["phase"] == "Failed"
            assert ended["status"]["operationState"]["message"] == "Operation terminated"
            assert not exists(kube, ns)

            tetherenv.start_sync(kube, ns, "manual")
            await tetherenv.eventually(held, 30, "the second operation held")
            remove_windows(kube, ns)
            done = await tetherenv.eventually(
                lambda: tetherenv.finished_app(kube, ns, "manual"), 20, "the sync finished"
            )
        assert done["status"]["operationState"]["phase"] == "Succeeded"
        assert exists(kube, ns)
    finally:
        repo.server.stop()
        kube.close()
