"""RespectIgnoreDifferences: a sync never reverts the fields an app ignores."""

from __future__ import annotations

import pytest
from lightkube.resources.core_v1 import ConfigMap
from lightkube.types import PatchType

from tests.support import tetherenv

pytestmark = pytest.mark.timeout(150)

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: tuned}\ndata: {color: blue, size: '%s'}\n"


@pytest.mark.parametrize("respect", [True, False])
async def test_a_sync_keeps_an_ignored_field_only_with_respect_ignore_differences(
    crds, full_namespace, tmp_path, respect
):
    repo = tetherenv.serve_repo(tmp_path / "git", {"app/cm.yaml": CM % "1"})
    kube = tetherenv.client(crds.kubeconfig)
    ns = full_namespace
    try:
        tetherenv.create(
            kube,
            tetherenv.application(
                "tuned",
                ns,
                repo.url,
                "app",
                ns,
                ignoreDifferences=[{"kind": "ConfigMap", "jsonPointers": ["/data/color"]}],
                syncPolicy={"syncOptions": ["RespectIgnoreDifferences=true"] if respect else []},
            ),
        )
        async with tetherenv.running_controller(crds.kubeconfig, ns, tmp_path / "cache"):
            tetherenv.start_sync(kube, ns, "tuned")
            await tetherenv.eventually(
                lambda: tetherenv.sync_status(kube, ns, "tuned") == "Synced",
                60,
                "first sync",
            )
            # Someone (an operator, an autoscaler) changes the ignored field by hand.
            kube.patch(
                ConfigMap,
                "tuned",
                {"data": {"color": "red"}},
                namespace=ns,
                patch_type=PatchType.MERGE,
            )
            repo.commit({"app/cm.yaml": CM % "2"})
            tetherenv.start_sync(kube, ns, "tuned")
            await tetherenv.eventually(
                lambda: tetherenv.get(kube, ConfigMap, "tuned", ns)["data"]["size"] == "2",
                60,
                "the second sync applied",
            )
            data = tetherenv.get(kube, ConfigMap, "tuned", ns)["data"]
            assert data["color"] == ("red" if respect else "blue")
    finally:
        repo.server.stop()
        kube.close()
