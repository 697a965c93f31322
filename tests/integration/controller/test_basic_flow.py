"""The controller against the real API server and a real Git server: the basic flow."""

from __future__ import annotations

import pytest
import yaml
from lightkube.resources.core_v1 import ConfigMap

from tests.support import tetherenv

pytestmark = pytest.mark.timeout(120)

CM = """apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {color: %s}
"""
EXTRA = """apiVersion: v1
kind: ConfigMap
metadata: {name: extra}
data: {a: "1"}
"""


app_status = tetherenv.app_status


async def test_an_app_from_git_becomes_synced_and_healthy_and_follows_commits(
    crds, full_namespace, tmp_path
):
    kube = tetherenv.client(crds.kubeconfig)
    request_close = kube
    repo = tetherenv.serve_repo(
        tmp_path / "git", {"app/cm.yaml": CM % "blue", "app/extra.yaml": EXTRA}
    )
    try:
        app = tetherenv.application(
            "web",
            full_namespace,
            repo.url,
            "app",
            full_namespace,
            syncPolicy={"automated": {"prune": False}},
        )
        tetherenv.create(kube, app)
        async with tetherenv.running_controller(
            crds.kubeconfig, full_namespace, tmp_path / "cache", resync_s=2.0
        ):

            def synced_healthy():
                status = app_status(kube, full_namespace, "web")
                return (
                    status.get("sync", {}).get("status") == "Synced"
                    and status.get("health", {}).get("status") == "Healthy"
                ) and status

            status = await tetherenv.eventually(synced_healthy, 60, "Synced and Healthy")
            cm = tetherenv.get(kube, ConfigMap, "settings", full_namespace)
            assert cm["data"] == {"color": "blue"}
            # The app lives in the controller's own (control-plane) namespace: plain name.
            assert cm["metadata"]["annotations"]["argocd.argoproj.io/tracking-id"] == (
                f"web:/ConfigMap:{full_namespace}/settings"
            )
            assert status["sync"]["revision"] == repo.seed.shas["initial"]

            # A pushed commit is applied within the resync period.
            sha = repo.commit({"app/cm.yaml": CM % "green", "app/extra.yaml": None})
            await tetherenv.eventually(
                lambda: (
                    kube.get(ConfigMap, "settings", namespace=full_namespace).data
                    == {"color": "green"}
                ),
                60,
                "the new commit applied",
            )
            await tetherenv.eventually(
                lambda: app_status(kube, full_namespace, "web")["sync"].get("revision") == sha,
                30,
                "status at the new revision",
            )
            # The removed file is not pruned with prune off: it stays, and the app says so.
            assert kube.get(ConfigMap, "extra", namespace=full_namespace).data == {"a": "1"}
            status = app_status(kube, full_namespace, "web")
            extra = [r for r in status["resources"] if r["name"] == "extra"]
            assert extra and extra[0]["status"] == "OutOfSync" and extra[0]["requiresPruning"]
            assert yaml.safe_dump(status)  # the status is plain data
    finally:
        repo.server.stop()
        request_close.close()
