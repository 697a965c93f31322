"""Cluster Secrets: ``tether cluster`` registers, lists and removes them; the API edits them.

``add`` does what ``argocd cluster add`` does in the target: a ServiceAccount ``argocd-manager``
in ``kube-system`` bound to a ClusterRole that may do everything, then a cluster Secret in the
control plane holding the account's token. The token is a bound one (TokenRequest) that expires
after ``token_ttl``; ``add`` again renews it. ``rm`` removes only the Secret: the account stays
in the target, as with Argo CD, so removing it is the target's owner's decision.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import re
import urllib.parse
from collections.abc import Collection, Mapping
from typing import Any

from tether import ports
from tether.model import clusters, secretdata
from tether.model.clusters import ClusterEntry, ClusterRegistry
from tether.model.errors import ClusterError, InvalidInputError
from tether.model.resources import metadata_of

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


@dataclasses.dataclass(frozen=True)
class StoredCluster:
    """One cluster as the API shows it: its entry and, unless built in, its Secret's fields."""

    entry: ClusterEntry
    secret: Mapping[str, Any] | None = None
    fields: Mapping[str, str] = dataclasses.field(default_factory=dict)

    @property
    def project(self) -> str:
        """The AppProject the cluster is scoped to (``""``: every project)."""
        return self.fields.get("project", "")

    @property
    def labels(self) -> dict[str, str]:
        """The Secret's labels, less the one that makes it a cluster Secret."""
        labels = dict(metadata_of(self.secret or {}).get("labels") or {})
        labels.pop(secretdata.SECRET_TYPE_LABEL, None)
        return labels

    @property
    def annotations(self) -> dict[str, str]:
        """The Secret's annotations."""
        return dict(metadata_of(self.secret or {}).get("annotations") or {})


async def stored(control: ports.Cluster, namespace: str) -> list[StoredCluster]:
    """Every cluster: the readable cluster Secrets, and the built-in in-cluster entry."""
    secrets, _ = await control.list("v1", "Secret", namespace)
    found: dict[str, StoredCluster] = {}
    for secret in secrets:
        if not clusters.is_cluster_secret(secret):
            continue
        try:
            entry = clusters.from_secret(secret)
            fields = secretdata.fields_of(secret, "cluster")
        except InvalidInputError:
            continue  # the controller skips it too, naming it in its log
        found.setdefault(entry.server, StoredCluster(entry, secret, fields))
    built_in = found.pop(clusters.IN_CLUSTER_SERVER, StoredCluster(clusters.IN_CLUSTER))
    return [built_in, *sorted(found.values(), key=lambda c: c.entry.server)]


def secret_from(
    fields: Mapping[str, str],
    namespace: str,
    *,
    labels: Mapping[str, str],
    annotations: Mapping[str, str],
    exec_commands: Collection[str],
) -> dict[str, Any]:
    """The cluster Secret holding ``fields`` (Argo CD's keys; empty ones left out).

    Raises:
        InvalidInputError: what the controller would refuse, or a credential plugin whose command
            no administrator allowed; the message names the field, never a value.
    """
    server = fields.get("server", "").strip().rstrip("/")
    data = {k: base64.b64encode(v.encode()).decode() for k, v in sorted(fields.items()) if v}
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": secret_name(server),
            "namespace": namespace,
            "labels": {**labels, secretdata.SECRET_TYPE_LABEL: clusters.SECRET_TYPE},
            "annotations": dict(annotations),
        },
        "type": "Opaque",
        "data": data,
    }
    registry = ClusterRegistry.from_secrets([secret], exec_commands=exec_commands)
    if registry.problems:
        raise InvalidInputError(registry.problems[0])
    return secret


async def write(
    control: ports.Cluster,
    secret: Mapping[str, Any],
    existing: StoredCluster | None,
    *,
    field_manager: str,
) -> StoredCluster:
    """Create the cluster Secret, or replace the content of ``existing``'s."""
    if existing is None or existing.secret is None:
        written = await control.create(secret, field_manager=field_manager)
    else:
        kept = metadata_of(existing.secret)
        meta = dict(secret["metadata"])
        meta.update(name=kept.get("name"), resourceVersion=kept.get("resourceVersion"))
        written = await control.update({**secret, "metadata": meta}, field_manager=field_manager)
    return StoredCluster(
        clusters.from_secret(written), written, secretdata.fields_of(written, "cluster")
    )
