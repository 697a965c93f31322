"""``Delete=confirm`` and ``Prune=confirm`` wait for ``tether app confirm-deletion``.

Found: objects marked ``Delete=confirm`` were deleted with their Application without any
confirmation, and a ``Prune=confirm`` prune could never be approved (nothing read the approval).
"""

from __future__ import annotations

import asyncio
import subprocess
import sys

import pytest
from lightkube.resources.core_v1 import ConfigMap

from tests.support import tetherenv

pytestmark = pytest.mark.timeout(150)

CM = """apiVersion: v1
kind: ConfigMap
metadata:
  name: %s
  annotations: {argocd.argoproj.io/sync-options: "%s"}
"""


def confirm(kubeconfig, namespace: str, name: str) -> None:
    done = subprocess.run(
        [
            sys.executable, "-m", "tether", "app", "confirm-deletion", name,
            "--kubeconfig", str(kubeconfig), "-n", namespace,
            "--control-plane-namespace", namespace,
        ],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "approved" in done.stdout


async def test_delete_confirm_waits_for_a_confirmation_and_delete_false_outlives_its_app(
    crds, full_namespace, tmp_path
):
    ns = full_namespace
    repo = tetherenv.serve_repo(
        tmp_path / "git",
        {
            "app/plain.yaml": CM % ("plain", "Validate=true"),
            "app/guarded.yaml": CM % ("guarded", "Delete=confirm"),
            "app/kept.yaml": CM % ("kept", "Delete=false"),
        },
    )
    kube = tetherenv.client(crds.kubeconfig)
    try:
        app = tetherenv.application(
            "careful", ns, repo.url, "app", ns, syncPolicy={"automated": {}}
        )
        app["metadata"]["finalizers"] = ["resources-finalizer.argocd.argoproj.io"]
        tetherenv.create(kube, app)
        async with tetherenv.running_controller(crds.kubeconfig, ns, tmp_path / "cache"):
            await tetherenv.eventually(
                lambda: tetherenv.synced_healthy(kube, ns, "careful"), 60, "Synced"
            )
            kube.delete(tetherenv.Application, "careful", namespace=ns)
            await tetherenv.eventually(
                lambda: not tetherenv.exists(kube, ConfigMap, "plain", ns),
                60,
                "the plain object deleted",
            )
            await asyncio.sleep(4)
            assert tetherenv.exists(kube, ConfigMap, "guarded", ns), "deleted without confirmation"
            assert tetherenv.exists(kube, tetherenv.Application, "careful", ns), (
                "the app went first"
            )

            await asyncio.to_thread(confirm, crds.kubeconfig, ns, "careful")
            await tetherenv.eventually(
                lambda: (
                    not tetherenv.exists(kube, tetherenv.Application, "careful", ns)
                    and not tetherenv.exists(kube, ConfigMap, "guarded", ns)
                ),
                60,
                "the app and the confirmed object gone",
            )
            assert tetherenv.exists(kube, ConfigMap, "kept", ns), (
                "Delete=false was deleted with its app"
            )
    finally:
        repo.server.stop()
        kube.close()


async def test_a_prune_confirm_prune_waits_until_it_is_confirmed(crds, full_namespace, tmp_path):
    ns = full_namespace
    repo = tetherenv.serve_repo(
        tmp_path / "git",
        {
            "app/kept.yaml": CM % ("kept", "Validate=true"),
            "app/old.yaml": CM % ("old", "Prune=confirm"),
        },
    )
    kube = tetherenv.client(crds.kubeconfig)
    try:
        tetherenv.create(kube, tetherenv.application("pruner", ns, repo.url, "app", ns))
        async with tetherenv.running_controller(crds.kubeconfig, ns, tmp_path / "cache"):
            await tetherenv.eventually(
                lambda: tetherenv.sync_status(kube, ns, "pruner") == "OutOfSync",
                60,
                "compared",
            )
            tetherenv.start_sync(kube, ns, "pruner")
            await tetherenv.eventually(
                lambda: tetherenv.synced_healthy(kube, ns, "pruner"), 60, "first sync"
            )
            repo.commit({"app/old.yaml": None})
            tetherenv.patch_app(
                kube,
                ns,
                "pruner",
                {"metadata": {"annotations": {"argocd.argoproj.io/refresh": "hard"}}},
            )
            await tetherenv.eventually(
                lambda: tetherenv.sync_status(kube, ns, "pruner") == "OutOfSync",
                60,
                "the removal compared",
            )
            tetherenv.start_sync(kube, ns, "pruner", prune=True)

            def waiting() -> str:
                state = tetherenv.app_status(kube, ns, "pruner").get("operationState") or {}
                message = state.get("message") or ""
                return message if "Waiting for pruning confirmation" in message else ""

            message = await tetherenv.eventually(waiting, 60, "the prune waits")
            assert "ConfigMap/old" in message
            assert tetherenv.exists(kube, ConfigMap, "old", ns)

            await asyncio.to_thread(confirm, crds.kubeconfig, ns, "pruner")

            app = await tetherenv.eventually(
                lambda: tetherenv.finished_app(kube, ns, "pruner"), 60, "the sync finished"
            )
            state = app["status"]["operationState"]
        assert state["phase"] == "Succeeded", state.get("message")
        assert not tetherenv.exists(kube, ConfigMap, "old", ns)
        assert tetherenv.exists(kube, ConfigMap, "kept", ns)
    finally:
        repo.server.stop()
        kube.close()
