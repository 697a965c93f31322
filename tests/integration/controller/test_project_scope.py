"""An app reaches only what its project permits, live objects included.

Anyone who can write in some namespace can put an app's tracking on an object there. If that
namespace is beyond the app's project, the object is not the app's: it is not listed, not
pruned and not cascade-deleted (Argo CD filters live objects by project the same way).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from lightkube.resources.core_v1 import ConfigMap

from tests.support import tetherenv

pytestmark = pytest.mark.timeout(150)

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: managed}\ndata: {a: '1'}\n"
TRACKING_ID = "argocd.argoproj.io/tracking-id"


@pytest.fixture
def other_namespace(crds) -> Iterator[str]:
    with tetherenv.fresh_namespace(crds.kubeconfig, "t-beyond") as name:
        yield name


def exists(kube, name: str, namespace: str) -> bool:
    return tetherenv.exists(kube, ConfigMap, name, namespace)


def tracking_id(kube, name: str, namespace: str) -> str:
    obj = kube.get(ConfigMap, name, namespace=namespace)
    return str((obj.metadata.annotations or {}).get(TRACKING_ID, ""))


async def test_an_object_tracked_as_the_apps_beyond_its_project_is_never_pruned_or_deleted(
    crds, full_namespace, other_namespace, tmp_path
):
    ns, other = full_namespace, other_namespace
    repo = tetherenv.serve_repo(tmp_path / "git", {"app/cm.yaml": CM})
    kube = tetherenv.client(crds.kubeconfig)
    try:
        tetherenv.create(
            kube,
            {
                "apiVersion": "argoproj.io/v1alpha1",
                "kind": "AppProject",
                "metadata": {"name": "fenced", "namespace": ns},
                "spec": {
                    "sourceRepos": ["*"],
                    "destinations": [{"server": "*", "namespace": ns}],
                },
            },
        )
        app = tetherenv.application(
            "fenced", ns, repo.url, "app", ns, syncPolicy={"automated": {"prune": True}}
        )
        app["spec"]["project"] = "fenced"
        app["metadata"]["finalizers"] = ["resources-finalizer.argocd.argoproj.io"]
        tetherenv.create(kube, app)
        async with tetherenv.running_controller(crds.kubeconfig, ns, tmp_path / "cache"):
            await tetherenv.eventually(
                lambda: tetherenv.synced_healthy(kube, ns, "fenced"), 60, "Synced"
            )
            instance = tracking_id(kube, "managed", ns).split(":")[0]
            assert instance
            planted = f"{instance}:/ConfigMap:{other}/planted"
            tetherenv.create(
                kube,
                {
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "metadata": {
                        "name": "planted",
                        "namespace": other,
                        "annotations": {TRACKING_ID: planted},
                        "labels": {"app.kubernetes.io/instance": instance},
                    },
                },
            )
            tetherenv.patch_app(
                kube,
                ns,
                "fenced",
                {"metadata": {"annotations": {"argocd.argoproj.io/refresh": "hard"}}},
            )
            await asyncio.sleep(8)  # several resyncs with auto-prune on
            status = tetherenv.synced_healthy(kube, ns, "fenced")
            assert status, tetherenv.app_status(kube, ns, "fenced")
            assert [r["name"] for r in status["resources"]] == ["managed"]
            assert exists(kube, "planted", other)

            kube.delete(tetherenv.Application, "fenced", namespace=ns)
            await tetherenv.eventually(
                lambda: not exists(kube, "managed", ns), 60, "the app's own object deleted"
            )
            await asyncio.sleep(2)
            assert exists(kube, "planted", other)
    finally:
        repo.server.stop()
        kube.close()
