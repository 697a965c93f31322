"""``ports.LiveState`` over the watch-fed cluster cache and the discovery catalog: no requests."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from tether import ports
from tether.adapters.kube.cache import ClusterCache
from tether.adapters.kube.client import KubeClient
from tether.core.cluster.cachepolicy import Change
from tether.core.cluster.versions import ClusterVersions
from tether.model.resources import GroupKind, ResourceKey


class CacheLiveState:
    """What the controller reads about the cluster, answered from memory."""

    def __init__(self, cache: ClusterCache, client: KubeClient) -> None:
        self._cache = cache
        self._client = client

    def stats(self) -> ports.CacheStats:
        """Objects held, types watched and failing, when the first full list ended."""
        return ports.CacheStats(
            objects=len(self._cache),
            api_resources=len(self._cache.watched()),
            failing=len(self._cache.unsynced()) if self._cache.synced else 0,
            synced_at=self._cache.synced_at,
        )

    def manifest(self, key: ResourceKey) -> Mapping[str, Any] | None:
        """The full live object, when the cache keeps it."""
        return self._cache.manifest(key)

    def exists(self, key: ResourceKey) -> bool:
        """Whether the cache holds the object, in full or slim."""
        return self._cache.get(key) is not None

    def managed_by(self, app_instance: str) -> Sequence[ResourceKey]:
        """Keys of the root objects tracked by ``app_instance``."""
        return [record.key for record in self._cache.managed_by(app_instance)]

    def is_namespaced(self, group_kind: GroupKind) -> bool | None:
        """Whether a kind is namespaced, per the last discovery; ``None`` when unknown."""
        found = self._client.discovery.catalog.preferred.get(group_kind)
        return None if found is None else found.namespaced

    def preferred_version(self, group_kind: GroupKind) -> str | None:
        """The preferred ``apiVersion`` of a kind, or ``None`` when the server lacks it."""
        found = self._client.discovery.catalog.preferred.get(group_kind)
        return None if found is None else found.api_version

    def served_kinds(self) -> frozenset[GroupKind]:
        """Every kind the API server serves, per the last discovery."""
        return frozenset(self._client.discovery.catalog.preferred)

    def versions(self) -> ClusterVersions:
        """The server's version and API versions, per the last discovery."""
        return self._client.discovery.catalog.versions

    def namespace_outline(self, namespace: str) -> Sequence[tuple[Mapping[str, Any], str]]:
        """Identity, UID, owners and tracking app of every cached object in ``namespace``."""
        return [
            (
                {
                    "apiVersion": record.api_version,
                    "kind": record.key.kind,
                    "metadata": {
                        "name": record.key.name,
                        "namespace": record.key.namespace,
                        "uid": record.uid,
                        "ownerReferences": [
                            {
                                "apiVersion": o.apiVersion,
                                "kind": o.kind,
                                "name": o.name,
                                "uid": o.uid,
                            }
                            for o in record.owners
                        ],
                    },
                },
                record.app,
            )
            for record in self._cache.records_in(namespace)
        ]

    def keys_of(self, group_kind: GroupKind) -> set[ResourceKey]:
        """Every cached object of one kind."""
        return self._cache.keys_of(group_kind)

    def subscribe(self, subscriber: Callable[[Change], None]) -> Callable[[], None]:
        """Hear every real change; returns the unsubscribe function."""
        return self._cache.subscribe(subscriber)

    async def wait_synced(self, timeout: float | None = None) -> None:
        """Wait for the cache's initial list of every watched type."""
        await self._cache.wait_synced(timeout)
