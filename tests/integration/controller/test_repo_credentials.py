"""Repository credentials come from Argo CD-format Secrets and never show up anywhere else."""

from __future__ import annotations

import json

import pytest
from lightkube.resources.core_v1 import ConfigMap

from tests.support import gitservers, tetherenv

pytestmark = pytest.mark.timeout(120)

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: private-settings}\ndata: {a: '1'}\n"


async def test_a_private_repository_syncs_with_credentials_from_a_repository_secret(
    crds, full_namespace, tmp_path
):
    work = tmp_path / "work"
    work.mkdir()
    gitservers.git("init", "--quiet", "-b", "main", str(work))
    seed = gitservers.SeedRepo(work)
    seed.commit("c1", {"app/cm.yaml": CM})
    server = gitservers.HttpGitServer(tmp_path / "served", tmp_path / "http")
    seed.publish(tmp_path / "served" / "private" / "apps.git")
    server.start()
    url = server.url("private/apps.git")
    kube = tetherenv.client(crds.kubeconfig)
    try:
        tetherenv.create(
            kube,
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {
                    "name": "private-repo",
                    "namespace": full_namespace,
                    "labels": {"argocd.argoproj.io/secret-type": "repository"},
                },
                "stringData": {
                    "type": "git",
                    "url": url,
                    "username": server.username,
                    "password": server.password,
                },
            },
        )
        tetherenv.create(
            kube,
            tetherenv.application(
                "private",
                full_namespace,
                url,
                "app",
                full_namespace,
                syncPolicy={"automated": {}},
            ),
        )
        async with tetherenv.running_controller(
            crds.kubeconfig, full_namespace, tmp_path / "cache"
        ):
            await tetherenv.eventually(
                lambda: (
                    tetherenv.app_status(kube, full_namespace, "private")
                    .get("sync", {})
                    .get("status")
                    == "Synced"
                ),
                60,
                "the private app Synced",
            )
        cm = tetherenv.get(kube, ConfigMap, "private-settings", full_namespace)
        assert cm["data"] == {"a": "1"}
        stored = json.dumps(tetherenv.get(kube, tetherenv.Application, "private", full_namespace))
        assert server.password not in stored
        assert server.password not in "".join(
            p.read_text(errors="replace")
            for p in (tmp_path / "cache").rglob("*")
            if p.is_file() and p.stat().st_size < 1_000_000
        )
    finally:
        server.stop()
        kube.close()
