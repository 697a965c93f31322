"""Manual syncs requested through ``.operation``, as Argo CD's API server writes them."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from lightkube.resources.apps_v1 import Deployment
from lightkube.resources.core_v1 import ConfigMap

from tests.support import tetherenv

pytestmark = pytest.mark.timeout(90)

CM = """apiVersion: v1
kind: ConfigMap
metadata:
  name: %s
  annotations: {argocd.argoproj.io/sync-wave: "%d"}
data: {a: "1"}
"""

DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 1
  minReadySeconds: 3  # kwok readies a Pod in ~0.1 s; this keeps wave 0 Progressing a while
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: nginx}]
"""


async def finished_operation(kube, namespace: str, name: str, seen: list[str]) -> dict[str, Any]:
    """Wait until the operation is cleared and its state final; ``seen`` gets every phase."""

    def done():
        app = tetherenv.get(kube, tetherenv.Application, name, namespace)
        state = (app.get("status") or {}).get("operationState") or {}
        if state.get("phase") and (not seen or seen[-1] != state["phase"]):
            seen.append(state["phase"])
        final = state.get("phase") in ("Succeeded", "Failed", "Error")
        return app if final and not app.get("operation") else None

    app: dict[str, Any] = await tetherenv.eventually(done, 60, "the operation finished")
    return app


async def test_manual_syncs_dry_run_selective_and_full_with_prune(crds, full_namespace, tmp_path):
    ns = full_namespace
    repo = tetherenv.serve_repo(
        tmp_path / "git",
        {
            "app/a.yaml": CM % ("a", 0),
            "app/b.yaml": CM % ("b", 1),
            "app/deploy.yaml": DEPLOYMENT,
        },
    )
    kube = tetherenv.client(crds.kubeconfig)
    try:
        tetherenv.create(kube, tetherenv.application("manual", ns, repo.url, "app", ns))
        async with tetherenv.running_controller(crds.kubeconfig, ns, tmp_path / "cache"):
            await tetherenv.eventually(
                lambda: tetherenv.sync_status(kube, ns, "manual") == "OutOfSync",
                60,
                "OutOfSync without automated sync",
            )
            await asyncio.sleep(2)
            assert not tetherenv.exists(kube, ConfigMap, "a", ns), "synced without being asked"

            # A dry run changes nothing and leaves no history.
            tetherenv.start_sync(kube, ns, "manual", dryRun=True, prune=True)
            app = await finished_operation(kube, ns, "manual", [])
            assert app["status"]["operationState"]["phase"] == "Succeeded", app["status"]
            assert not any(tetherenv.exists(kube, ConfigMap, n, ns) for n in ("a", "b"))
            assert not tetherenv.exists(kube, Deployment, "web", ns)
            assert not app["status"].get("history")

            # A selective sync applies only the named resource, and is not history either.
            tetherenv.start_sync(
                kube,
                ns,
                "manual",
                resources=[{"group": "", "kind": "ConfigMap", "name": "a", "namespace": ns}],
            )
            app = await finished_operation(kube, ns, "manual", [])
            state = app["status"]["operationState"]
            assert state["phase"] == "Succeeded", state
            assert [r["name"] for r in state["syncResult"]["resources"]] == ["a"]
            assert tetherenv.exists(kube, ConfigMap, "a", ns)
            assert not tetherenv.exists(kube, ConfigMap, "b", ns)
            assert not tetherenv.exists(kube, Deployment, "web", ns)
            assert not app["status"].get("history")

            # A full sync with prune: a is gone from Git, so it is pruned; the Deployment in
            # wave 0 must become Healthy before wave 1, so the operation is Running a while.
            sha = repo.commit({"app/a.yaml": None})
            await tetherenv.eventually(
                lambda: tetherenv.app_status(kube, ns, "manual")["sync"].get("revision") == sha,
                30,
                "the new commit compared",
            )
            seen: list[str] = []
            tetherenv.start_sync(kube, ns, "manual", prune=True, revision="main")
            app = await finished_operation(kube, ns, "manual", seen)
            state = app["status"]["operationState"]
            assert seen == ["Running", "Succeeded"], seen
            assert state["syncResult"]["revision"] == sha
            results = {r["name"]: r for r in state["syncResult"]["resources"]}
            assert results["a"]["status"] == "Pruned"
            assert results["b"]["status"] == results["web"]["status"] == "Synced"
            assert state["startedAt"] <= state["finishedAt"]
            assert not tetherenv.exists(kube, ConfigMap, "a", ns)
            assert tetherenv.exists(kube, ConfigMap, "b", ns)
            history = app["status"]["history"]
            assert len(history) == 1, history
            assert history[0]["revision"] == sha
            assert history[0]["initiatedBy"] == {"username": "tester"}
            await tetherenv.eventually(
                lambda: tetherenv.synced_healthy(kube, ns, "manual"), 30, "Synced and Healthy"
            )
    finally:
        repo.server.stop()
        kube.close()


async def test_a_selective_sync_naming_no_namespace_matches_the_resource_in_any_namespace(
    crds, full_namespace, tmp_path
):
    # `argocd app sync --resource :ConfigMap:a` writes no namespace; Argo CD's
    # SyncOperationResource.HasIdentity then matches the name in every namespace.
    ns = full_namespace
    repo = tetherenv.serve_repo(
        tmp_path / "git", {"app/a.yaml": CM % ("a", 0), "app/b.yaml": CM % ("b", 0)}
    )
    kube = tetherenv.client(crds.kubeconfig)
    try:
        tetherenv.create(kube, tetherenv.application("picky", ns, repo.url, "app", ns))
        async with tetherenv.running_controller(crds.kubeconfig, ns, tmp_path / "cache"):
            await tetherenv.eventually(
                lambda: tetherenv.sync_status(kube, ns, "picky") == "OutOfSync",
                60,
                "OutOfSync",
            )
            tetherenv.start_sync(
                kube, ns, "picky", resources=[{"group": "", "kind": "ConfigMap", "name": "a"}]
            )
            app = await finished_operation(kube, ns, "picky", [])
            state = app["status"]["operationState"]
            assert state["phase"] == "Succeeded", state
            assert [r["name"] for r in state["syncResult"]["resources"]] == ["a"]
            assert tetherenv.exists(kube, ConfigMap, "a", ns)
            assert not tetherenv.exists(kube, ConfigMap, "b", ns)
    finally:
        repo.server.stop()
        kube.close()
