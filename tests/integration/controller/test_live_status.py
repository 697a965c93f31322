"""A syncing app's status stays live: objects the sync applied show as Synced while it runs.

Found: while an operation ran, the app was never compared again. With the Kubeflow root
syncing, ``status.reconciledAt`` stayed at the operation's start and every resource showed
OutOfSync/Missing for minutes, although the first waves were applied, Synced and Healthy.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import tetherenv

pytestmark = pytest.mark.timeout(120)

WAVES = """apiVersion: v1
kind: ConfigMap
metadata: {name: early}
data: {a: "1"}
---
apiVersion: v1
kind: Service
metadata: {name: slow}
spec:
  type: LoadBalancer
  ports: [{port: 80}]
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: late
  annotations: {argocd.argoproj.io/sync-wave: "1"}
data: {b: "2"}
"""


def live_while_running(kube: Any, namespace: str, name: str) -> dict[str, Any] | None:
    """The status once, with the operation still running, the first wave shows as applied."""
    status = tetherenv.app_status(kube, namespace, name)
    state = status.get("operationState") or {}
    by_name = {r.get("name"): r for r in status.get("resources") or []}
    early = by_name.get("early") or {}
    # A comparison made during the operation: one that started just before it may already show
    # the first wave applied (second-resolution timestamps), which proves nothing mid-sync.
    during = str(status.get("reconciledAt", "")) >= str(state.get("startedAt", "~"))
    if state.get("phase") == "Running" and early.get("status") == "Synced" and during:
        return status
    return None


async def test_objects_a_running_sync_applied_show_as_synced_before_it_ends(
    crds, full_namespace, tmp_path
):
    ns = full_namespace
    # The LoadBalancer never gets an address here (no cloud), so wave 0 never turns healthy
    # and the operation keeps running: the status must still follow the cluster.
    repo = tetherenv.serve_repo(tmp_path / "git", {"app/all.yaml": WAVES})
    kube = tetherenv.client(crds.kubeconfig)
    try:
        tetherenv.create(
            kube,
            tetherenv.application("waves", ns, repo.url, "app", ns, syncPolicy={"automated": {}}),
        )
        async with tetherenv.running_controller(crds.kubeconfig, ns, tmp_path / "cache"):
            status = await tetherenv.eventually(
                lambda: live_while_running(kube, ns, "waves"), 60, "a live status mid-sync"
            )
            by_name = {r["name"]: r for r in status["resources"]}
            assert by_name["slow"]["health"]["status"] == "Progressing"
            assert by_name["late"]["status"] == "OutOfSync"  # its wave has not come yet
            assert status["reconciledAt"] >= status["operationState"]["startedAt"]
            assert status["sync"]["status"] == "OutOfSync"
    finally:
        repo.server.stop()
        kube.close()
