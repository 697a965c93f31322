"""The cluster cache of an account confined to one namespace (the namespaced install): what it
may not list across the cluster it watches in its namespace, against a real kube-apiserver."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.support import install
from tether import bootstrap
from tether.adapters.kube.cache import ClusterCache
from tether.adapters.kube.client import KubeClient
from tether.model.resources import GroupKind

pytestmark = pytest.mark.timeout(60)

CONFIGMAP = GroupKind("", "ConfigMap")
NAMESPACE_KIND = GroupKind("", "Namespace")


async def confined_kubeconfig(
    kube_cluster: bootstrap.DevCluster, client: KubeClient, namespace: str, tmp: Path
) -> Path:
    """A kubeconfig for an account that may read ConfigMaps in ``namespace`` and nothing else."""
    rbac = "rbac.authorization.k8s.io/v1"
    meta = {"name": "reader", "namespace": namespace}
    await client.create({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta})
    await client.create(
        {
            "apiVersion": rbac,
            "kind": "Role",
            "metadata": meta,
            "rules": [
                {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list", "watch"]}
            ],
        }
    )
    await client.create(
        {
            "apiVersion": rbac,
            "kind": "RoleBinding",
            "metadata": meta,
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "reader"},
            "subjects": [{"kind": "ServiceAccount", "name": "reader", "namespace": namespace}],
        }
    )
    token = await client.service_account_token(namespace, "reader", expiration_seconds=3600)
    return install.token_kubeconfig(kube_cluster.kubeconfig, token, tmp / "reader.kubeconfig")


@pytest.mark.parametrize("fallback", [True, False])
async def test_a_type_forbidden_cluster_wide_is_watched_in_the_fallback_namespace(
    kube_cluster: bootstrap.DevCluster,
    client: KubeClient,
    namespace: str,
    tmp_path: Path,
    fallback: bool,
) -> None:
    kubeconfig = await confined_kubeconfig(kube_cluster, client, namespace, tmp_path)
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "here"}, "data": {}}
    await client.create({**cm, "metadata": {"name": "here", "namespace": namespace}})
    async with KubeClient.from_kubeconfig(kubeconfig) as confined:
        cache = ClusterCache(confined, fallback_namespace=namespace if fallback else "")
        await cache.start()
        try:
            await cache.wait_synced(30)
            names = {key.name for key in cache.keys_of(CONFIGMAP)}
            assert names == ({"here"} if fallback else set())
            # Cluster-scoped types it may not list are simply not watched.
            assert NAMESPACE_KIND not in cache.watched()
            if fallback:  # and the namespaced watch follows changes
                later = {**cm, "metadata": {"name": "later", "namespace": namespace}}
                await client.create(later)
                for _ in range(100):
                    if "later" in {key.name for key in cache.keys_of(CONFIGMAP)}:
                        break
                    await asyncio.sleep(0.05)
                assert "later" in {key.name for key in cache.keys_of(CONFIGMAP)}
        finally:
            await cache.stop()
