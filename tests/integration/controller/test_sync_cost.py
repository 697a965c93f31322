"""What a first automated sync of a one-object app costs in requests, and what it leaves behind."""

from __future__ import annotations

import pytest
from lightkube.resources.core_v1 import ConfigMap, Event

from tests.support import tetherenv

pytestmark = pytest.mark.timeout(90)

CM = """apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {color: blue}
"""

BAD_CM = """apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {color: [not, a, string]}
"""


async def test_a_one_object_sync_costs_one_apply_two_status_writes_and_two_events(
    crds, full_namespace, tmp_path
):
    kube = tetherenv.client(crds.kubeconfig)
    repo = tetherenv.serve_repo(tmp_path / "git", {"app/cm.yaml": CM})
    metrics = tetherenv.free_metrics_address()
    try:
        app = tetherenv.application(
            "one", full_namespace, repo.url, "app", full_namespace, syncPolicy={"automated": {}}
        )
        async with tetherenv.running_controller(
            crds.kubeconfig,
            full_namespace,
            tmp_path / "cache",
            resync_s=60,
            metrics_address=metrics,
        ):
            before = tetherenv.controller_requests(metrics)
            tetherenv.create(kube, app)
            await tetherenv.eventually(
                lambda: tetherenv.synced_healthy(kube, full_namespace, "one"), 60, "Synced"
            )

            def all_events():
                reasons = sorted(
                    (str(e.reason), str(e.message))
                    for e in kube.list(Event, namespace=full_namespace)
                    if e.involvedObject.name == "one"
                )
                return len(reasons) >= 2 and reasons

            reasons = await tetherenv.eventually(all_events, 30, "the two events")
            after = tetherenv.controller_requests(metrics)

        status = tetherenv.app_status(kube, full_namespace, "one")
        state = status["operationState"]
        assert state["phase"] == "Succeeded"
        assert state["message"] == "successfully synced (all tasks run)"
        assert state["startedAt"] <= state["finishedAt"]
        assert state["syncResult"]["revision"] == repo.seed.shas["initial"]
        assert [
            (r["name"], r["status"], r["hookPhase"]) for r in state["syncResult"]["resources"]
        ] == [("settings", "Synced", "Running")]
        assert [h["revision"] for h in status["history"]] == [repo.seed.shas["initial"]]
        assert status["reconciledAt"]
        assert tetherenv.get(kube, ConfigMap, "settings", full_namespace)["data"] == {
            "color": "blue"
        }
        # One Event per write, each with Argo CD's sentences for what that write changed.
        assert reasons == [
            (
                "OperationCompleted",
                "Sync operation Succeeded: successfully synced (all tasks run); "
                "Updated sync status: OutOfSync -> Synced; "
                "Updated health status: Missing -> Healthy",
            ),
            (
                "OperationStarted",
                "Initiated automated sync: out of sync with a new revision; "
                "Updated sync status: (none) -> OutOfSync; "
                "Updated health status: (none) -> Missing",
            ),
        ]
        spent = {verb: after.get(verb, 0) - before.get(verb, 0) for verb in after}
        # The status before the sync with the operation and its Running state; the final state
        # with the status after it (compared with the apply's response, which is also its dry
        # run); one apply of the object; two Events.
        assert spent.get("patch", 0) == 2, spent
        assert spent.get("apply", 0) == 1, spent
        assert spent.get("create", 0) == 2, spent
    finally:
        repo.server.stop()
        kube.close()


async def test_an_invalid_lone_object_fails_the_sync_as_a_failed_dry_run_and_writes_nothing(
    crds, full_namespace, tmp_path
):
    kube = tetherenv.client(crds.kubeconfig)
    repo = tetherenv.serve_repo(tmp_path / "git", {"app/cm.yaml": BAD_CM})
    try:
        app = tetherenv.application(
            "bad",
            full_namespace,
            repo.url,
            "app",
            full_namespace,
            syncPolicy={"automated": {}, "retry": {"limit": 0}},
        )
        async with tetherenv.running_controller(
            crds.kubeconfig, full_namespace, tmp_path / "cache", resync_s=60
        ):
            tetherenv.create(kube, app)

            def failed():
                state = tetherenv.app_status(kube, full_namespace, "bad").get("operationState")
                return state if state and state["phase"] == "Failed" else None

            state = await tetherenv.eventually(failed, 60, "the sync failed")
        assert state["message"].startswith("one or more objects failed to apply (dry run), reason:")
        assert [(r["name"], r["status"]) for r in state["syncResult"]["resources"]] == [
            ("settings", "SyncFailed")
        ]
        assert "hookPhase" not in state["syncResult"]["resources"][0]
        assert not [
            c
            for c in kube.list(ConfigMap, namespace=full_namespace)
            if c.metadata and c.metadata.name == "settings"
        ]
    finally:
        repo.server.stop()
        kube.close()
