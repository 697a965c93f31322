"""tether's own install (``deploy/install``) as tests use it: rendered by the real kustomize,
moved into a namespace of the test's, applied server-side, and a kubeconfig that holds nothing
but a token of one of its ServiceAccounts."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from tether.adapters.devcluster import tools
from tether.adapters.kube.client import KubeClient

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
INSTALL_NAMESPACE = "tether"
"""The namespace the shipped manifests install into."""


def build(path: Path) -> list[dict[str, Any]]:
    """``kustomize build path``, as objects."""
    out = subprocess.run(
        [tools.path_of("kustomize"), "build", str(path)],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc]


def render(overlay: str, namespace: str, work: Path) -> list[dict[str, Any]]:
    """The objects of ``deploy/install/<overlay>``, installed into ``namespace`` instead.

    kustomize's own ``namespace:`` moves the namespaced objects and the Namespace; the
    bindings' subjects and the in-cluster Secret's ``namespaces`` name the namespace as data,
    so they are moved here, as an operator would patch them.
    """
    copy = work / "deploy"
    shutil.copytree(DEPLOY, copy)
    top = work / "moved"
    top.mkdir()
    (top / "kustomization.yaml").write_text(
        yaml.safe_dump({"resources": [f"../deploy/install/{overlay}"], "namespace": namespace})
    )
    objects = build(top)
    for obj in objects:
        for subject in obj.get("subjects") or []:
            if subject.get("namespace") == INSTALL_NAMESPACE:
                subject["namespace"] = namespace
        data = obj.get("stringData") or {}
        if data.get("namespaces") == INSTALL_NAMESPACE:
            data["namespaces"] = namespace
    return objects


async def apply(client: KubeClient, objects: Sequence[dict[str, Any]]) -> None:
    """Server-side apply each object, in kustomize's order (Namespace and CRDs first)."""
    for obj in objects:
        await client.apply(obj, field_manager="install-test", force=True)


def token_kubeconfig(admin_kubeconfig: Path, token: str, path: Path) -> Path:
    """A kubeconfig for the same API server whose only credential is ``token``."""
    admin = yaml.safe_load(admin_kubeconfig.read_text())
    cluster = admin["clusters"][0]["cluster"]
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": "sa",
        "clusters": [
            {
                "name": "sa",
                "cluster": {
                    "server": cluster["server"],
                    "certificate-authority-data": cluster["certificate-authority-data"],
                },
            }
        ],
        "users": [{"name": "sa", "user": {"token": token}}],
        "contexts": [{"name": "sa", "context": {"cluster": "sa", "user": "sa"}}],
    }
    path.write_text(yaml.safe_dump(config))
    path.chmod(0o600)
    return path
