"""tether's own install (``deploy/install``) as tests use it: rendered by the real kustomize,
moved into a namespace of the test's, applied server-side, and a kubeconfig that holds nothing
but a token of one of its ServiceAccounts."""

from __future__ import annotations

import base64
import os
import shutil
import ssl
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx2
import pytest
import yaml

from tether.adapters.devcluster import tools
from tether.adapters.kube import incluster
from tether.adapters.kube.client import KubeClient
from tether.adapters.kube.transport import json_body

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


def moved(base: str, namespace: str) -> str:
    """The kustomization an operator writes to install ``base`` (a path) into ``namespace``.

    kustomize's NamespaceTransformer moves the objects and, with ``setRoleBindingSubjects``, the
    bindings' subjects; the in-cluster Secret of the namespaced variant names the namespace as
    data, so a patch moves it.
    """
    transformer = {
        "apiVersion": "builtin",
        "kind": "NamespaceTransformer",
        "metadata": {"name": "move", "namespace": namespace},
        "setRoleBindingSubjects": "allServiceAccounts",
        "unsetOnly": False,
    }
    secret_patch = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "cluster-in-cluster", "namespace": INSTALL_NAMESPACE},
        "stringData": {"namespaces": namespace},
    }
    kustomization: dict[str, Any] = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": [base],
        "transformers": [yaml.safe_dump(transformer)],
    }
    if base.rstrip("/").endswith("namespaced"):
        kustomization["patches"] = [{"patch": yaml.safe_dump(secret_patch)}]
    return yaml.safe_dump(kustomization, sort_keys=False)


def render(overlay: str, namespace: str, work: Path) -> list[dict[str, Any]]:
    """The objects of ``deploy/install/<overlay>``, installed into ``namespace`` instead."""
    shutil.copytree(DEPLOY, work / "deploy")
    top = work / "moved"
    top.mkdir()
    (top / "kustomization.yaml").write_text(moved(f"../deploy/install/{overlay}", namespace))
    return build(top)


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


# --- a Pod's service account, laid out in a folder (tether's in-cluster configuration) --------


async def bound_token(client: KubeClient, namespace: str, account: str, holder: str) -> str:
    """A token of ``account`` bound to a new Secret ``holder``: deleting the Secret revokes
    it, as a Pod's token stops working when its Pod goes."""
    secret = await client.create(
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": holder, "namespace": namespace}}
    )
    body = {
        "apiVersion": "authentication.k8s.io/v1",
        "kind": "TokenRequest",
        "spec": {
            "expirationSeconds": 3600,
            "boundObjectRef": {
                "apiVersion": "v1",
                "kind": "Secret",
                "name": holder,
                "uid": secret["metadata"]["uid"],
            },
        },
    }
    response = await client.transport.request(
        "create",
        "POST",
        f"/api/v1/namespaces/{namespace}/serviceaccounts/{account}/token",
        what="TokenRequest",
        content=json_body(body),
    )
    return str(response.json()["status"]["token"])


def pod_account_dir(admin_kubeconfig: Path, directory: Path, namespace: str) -> Path:
    """The kubelet's service-account folder for a Pod of ``namespace`` (its CA, its namespace;
    the token comes with :func:`write_token`)."""
    config = yaml.safe_load(admin_kubeconfig.read_text())
    ca = base64.b64decode(config["clusters"][0]["cluster"]["certificate-authority-data"])
    account = directory / "serviceaccount"
    account.mkdir(parents=True)
    (account / "ca.crt").write_bytes(ca)
    (account / "namespace").write_text(namespace)
    return account


def write_token(account: Path, token: str) -> None:
    """Replace the token file at once, as the kubelet does (never a half-written file)."""
    fresh = account / ".token.new"
    fresh.write_text(token)
    os.replace(fresh, account / "token")


def act_as_pod(monkeypatch: pytest.MonkeyPatch, account: Path, server: str, home: Path) -> None:
    """This process seen as a Pod: no kubeconfig, the kubelet's variables, ``account`` as its
    service-account folder, the API server at ``server`` (127.0.0.1)."""
    monkeypatch.setattr(incluster, "SERVICE_ACCOUNT_DIR", account)
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv(incluster.HOST_ENV, "127.0.0.1")
    monkeypatch.setenv(incluster.PORT_ENV, server.rsplit(":", 1)[1])


async def refused(server: str, ca: Path, token: str) -> bool:
    """Whether the API server now refuses ``token`` (401)."""
    verify = ssl.create_default_context(cafile=str(ca))
    async with httpx2.AsyncClient(base_url=server, verify=verify) as http:
        response = await http.get("/api", headers={"Authorization": f"Bearer {token}"})
        return response.status_code == 401
