"""Orphaned resources: a project that monitors them gets a warning on its apps."""

from __future__ import annotations

import pytest

from tests.support import tetherenv

pytestmark = pytest.mark.timeout(150)

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: managed}\ndata: {a: '1'}\n"


async def test_an_unmanaged_object_in_the_destination_raises_an_orphaned_resource_warning(
    crds, full_namespace, tmp_path
):
    ns = full_namespace
    repo = tetherenv.serve_repo(tmp_path / "git", {"app/cm.yaml": CM})
    kube = tetherenv.client(crds.kubeconfig)
    try:
        tetherenv.create(
            kube,
            {
                "apiVersion": "argoproj.io/v1alpha1",
                "kind": "AppProject",
                "metadata": {"name": "watched", "namespace": ns},
                "spec": {
                    "sourceRepos": ["*"],
                    "destinations": [{"server": "*", "namespace": "*"}],
                    "orphanedResources": {
                        "warn": True,
                        "ignore": [{"group": "", "kind": "ConfigMap", "name": "ignored-*"}],
                    },
                },
            },
        )
        for stray in ("stray", "ignored-stray"):
            tetherenv.create(
                kube,
                {
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "metadata": {"name": stray, "namespace": ns},
                    "data": {"b": "2"},
                },
            )
        app = tetherenv.application(
            "watched", ns, repo.url, "app", ns, syncPolicy={"automated": {}}
        )
        app["spec"]["project"] = "watched"
        tetherenv.create(kube, app)

        def warned():
            conditions = tetherenv.app_status(kube, ns, "watched").get("conditions") or []
            return [c for c in conditions if c["type"] == "OrphanedResourceWarning"]

        async with tetherenv.running_controller(crds.kubeconfig, ns, tmp_path / "cache"):
            found = await tetherenv.eventually(warned, 60, "an orphaned resource warning")
        # The stray ConfigMap; the managed one, the ignored one and kube-root-ca.crt do not count.
        assert found[0]["message"] == "Application has 1 orphaned resources"
    finally:
        repo.server.stop()
        kube.close()
