"""`tether run --repo-server` and `tether repo-server` as an operator starts them, side by side."""

from __future__ import annotations

import pytest
from lightkube.resources.core_v1 import ConfigMap

from tests.support import reposerver, tetherenv

pytestmark = pytest.mark.timeout(150)

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: e2e-settings}\ndata: {a: '1'}\n"


async def test_two_processes_one_holding_the_cluster_one_rendering_sync_an_app(
    kube_cluster, namespace, tmp_path
):
    tetherenv.install_crds(kube_cluster.kubeconfig)
    repo = tetherenv.serve_repo(tmp_path / "git", {"app/cm.yaml": CM})
    server = reposerver.repo_server(tmp_path / "repo-server")
    kube = tetherenv.client(kube_cluster.kubeconfig)
    controller = tetherenv.start_controller_process(
        kube_cluster.kubeconfig,
        namespace,
        tmp_path / "cache",
        tmp_path / "controller.log",
        resync_s=5,
        extra_args=(
            "--repo-server",
            server.url,
            "--repo-server-token-file",
            str(server.token_file),
        ),
    )
    try:
        tetherenv.create(
            kube,
            tetherenv.application(
                "e2e-split", namespace, repo.url, "app", namespace, syncPolicy={"automated": {}}
            ),
        )
        await tetherenv.eventually(
            lambda: tetherenv.synced_healthy(kube, namespace, "e2e-split"), 90, "Synced/Healthy"
        )
        assert tetherenv.get(kube, ConfigMap, "e2e-settings", namespace)["data"] == {"a": "1"}
        assert '"POST /v1/render HTTP/1.1" 200' in server.output()
        assert not (tmp_path / "cache" / "git").exists()
    finally:
        controller.stop()
        server.stop()
        repo.server.stop()
        kube.close()
    for name, text in {"controller": controller.log(), "repo-server": server.output()}.items():
        assert server.token not in text, f"the token shows in the {name}'s log"
