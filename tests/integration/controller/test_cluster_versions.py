"""Helm renders for the destination cluster: its Kubernetes version and the APIs it serves.

A chart in a real Git repository reads ``.Capabilities``; the controller gives helm the real API
server's version and API versions, a CRD's group included once the cluster serves it.
"""

from __future__ import annotations

import contextlib
import urllib.request
import uuid

import pytest
from lightkube import ApiError
from lightkube.resources.apiextensions_v1 import CustomResourceDefinition
from lightkube.resources.core_v1 import ConfigMap

from tests.support import tetherenv

pytestmark = pytest.mark.timeout(180)

CHART = "apiVersion: v2\nname: capabilities\nversion: 0.1.0\n"

TEMPLATE = """apiVersion: v1
kind: ConfigMap
metadata: {name: capabilities}
data:
  kubeVersion: {{ .Capabilities.KubeVersion.Version | quote }}
  deployments: {{ .Capabilities.APIVersions.Has "apps/v1/Deployment" | quote }}
  widgets: {{ .Capabilities.APIVersions.Has "%(group)s/v1" | quote }}
  widgetKind: {{ .Capabilities.APIVersions.Has "%(group)s/v1/Widget" | quote }}
"""


def capabilities(kube, namespace: str) -> dict[str, str]:
    if not tetherenv.exists(kube, ConfigMap, "capabilities", namespace):
        return {}
    return dict(kube.get(ConfigMap, "capabilities", namespace=namespace).data or {})


async def test_a_chart_sees_the_clusters_version_and_a_crd_it_serves_once_installed(
    crds, full_namespace, tmp_path, kube
):
    # A group only this test's CRD provides: helm's defaults cannot know it.
    group = f"kv{uuid.uuid4().hex[:8]}.example.com"
    crd = tetherenv.crd_manifest(group, "Widget", "widgets")
    files = {"app/Chart.yaml": CHART, "app/templates/cm.yaml": TEMPLATE % {"group": group}}
    metrics = tetherenv.free_metrics_address()
    repo = tetherenv.serve_repo(tmp_path / "git", files)
    try:
        tetherenv.create(
            kube,
            tetherenv.application(
                "caps",
                full_namespace,
                repo.url,
                "app",
                full_namespace,
                # selfHeal: a new API in the cluster changes the render at the same commit.
                syncPolicy={"automated": {"selfHeal": True}},
            ),
        )
        async with tetherenv.running_controller(
            crds.kubeconfig,
            full_namespace,
            tmp_path / "cache",
            resync_s=2.0,
            metrics_address=metrics,
        ):
            before = await tetherenv.eventually(
                lambda: capabilities(kube, full_namespace), 60, "the chart's ConfigMap"
            )
            assert before == {
                "kubeVersion": tetherenv.KUBE_VERSION,
                "deployments": "true",
                "widgets": "false",
                "widgetKind": "false",
            }
            # The cluster now serves the CRD's group: the next render sees it, and syncs it.
            tetherenv.create(kube, crd)
            after = await tetherenv.eventually(
                lambda: (
                    capabilities(kube, full_namespace).get("widgetKind") == "true"
                    and capabilities(kube, full_namespace)
                ),
                60,
                "the CRD's kind in .Capabilities.APIVersions",
            )
            assert after["widgets"] == "true"
            assert after["kubeVersion"] == tetherenv.KUBE_VERSION
            # The cluster metrics carry the same version.
            with urllib.request.urlopen(f"http://{metrics}/metrics", timeout=10) as response:
                text = response.read().decode()
            label = f'k8s_version="{tetherenv.KUBE_VERSION}"'
            for family in ("argocd_cluster_info{", "argocd_cluster_connection_status{"):
                lines = [line for line in text.splitlines() if line.startswith(family)]
                assert lines and all(label in line for line in lines), lines
    finally:
        repo.server.stop()
        with contextlib.suppress(ApiError):  # not created when the test failed before
            kube.delete(CustomResourceDefinition, f"widgets.{group}")
