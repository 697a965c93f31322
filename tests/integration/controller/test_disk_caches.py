"""The controller keeps what renders leave on disk within its settings while apps move on."""

from __future__ import annotations

import datetime
import os

import pytest

from tests.support import tetherenv

pytestmark = pytest.mark.timeout(180)

CONFIG = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {version: '%d'}\n"


async def test_idle_trees_beyond_the_limit_are_pruned_while_the_app_follows_new_commits(
    crds, full_namespace, tmp_path
):
    namespace = full_namespace
    repo = tetherenv.serve_repo(tmp_path / "git", {"app/cm.yaml": CONFIG % 1})
    kube = tetherenv.client(crds.kubeconfig)
    trees = tmp_path / "cache" / "git" / "trees"
    try:
        tetherenv.create(
            kube,
            tetherenv.application(
                "moving", namespace, repo.url, "app", namespace, syncPolicy={"automated": {}}
            ),
        )
        async with tetherenv.running_controller(
            crds.kubeconfig,
            namespace,
            tmp_path / "cache",
            git_trees_kept=1,
            disk_cache_idle=datetime.timedelta(seconds=1),
            disk_prune_period=datetime.timedelta(seconds=0.3),
        ):
            for version in (2, 3, 4):
                sha = repo.commit({"app/cm.yaml": CONFIG % version})

                def at_commit(sha: str = sha) -> bool:
                    status = tetherenv.synced_healthy(kube, namespace, "moving")
                    return status is not None and status["sync"]["revision"] == sha

                await tetherenv.eventually(at_commit, 60, f"synced at version {version}")

            def only_the_newest_tree() -> list[str]:
                kept = [name for name in os.listdir(trees) if not name.startswith(".")]
                return kept if len(kept) == 1 else []

            kept = await tetherenv.eventually(only_the_newest_tree, 30, "older trees pruned")
            assert kept[0].endswith(sha)
            assert tetherenv.synced_healthy(kube, namespace, "moving")
    finally:
        repo.server.stop()
        kube.close()
