"""Which cluster an Application deploys to, and what that cluster's Secret lets tether manage.

Argo CD's rules: a destination names its cluster by ``server`` or by ``name``, never both; a
name two clusters share is ambiguous; a cluster Secret's ``namespaces`` and
``clusterResources`` bound what may be managed there, whatever the project permits.
"""

from __future__ import annotations

from tether.model.app_spec import ApplicationDestination
from tether.model.clusters import ClusterEntry, ClusterRegistry
from tether.model.errors import InvalidInputError
from tether.model.resources import ResourceKey


def resolve(destination: ApplicationDestination, clusters: ClusterRegistry) -> ClusterEntry:
    """The cluster a destination names.

    Neither field set means the cluster tether runs in (Argo CD refuses it; tether always
    accepted it, and apps written for tether rely on that).

    Raises:
        InvalidInputError: both fields set, or a name or server no cluster has, or a name
            several clusters share; the message names the field and its value.
    """
    server, name = destination.server or "", destination.name or ""
    if server and name:
        raise InvalidInputError(
            f"spec.destination sets both name {name!r} and server {server!r}; set only one"
        )
    if server:
        entry = clusters.by_server(server)
        if entry is None:
            raise InvalidInputError(f"spec.destination.server {server!r} is no known cluster")
        return entry
    if name:
        found = clusters.by_name(name)
        if not found:
            raise InvalidInputError(f"spec.destination.name {name!r} is no known cluster")
        if len(found) > 1:
            servers = ", ".join(repr(e.server) for e in found)
            raise InvalidInputError(
                f"spec.destination.name {name!r} names {len(found)} clusters ({servers})"
            )
        return found[0]
    return clusters.in_cluster


def limit_problem(cluster: ClusterEntry, key: ResourceKey) -> str:
    """Why the cluster's Secret keeps tether from managing ``key``, or ``""``.

    A key with an empty namespace is cluster-scoped.
    """
    if key.namespace and not cluster.manages_namespace(key.namespace):
        return (
            f"namespace {key.namespace!r} is not among the namespaces of cluster {cluster.name!r}"
        )
    if not key.namespace and not cluster.manages_cluster_scoped:
        return (
            f"cluster {cluster.name!r} manages no cluster-scoped resources "
            "(its Secret sets namespaces without clusterResources)"
        )
    return ""
