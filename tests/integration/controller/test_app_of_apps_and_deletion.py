"""The controller with an app of apps (child Applications in waves) and cascade deletion."""

from __future__ import annotations

import asyncio
import functools
import itertools
from typing import Any

import pytest
from lightkube.resources.apps_v1 import Deployment
from lightkube.resources.core_v1 import ConfigMap

from tests.support import tetherenv

pytestmark = pytest.mark.timeout(90)

CM = """apiVersion: v1
kind: ConfigMap
metadata: {name: %s}
data: {a: "1"}
"""

DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata: {name: %s}
spec:
  replicas: 1
  selector: {matchLabels: {app: %s}}
  template:
    metadata: {labels: {app: %s}}
    spec:
      containers: [{name: main, image: nginx}]
"""


def child_app(name: str, wave: int, namespace: str, repo_url: str) -> str:
    body = tetherenv.application(
        name, namespace, repo_url, name, namespace, syncPolicy={"automated": {"prune": True}}
    )
    body["metadata"]["annotations"] = {"argocd.argoproj.io/sync-wave": str(wave)}
    return tetherenv.yaml_docs(body)


def workload(name: str) -> str:
    return CM % f"{name}-settings" + "---\n" + DEPLOYMENT % (name, name, name)


CHILDREN = ("child-0", "child-1", "child-2")


def children_snapshot(kube, namespace: str) -> dict[str, tuple[str, str]]:
    """Each child Application that exists, with its (sync, health) status."""
    seen: dict[str, tuple[str, str]] = {}
    for app in kube.list(tetherenv.Application, namespace=namespace):
        body: Any = app if isinstance(app, dict) else app.to_dict()
        name = body["metadata"]["name"]
        if name in CHILDREN:
            status = body.get("status") or {}
            seen[name] = (
                (status.get("sync") or {}).get("status", ""),
                (status.get("health") or {}).get("status", ""),
            )
    return seen


async def test_an_app_of_apps_syncs_its_children_wave_by_wave_once_each_is_healthy(
    crds, full_namespace, tmp_path
):
    ns = full_namespace
    repo = tetherenv.serve_repo(tmp_path / "git", {"README": "apps\n"})
    files: dict[str, str | None] = {}
    for wave, name in enumerate(CHILDREN):
        files[f"apps/{name}.yaml"] = child_app(name, wave, ns, repo.url)
        files[f"{name}/workload.yaml"] = workload(name)
    repo.commit(files, "apps")
    kube = tetherenv.client(crds.kubeconfig)
    snapshots: list[dict[str, tuple[str, str]]] = []
    stop = asyncio.Event()

    async def record() -> None:
        while not stop.is_set():
            snapshots.append(await asyncio.to_thread(children_snapshot, kube, ns))
            await asyncio.sleep(0.05)

    recorder = asyncio.create_task(record())
    try:
        tetherenv.create(
            kube,
            tetherenv.application(
                "root", ns, repo.url, "apps", ns, syncPolicy={"automated": {"prune": True}}
            ),
        )
        async with tetherenv.running_controller(crds.kubeconfig, ns, tmp_path / "cache"):
            for name in CHILDREN:
                await tetherenv.eventually(
                    functools.partial(tetherenv.synced_healthy, kube, ns, name),
                    60,
                    f"{name} Synced and Healthy",
                )
            status = await tetherenv.eventually(
                lambda: tetherenv.synced_healthy(kube, ns, "root"), 30, "root Synced and Healthy"
            )
        stop.set()
        await recorder
        assert sorted(r["name"] for r in status["resources"]) == list(CHILDREN)
        for name in CHILDREN:
            assert kube.get(ConfigMap, f"{name}-settings", namespace=ns).data == {"a": "1"}
            deployment = tetherenv.get(kube, Deployment, name, ns)
            assert deployment["status"]["availableReplicas"] == 1
        # A child of wave n+1 never existed before the child of wave n was Synced and Healthy.
        for seen in snapshots:
            for earlier, later in itertools.pairwise(CHILDREN):
                if later in seen:
                    assert seen.get(earlier) == ("Synced", "Healthy"), seen
        created = [
            tetherenv.get(kube, tetherenv.Application, n, ns)["metadata"]["creationTimestamp"]
            for n in CHILDREN
        ]
        assert created == sorted(created)
    finally:
        stop.set()
        await recorder
        repo.server.stop()
        kube.close()


async def test_deleting_an_app_with_the_resources_finalizer_deletes_its_resources_first(
    crds, full_namespace, tmp_path
):
    ns = full_namespace
    repo = tetherenv.serve_repo(
        tmp_path / "git",
        {"cascade/w.yaml": workload("cascade"), "kept/w.yaml": workload("kept")},
    )
    kube = tetherenv.client(crds.kubeconfig)
    try:
        cascade = tetherenv.application(
            "cascade", ns, repo.url, "cascade", ns, syncPolicy={"automated": {}}
        )
        cascade["metadata"]["finalizers"] = ["resources-finalizer.argocd.argoproj.io"]
        tetherenv.create(kube, cascade)
        tetherenv.create(
            kube,
            tetherenv.application("kept", ns, repo.url, "kept", ns, syncPolicy={"automated": {}}),
        )
        async with tetherenv.running_controller(crds.kubeconfig, ns, tmp_path / "cache"):
            for name in ("cascade", "kept"):
                await tetherenv.eventually(
                    functools.partial(tetherenv.synced_healthy, kube, ns, name), 60, name
                )

            kube.delete(tetherenv.Application, "cascade", namespace=ns)
            # While its resources go, the Application stays (held by the finalizer).
            app_seen_without_resources = []

            def gone():
                app_exists = tetherenv.exists(kube, tetherenv.Application, "cascade", ns)
                resources_exist = tetherenv.exists(
                    kube, ConfigMap, "cascade-settings", ns
                ) or tetherenv.exists(kube, Deployment, "cascade", ns)
                if app_exists and not resources_exist:
                    app_seen_without_resources.append(True)
                assert app_exists or not resources_exist, "the app went before its resources"
                return not app_exists

            await tetherenv.eventually(gone, 60, "the app and its resources deleted")
            assert not tetherenv.exists(kube, ConfigMap, "cascade-settings", ns)
            assert not tetherenv.exists(kube, Deployment, "cascade", ns)

            kube.delete(tetherenv.Application, "kept", namespace=ns)
            await tetherenv.eventually(
                lambda: not tetherenv.exists(kube, tetherenv.Application, "kept", ns),
                30,
                "kept deleted",
            )
            await asyncio.sleep(2)
            assert tetherenv.exists(kube, ConfigMap, "kept-settings", ns)
            assert tetherenv.exists(kube, Deployment, "kept", ns)
    finally:
        repo.server.stop()
        kube.close()
