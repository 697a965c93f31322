"""The controller against the real API server and Git: pruning, self-heal and refresh requests."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from lightkube.resources.core_v1 import ConfigMap
from lightkube.types import PatchType

from tests.support import tetherenv

pytestmark = pytest.mark.timeout(90)

CM = """apiVersion: v1
kind: ConfigMap
metadata: {name: %s}
data: {color: %s}
"""


def exists(kube: Any, name: str, namespace: str) -> bool:
    return tetherenv.exists(kube, ConfigMap, name, namespace)


async def prune_a_removed_file(crds, namespace: str, tmp_path) -> dict[str, Any]:
    """Sync an app with automated prune, remove a file from Git; returns the final status."""
    repo = tetherenv.serve_repo(
        tmp_path / "git",
        {"app/keep.yaml": CM % ("keep", "blue"), "app/extra.yaml": CM % ("extra", "red")},
    )
    kube = tetherenv.client(crds.kubeconfig)
    try:
        tetherenv.create(
            kube,
            tetherenv.application(
                "pruned",
                namespace,
                repo.url,
                "app",
                namespace,
                syncPolicy={"automated": {"prune": True}},
            ),
        )
        async with tetherenv.running_controller(
            crds.kubeconfig, namespace, tmp_path / "cache", resync_s=2.0
        ):
            await tetherenv.eventually(
                lambda: tetherenv.synced_healthy(kube, namespace, "pruned"), 60, "Synced"
            )
            assert exists(kube, "extra", namespace)

            sha = repo.commit({"app/extra.yaml": None})
            await tetherenv.eventually(
                lambda: not exists(kube, "extra", namespace), 60, "extra pruned"
            )

            def synced_at_new_revision():
                status = tetherenv.synced_healthy(kube, namespace, "pruned")
                return status and status["sync"].get("revision") == sha and status

            status: dict[str, Any] = await tetherenv.eventually(
                synced_at_new_revision, 30, "Synced at the commit"
            )
            assert [r["name"] for r in status["resources"]] == ["keep"]
            assert exists(kube, "keep", namespace)
            return status
    finally:
        repo.server.stop()
        kube.close()


async def test_a_file_removed_from_git_is_pruned_when_automated_prune_is_on(
    crds, full_namespace, tmp_path
):
    await prune_a_removed_file(crds, full_namespace, tmp_path)


async def test_the_prune_is_recorded_in_the_sync_result(crds, full_namespace, tmp_path):
    status = await prune_a_removed_file(crds, full_namespace, tmp_path)
    results = status["operationState"]["syncResult"]["resources"]
    assert [(r["name"], r["status"]) for r in results if r["name"] == "extra"] == [
        ("extra", "Pruned")
    ]


async def test_self_heal_restores_a_deleted_object_and_reverts_a_hand_edit(
    crds, full_namespace, tmp_path
):
    repo = tetherenv.serve_repo(
        tmp_path / "git",
        {"app/a.yaml": CM % ("a", "blue"), "app/b.yaml": CM % ("b", "green")},
    )
    kube = tetherenv.client(crds.kubeconfig)
    try:
        tetherenv.create(
            kube,
            tetherenv.application(
                "healed",
                full_namespace,
                repo.url,
                "app",
                full_namespace,
                syncPolicy={"automated": {"prune": True, "selfHeal": True}},
            ),
        )
        # A long resync: only the watch of managed objects can explain a quick repair.
        async with tetherenv.running_controller(
            crds.kubeconfig, full_namespace, tmp_path / "cache", resync_s=300.0
        ):
            await tetherenv.eventually(
                lambda: tetherenv.synced_healthy(kube, full_namespace, "healed"), 60, "Synced"
            )
            kube.delete(ConfigMap, "a", namespace=full_namespace)
            await tetherenv.eventually(
                lambda: exists(kube, "a", full_namespace), 30, "the deleted object restored"
            )
            assert kube.get(ConfigMap, "a", namespace=full_namespace).data == {"color": "blue"}

            kube.patch(
                ConfigMap,
                "b",
                {"data": {"color": "purple"}},
                namespace=full_namespace,
                patch_type=PatchType.MERGE,
            )
            await tetherenv.eventually(
                lambda: (
                    kube.get(ConfigMap, "b", namespace=full_namespace).data == {"color": "green"}
                ),
                30,
                "the hand edit reverted",
            )
            await tetherenv.eventually(
                lambda: tetherenv.synced_healthy(kube, full_namespace, "healed"),
                30,
                "Synced again",
            )
    finally:
        repo.server.stop()
        kube.close()


async def test_a_refresh_annotation_picks_up_a_commit_at_once_and_is_removed(
    crds, full_namespace, tmp_path
):
    repo = tetherenv.serve_repo(tmp_path / "git", {"app/a.yaml": CM % ("a", "blue")})
    kube = tetherenv.client(crds.kubeconfig)
    try:
        tetherenv.create(
            kube,
            tetherenv.application(
                "refreshed",
                full_namespace,
                repo.url,
                "app",
                full_namespace,
                syncPolicy={"automated": {}},
            ),
        )
        # Resync every 300 s: nothing but the annotation can make the commit show up soon.
        async with tetherenv.running_controller(
            crds.kubeconfig, full_namespace, tmp_path / "cache", resync_s=300.0
        ):
            await tetherenv.eventually(
                lambda: tetherenv.synced_healthy(kube, full_namespace, "refreshed"), 60, "Synced"
            )
            first = repo.seed.shas["initial"]
            sha = repo.commit({"app/a.yaml": CM % ("a", "green")})
            await asyncio.sleep(3)
            status = tetherenv.app_status(kube, full_namespace, "refreshed")
            assert status["sync"]["revision"] == first, "the commit was seen without a request"

            tetherenv.patch_app(
                kube,
                full_namespace,
                "refreshed",
                {"metadata": {"annotations": {"argocd.argoproj.io/refresh": "normal"}}},
            )
            await tetherenv.eventually(
                lambda: (
                    tetherenv.app_status(kube, full_namespace, "refreshed")["sync"].get("revision")
                    == sha
                ),
                20,
                "the commit seen after the refresh request",
            )
            await tetherenv.eventually(
                lambda: (
                    kube.get(ConfigMap, "a", namespace=full_namespace).data == {"color": "green"}
                ),
                20,
                "the commit applied",
            )

            def annotation_removed():
                app = tetherenv.get(kube, tetherenv.Application, "refreshed", full_namespace)
                annotations = app["metadata"].get("annotations") or {}
                return "argocd.argoproj.io/refresh" not in annotations

            await tetherenv.eventually(annotation_removed, 20, "the refresh annotation removed")
    finally:
        repo.server.stop()
        kube.close()
