"""In-cluster configuration against the real API server: a Pod's service-account directory, laid
out in a temporary folder, with tokens from the TokenRequest API that are rotated and revoked."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

from tests.support import install
from tether import bootstrap
from tether.adapters.kube import incluster
from tether.adapters.kube.client import KubeClient
from tether.model.errors import ClusterError

ACCOUNT = "tether-controller"


async def make_account(client: KubeClient, namespace: str) -> None:
    """A ServiceAccount allowed to read and write ConfigMaps in ``namespace`` only."""
    await client.create(
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": ACCOUNT, "namespace": namespace},
        }
    )
    rbac = "rbac.authorization.k8s.io/v1"
    meta = {"name": "configmaps", "namespace": namespace}
    await client.create(
        {
            "apiVersion": rbac,
            "kind": "Role",
            "metadata": meta,
            "rules": [
                {
                    "apiGroups": [""],
                    "resources": ["configmaps"],
                    "verbs": ["get", "list", "watch", "create"],
                }
            ],
        }
    )
    await client.create(
        {
            "apiVersion": rbac,
            "kind": "RoleBinding",
            "metadata": meta,
            "roleRef": {"apiGroup": rbac.split("/")[0], "kind": "Role", "name": "configmaps"},
            "subjects": [{"kind": "ServiceAccount", "name": ACCOUNT, "namespace": namespace}],
        }
    )


@pytest.fixture
def in_a_pod(
    kube_cluster: bootstrap.DevCluster,
    namespace: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Path:
    """This process seen as a Pod of ``namespace``; its service-account folder."""
    account = install.pod_account_dir(kube_cluster.kubeconfig, tmp_path, namespace)
    install.act_as_pod(monkeypatch, account, kube_cluster.server, tmp_path / "home")
    return account


async def bound_token(client: KubeClient, namespace: str, holder: str) -> str:
    return await install.bound_token(client, namespace, ACCOUNT, holder)


write_token = install.write_token


refused = install.refused


async def test_without_a_kubeconfig_a_pod_reaches_the_api_with_its_service_account(
    kube_cluster: bootstrap.DevCluster, client: KubeClient, namespace: str, in_a_pod: Path
) -> None:
    await make_account(client, namespace)
    write_token(in_a_pod, await bound_token(client, namespace, "holder-1"))
    async with KubeClient.from_kubeconfig(None) as pod:
        assert pod.transport.namespace == namespace
        await pod.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "hi"}})
        items, _ = await pod.list("v1", "ConfigMap", namespace)
        assert "hi" in {item["metadata"]["name"] for item in items}
        # Only what its Role allows: the account is who the API server sees.
        with pytest.raises(ClusterError, match=r"(?i)forbidden"):
            await pod.list("v1", "Secret", namespace)


async def test_a_rotated_token_is_read_again_after_the_old_one_is_revoked(
    kube_cluster: bootstrap.DevCluster, client: KubeClient, namespace: str, in_a_pod: Path
) -> None:
    await make_account(client, namespace)
    first = await bound_token(client, namespace, "holder-1")
    write_token(in_a_pod, first)
    async with KubeClient.from_kubeconfig(None) as pod:
        await pod.list("v1", "ConfigMap", namespace)
        write_token(in_a_pod, await bound_token(client, namespace, "holder-2"))
        await client.delete("v1", "Secret", "holder-1", namespace, propagation="Background")
        deadline = time.monotonic() + 30
        while not await refused(kube_cluster.server, in_a_pod / "ca.crt", first):
            assert time.monotonic() < deadline, "the old token was never revoked"
            await asyncio.sleep(0.2)
        # The same client, its connections open: the next requests carry the new token.
        items, _ = await pod.list("v1", "ConfigMap", namespace)
        assert isinstance(items, list)
        watch = pod.watch("v1", "ConfigMap", namespace)
        await pod.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "after"}})
        seen: list[Any] = []
        async for _, obj in watch:
            seen.append(obj["metadata"]["name"])
            if "after" in seen:
                break
        await watch.aclose()


def test_a_token_file_is_read_again_when_it_changes_and_kept_when_it_cannot_be_read(
    tmp_path: Path,
) -> None:
    token = tmp_path / "token"
    token.write_text("one\n")
    auth = incluster.TokenFileAuth(token)
    assert auth.bearer() == "Bearer one"
    assert auth.bearer() == "Bearer one" and auth.reads == 1  # unchanged: not read again
    write_token(tmp_path, "two")
    assert auth.bearer() == "Bearer two"
    token.unlink()
    assert auth.bearer() == "Bearer two"


def test_in_a_pod_without_its_token_the_error_says_what_is_missing(
    in_a_pod: Path,
) -> None:
    with pytest.raises(ClusterError, match="automountServiceAccountToken"):
        incluster.load()


def test_outside_a_pod_with_nothing_to_connect_with_the_error_lists_what_was_tried(
    in_a_pod: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(incluster.HOST_ENV)
    with pytest.raises(ClusterError, match=r"no --kubeconfig.*KUBERNETES_SERVICE_HOST"):
        incluster.load()
