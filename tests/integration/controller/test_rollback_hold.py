"""A rollback of a child Application holds while its self-healing app of apps resyncs.

Found (untested before): ``tether app rollback`` turns the child's automated sync off, but the
parent deploys the child from Git with automated sync on and self-heals it back at once, so the
child synced forward again and the rollback was undone within seconds.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from lightkube.resources.core_v1 import ConfigMap

from tests.support import tetherenv

pytestmark = pytest.mark.timeout(180)

CM = """apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {version: "%s"}
"""


def tether_app(kubeconfig: Path, namespace: str, *args: str) -> str:
    done = subprocess.run(
        [
            sys.executable, "-m", "tether", "app", *args,
            "--kubeconfig", str(kubeconfig), "-n", namespace,
            "--control-plane-namespace", namespace, "--timeout", "60",
        ],
        capture_output=True, text=True, timeout=90, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def version(kube: Any, namespace: str) -> str:
    return str(kube.get(ConfigMap, "settings", namespace=namespace).data["version"])


def child_spec(kube: Any, namespace: str) -> dict[str, Any]:
    return dict(tetherenv.get(kube, tetherenv.Application, "child", namespace)["spec"])


async def refreshed(kube: Any, namespace: str, name: str) -> None:
    """Ask for a refresh of ``name`` and wait until the controller honoured it."""
    annotation = "argocd.argoproj.io/refresh"
    tetherenv.patch_app(kube, namespace, name, {"metadata": {"annotations": {annotation: "hard"}}})

    def honoured() -> bool:
        app = tetherenv.get(kube, tetherenv.Application, name, namespace)
        return annotation not in (app["metadata"].get("annotations") or {})

    await tetherenv.eventually(honoured, 30, f"the refresh of {name} honoured")


async def test_a_rolled_back_child_stays_rolled_back_while_its_self_healing_parent_resyncs(
    crds, full_namespace, tmp_path
):
    ns = full_namespace
    children = tetherenv.serve_repo(tmp_path / "children", {"child/cm.yaml": CM % "1"})
    child = tetherenv.application(
        "child", ns, children.url, "child", ns, syncPolicy={"automated": {"selfHeal": True}}
    )
    parents = tetherenv.serve_repo(
        tmp_path / "parents", {"apps/child.yaml": tetherenv.yaml_docs(child)}
    )
    kube = tetherenv.client(crds.kubeconfig)
    try:
        parent = tetherenv.application(
            "parent", ns, parents.url, "apps", ns, syncPolicy={"automated": {"selfHeal": True}}
        )
        tetherenv.create(kube, parent)
        async with tetherenv.running_controller(crds.kubeconfig, ns, tmp_path / "cache"):
            await tetherenv.eventually(lambda: tetherenv.synced_healthy(kube, ns, "child"), 60)
            children.commit({"child/cm.yaml": CM % "2"})
            await tetherenv.eventually(lambda: version(kube, ns) == "2", 60, "version 2")
            history = tetherenv.app_status(kube, ns, "child")["history"]
            first = next(h["id"] for h in history if h["revision"] == children.seed.shas["initial"])

            await asyncio.to_thread(
                tether_app, crds.kubeconfig, ns, "rollback", "child", str(first)
            )
            assert version(kube, ns) == "1"
            for _ in range(2):  # two resyncs of the parent: neither undoes the rollback
                await refreshed(kube, ns, "parent")
                await asyncio.sleep(2)
                assert "automated" not in (child_spec(kube, ns).get("syncPolicy") or {})
                assert version(kube, ns) == "1"
            parent_status = tetherenv.app_status(kube, ns, "parent")
            assert parent_status["sync"]["status"] == "Synced"

            # Syncing the child forward releases the hold: the parent turns automated back on.
            await asyncio.to_thread(tether_app, crds.kubeconfig, ns, "sync", "child")
            await tetherenv.eventually(
                lambda: "automated" in (child_spec(kube, ns).get("syncPolicy") or {}),
                60,
                "the parent restoring automated sync",
            )
            assert version(kube, ns) == "2"
    finally:
        children.server.stop()
        parents.server.stop()
        kube.close()
