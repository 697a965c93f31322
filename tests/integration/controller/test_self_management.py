"""tether's own install as an Application that tether reconciles: ``deploy/install`` served from
a Git server on loopback, with the overlay an operator would write to install it elsewhere."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from lightkube.resources.apps_v1 import Deployment

from tests.support import install, tetherenv
from tether import bootstrap

pytestmark = pytest.mark.timeout(300)


def repo_files(namespace: str) -> dict[str, str]:
    """The repository's files: a copy of ``deploy/`` and the overlay in ``self/``."""
    files = {
        str(path.relative_to(install.REPO)): path.read_text()
        for path in sorted((install.DEPLOY).rglob("*"))
        if path.is_file() and not path.is_symlink() and "chart" not in path.parts
    }
    files["self/kustomization.yaml"] = install.moved("../deploy/install", namespace)
    return files


@pytest.fixture
async def control(full_cluster: bootstrap.DevCluster) -> AsyncIterator[str]:
    with tetherenv.fresh_namespace(full_cluster.kubeconfig, "tether-self") as name:
        yield name


async def test_tethers_own_install_is_an_application_tether_syncs(
    crds: bootstrap.DevCluster, control: str, tmp_path: Path
) -> None:
    full_cluster = crds  # the CRDs installed first, as `tether install-crds` does
    repo = tetherenv.serve_repo(tmp_path / "git", repo_files(control))
    kube = tetherenv.client(full_cluster.kubeconfig)
    try:
        app = tetherenv.application(
            "tether",
            control,
            repo.url,
            "self",
            control,
            syncPolicy={
                "automated": {"prune": False, "selfHeal": True},
                "syncOptions": ["ServerSideApply=true"],
            },
        )
        tetherenv.create(kube, app)
        async with tetherenv.running_controller(
            full_cluster.kubeconfig, control, tmp_path / "cache"
        ):

            def synced() -> dict[str, Any] | None:
                status = tetherenv.app_status(kube, control, "tether")
                return status if status.get("sync", {}).get("status") == "Synced" else None

            status = await tetherenv.eventually(synced, 180, "tether's install Synced")
            listed = kube.list(Deployment, namespace=control)
            deployments = {d.metadata.name for d in listed if d.metadata is not None}
            assert deployments == {"tether-controller", "tether-repo-server", "tether-server"}
            kinds = {r["kind"] for r in status["resources"]}
            assert {"CustomResourceDefinition", "NetworkPolicy", "Role"} <= kinds
            # The full tier's kwok nodes "run" the Pods (no image is pulled, no volume
            # mounted), so the Deployments become available and the app Healthy.
            await tetherenv.eventually(
                lambda: tetherenv.synced_healthy(kube, control, "tether"), 120, "Healthy"
            )
    finally:
        repo.server.stop()
        kube.close()
