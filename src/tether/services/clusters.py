"""``tether cluster``: register other clusters as Argo CD cluster Secrets, list and remove them.

``add`` does what ``argocd cluster add`` does in the target: a ServiceAccount ``argocd-manager``
in ``kube-system`` bound to a ClusterRole that may do everything, then a cluster Secret in the
control plane holding the account's token. The token is a bound one (TokenRequest) that expires
after ``token_ttl``; ``add`` again renews it. ``rm`` removes only the Secret: the account stays
in the target, as with Argo CD, so removing it is the target's owner's decision.
"""

from __future__ import annotations

import hashlib
import json
import re
import urllib.parse
from typing import Any

from tether import ports
from tether.model import clusters, secretdata
from tether.model.clusters import ClusterEntry, ClusterRegistry
from tether.model.errors import ClusterError, InvalidInputError

MANAGER_NAMESPACE = "kube-system"
MANAGER_ACCOUNT = "argocd-manager"
MANAGER_ROLE = "argocd-manager-role"
MANAGER_BINDING = "argocd-manager-role-binding"
"""Argo CD's names for what ``cluster add`` creates, so either tool finds the other's."""

DEFAULT_TOKEN_TTL_S = 365 * 24 * 3600
"""A year: long enough not to surprise, bounded so a leaked Secret stops working eventually."""


def manager_objects() -> list[dict[str, Any]]:
    """The ServiceAccount, ClusterRole and binding ``add`` applies in the target cluster."""
    everything = {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}
    return [
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": MANAGER_ACCOUNT, "namespace": MANAGER_NAMESPACE},
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": MANAGER_ROLE},
            "rules": [everything, {"nonResourceURLs": ["*"], "verbs": ["*"]}],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": MANAGER_BINDING},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": MANAGER_ROLE,
            },
            "subjects": [
                {
                    "kind": "ServiceAccount",
                    "name": MANAGER_ACCOUNT,
                    "namespace": MANAGER_NAMESPACE,
                }
            ],
        },
    ]


def secret_name(server: str) -> str:
    """``cluster-<host>-<hash>``, as Argo CD names cluster Secrets: stable per server URL."""
    host = urllib.parse.urlsplit(server).hostname or "cluster"
    slug = re.sub(r"[^a-z0-9-]+", "-", host.lower()).strip("-")[:40] or "cluster"
    digest = hashlib.sha256(server.encode()).hexdigest()[:10]
    return f"cluster-{slug}-{digest}"


def cluster_secret(
    name: str, server: str, token: str, *, ca_data: str, insecure: bool, namespace: str
) -> dict[str, Any]:
    """The cluster Secret for ``server``, in Argo CD's format."""
    tls: dict[str, Any] = {"insecure": insecure}
    if ca_data:
        tls["caData"] = ca_data
    config = {"bearerToken": token, "tlsClientConfig": tls}
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": secret_name(server),
            "namespace": namespace,
            "labels": {secretdata.SECRET_TYPE_LABEL: clusters.SECRET_TYPE},
        },
        "type": "Opaque",
        "stringData": {"name": name, "server": server, "config": json.dumps(config)},
    }


async def add(
    control: ports.Cluster,
    target: ports.Cluster,
    *,
    name: str,
    server: str,
    ca_data: str,
    insecure: bool,
    namespace: str,
    field_manager: str,
    token_ttl_s: int = DEFAULT_TOKEN_TTL_S,
) -> ClusterEntry:
    """Give tether an account in ``target`` and record it in ``control``; returns the entry.

    Raises:
        InvalidInputError: ``server`` is the cluster tether runs in, or names no URL.
        ClusterError: either cluster refused a write, or no token came back.
    """
    server = server.rstrip("/")
    if server == clusters.IN_CLUSTER_SERVER:
        raise InvalidInputError(f"{server} is the cluster tether runs in; it needs no Secret")
    for obj in manager_objects():
        await target.apply(obj, field_manager=field_manager)
    token = await target.service_account_token(
        MANAGER_NAMESPACE, MANAGER_ACCOUNT, expiration_seconds=token_ttl_s
    )
    if not token:
        raise ClusterError(f"{server} returned no token for {MANAGER_ACCOUNT}")
    secret = cluster_secret(
        name, server, token, ca_data=ca_data, insecure=insecure, namespace=namespace
    )
    entry = clusters.from_secret(secret)  # refuses what the controller would refuse
    await control.apply(secret, field_manager=field_manager)
    return entry


async def registry(control: ports.Cluster, namespace: str) -> ClusterRegistry:
    """Every cluster the control plane's Secrets name (and why any Secret is skipped)."""
    secrets, _ = await control.list("v1", "Secret", namespace)
    return ClusterRegistry.from_secrets(secrets)


async def remove(control: ports.Cluster, namespace: str, name: str) -> ClusterEntry:
    """Delete the Secret of the cluster named ``name`` (or with that server URL).

    Raises:
        InvalidInputError: no cluster Secret has that name, or it is the built-in in-cluster.
    """
    known = await registry(control, namespace)
    found = known.find(name)
    entry = next((e for e in found if e.secret), None)
    if entry is None:
        raise InvalidInputError(f"no cluster Secret in {namespace!r} names cluster {name!r}")
    secret_namespace, _, secret = entry.secret.partition("/")
    await control.delete("v1", "Secret", secret, secret_namespace)
    return entry
