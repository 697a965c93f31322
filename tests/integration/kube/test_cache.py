"""The reflector and the cluster cache against a real kube-apiserver."""

from __future__ import annotations

import asyncio
import base64
import gc
import uuid
from collections.abc import Callable
from typing import Any

import httpx2
import pytest

from tests.support import tetherenv
from tether import bootstrap, ports
from tether.adapters.kube.cache import ClusterCache
from tether.adapters.kube.client import KubeClient
from tether.adapters.kube.discovery import ApiResource
from tether.adapters.kube.index import Index
from tether.adapters.kube.reflector import Reflector, SlimObject, cancel
from tether.core.cluster import cachepolicy, reflection
from tether.model.resources import GroupKind, ResourceKey

pytestmark = pytest.mark.timeout(60)

TRACKING = "argocd.argoproj.io/tracking-id"


async def eventually(condition: Callable[[], bool], timeout: float = 15.0) -> None:
    async def poll() -> None:
        while not condition():
            await asyncio.sleep(0.02)

    await asyncio.wait_for(poll(), timeout)


def tracked_configmap(
    namespace: str, name: str, app: str = "guestbook", **data: str
) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "annotations": {TRACKING: f"{app}:/ConfigMap:{namespace}/{name}"},
        },
        "data": data or {"k": "v"},
    }


def changes_of(changes: list[cachepolicy.Change], key: ResourceKey) -> list[str]:
    return [c.event for c in changes if c.key == key]


async def test_a_configmap_applied_server_side_arrives_through_the_watch_and_is_deleted(
    client: KubeClient, namespace: str
):
    changes: list[cachepolicy.Change] = []
    async with ClusterCache(client) as cache:
        cache.subscribe(changes.append)
        await cache.wait_synced(30)
        key = ResourceKey("", "ConfigMap", namespace, "app")

        await client.apply(tracked_configmap(namespace, "app", k="v"), field_manager="tether")
        await eventually(lambda: cache.get(key) is not None)
        record = cache.get(key)
        assert record is not None
        manifest = record.manifest()
        assert manifest is not None
        assert manifest["data"] == {"k": "v"}
        assert [r.key for r in cache.managed_by("guestbook")] == [key]
        assert cachepolicy.Change(frozenset({"guestbook"}), key, "ADDED") in changes

        await client.delete("v1", "ConfigMap", "app", namespace, propagation="Background")
        await eventually(lambda: cache.get(key) is None)
        assert cache.managed_by("guestbook") == []
        assert changes_of(changes, key) == ["ADDED", "DELETED"]
        assert changes[-1].apps == frozenset({"guestbook"})


async def test_updates_that_only_touch_server_bookkeeping_are_not_reported(
    client: KubeClient, namespace: str
):
    changes: list[cachepolicy.Change] = []
    async with ClusterCache(client) as cache:
        cache.subscribe(changes.append)
        await cache.wait_synced(30)
        key = ResourceKey("", "ConfigMap", namespace, "quiet")
        first = await client.apply(tracked_configmap(namespace, "quiet"), field_manager="tether")
        await eventually(lambda: bool(changes_of(changes, key)))

        # A second manager applying the same content changes only managedFields.
        second = await client.apply(tracked_configmap(namespace, "quiet"), field_manager="other")
        assert second["metadata"]["resourceVersion"] != first["metadata"]["resourceVersion"]
        rv = second["metadata"]["resourceVersion"]
        await eventually(lambda: (r := cache.get(key)) is not None and r.resource_version == rv)
        assert changes_of(changes, key) == ["ADDED"]

        await client.apply(tracked_configmap(namespace, "quiet", k="w"), field_manager="tether")
        await eventually(lambda: changes_of(changes, key) == ["ADDED", "MODIFIED"])


def crd(group: str) -> dict[str, Any]:
    return tetherenv.crd_manifest(group, "Widget", "widgets", status_subresource=True)


async def test_the_cache_starts_watching_a_crd_added_at_run_time_and_stops_when_it_is_deleted(
    client: KubeClient, namespace: str
):
    group = f"t{uuid.uuid4().hex[:8]}.example.com"
    widget = GroupKind(group, "Widget")
    changes: list[cachepolicy.Change] = []
    async with ClusterCache(client) as cache:
        cache.subscribe(changes.append)
        await cache.wait_synced(30)
        assert widget not in cache.watched()

        await client.apply(crd(group), field_manager="tether")
        await eventually(lambda: widget in cache.watched())
        resource = await client.discovery.resource(f"{group}/v1", "Widget")
        assert resource.plural == "widgets"
        assert resource.has_status

        cr = {
            "apiVersion": f"{group}/v1",
            "kind": "Widget",
            "metadata": {
                "name": "w",
                "namespace": namespace,
                "annotations": {TRACKING: f"widgets:{group}/Widget:{namespace}/w"},
            },
            "spec": {"size": 3},
        }
        await client.apply(cr, field_manager="tether")
        key = ResourceKey(group, "Widget", namespace, "w")
        await eventually(lambda: cache.get(key) is not None)

        # Background: the minimal control plane has no garbage collector for Foreground.
        name = f"widgets.{group}"
        await client.delete(
            "apiextensions.k8s.io/v1", "CustomResourceDefinition", name, propagation="Background"
        )
        await eventually(lambda: widget not in cache.watched(), timeout=30)
        await eventually(lambda: cache.get(key) is None)
        assert changes_of(changes, key)[-1] == "DELETED"


class IndexSink:
    """Feeds an ``Index`` directly, as the cache does, without discovery or CRD handling."""

    def __init__(self, index: Index) -> None:
        self.index = index

    def replace(self, resource: ApiResource, items: list[tuple[SlimObject, bytes]], rv: str):
        self.index.replace(resource, items)

    def event(self, resource: ApiResource, event_type: str, obj: SlimObject, raw: bytes):
        if event_type == "DELETED":
            self.index.delete(resource, obj)
        else:
            self.index.upsert(resource, obj, raw)

    def stopped(self, resource: ApiResource, reason: str):
        self.index.drop_type(resource.group_kind)


async def compact_etcd(etcd_url: str) -> None:
    """Compact etcd's history up to now, so older resourceVersions are gone for good."""
    async with httpx2.AsyncClient(base_url=etcd_url) as etcd:
        probe = await etcd.post("/v3/kv/range", json={"key": base64.b64encode(b"/").decode()})
        revision = probe.json()["header"]["revision"]
        done = await etcd.post("/v3/kv/compaction", json={"revision": revision, "physical": True})
        done.raise_for_status()


def tracked_event(namespace: str, name: str, message: str = "first") -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "annotations": {TRACKING: f"guestbook:/Event:{namespace}/{name}"},
        },
        "involvedObject": {"kind": "ConfigMap", "name": "x", "namespace": namespace},
        "reason": "Test",
        "message": message,
        "type": "Normal",
    }


async def test_a_watch_resumed_from_a_too_old_version_relists_without_losing_or_repeating_objects(
    client: KubeClient, namespace: str, kube_cluster: bootstrap.DevCluster
):
    # Events: the one type the API server serves from etcd rather than its watch cache, so an
    # etcd compaction really makes an old resourceVersion unusable (410 Expired).
    changes: list[cachepolicy.Change] = []
    index = Index(changes.append)
    sink = IndexSink(index)
    events = await client.discovery.resource("v1", "Event")
    for name in ("a", "b", "c"):
        await client.apply(tracked_event(namespace, name), field_manager="tether")

    first = Reflector(client.transport, events, sink, namespace=namespace)
    task = asyncio.create_task(first.run())
    await asyncio.wait_for(first.synced.wait(), 15)
    await cancel(task)
    resume_point = first.state.resource_version
    key = {n: ResourceKey("", "Event", namespace, n) for n in "abcd"}
    assert set(index.records) == {key["a"], key["b"], key["c"]}

    # While nobody watches: one deletion, one change, one creation, then history is compacted.
    changes.clear()
    await client.delete("v1", "Event", "a", namespace, propagation="Background")
    await client.apply(tracked_event(namespace, "b", "changed"), field_manager="tether")
    await client.apply(tracked_event(namespace, "d"), field_manager="tether")
    await compact_etcd(kube_cluster.etcd_url)

    second = Reflector(client.transport, events, sink, namespace=namespace)
    task = asyncio.create_task(second.run(resume_from=resume_point))
    try:
        await eventually(lambda: second.lists == 1 and second.synced.is_set())
        await eventually(lambda: second.state.phase is reflection.Phase.WATCHING)
    finally:
        await cancel(task)
    assert set(index.records) == {key["b"], key["c"], key["d"]}
    record_b = index.get(key["b"])
    assert record_b is not None
    manifest_b = record_b.manifest()
    assert manifest_b is not None
    assert manifest_b["message"] == "changed"
    reported = sorted((c.key.name, c.event) for c in changes)
    assert reported == [("a", "DELETED"), ("b", "MODIFIED"), ("d", "ADDED")]


def test_the_client_implements_the_cluster_port(client: KubeClient) -> None:
    # Checked by mypy: the assignment fails type checking if a signature drifts.
    cluster: ports.Cluster = client
    assert cluster is client


async def test_the_request_counter_counts_the_caches_lists_and_watches(client: KubeClient):
    before = client.counter.snapshot()
    async with ClusterCache(client) as cache:
        await cache.wait_synced(30)
        watched = len(cache.watched())
        assert cache.unsynced() == set()
        await eventually(lambda: client.counter.snapshot()["watch"] - before["watch"] >= watched)
    after = client.counter.snapshot()
    assert after["list"] - before["list"] >= watched
    assert watched > 20  # every built-in type but the excluded ones
    assert GroupKind("", "Event") not in cache.watched()


async def test_the_cache_knows_scope_and_preferred_versions_and_ownership(
    client: KubeClient, namespace: str
):
    async with ClusterCache(client) as cache:
        await cache.wait_synced(30)
        assert cache.is_namespaced(GroupKind("", "ConfigMap")) is True
        assert cache.is_namespaced(GroupKind("", "Namespace")) is False
        assert cache.preferred_version(GroupKind("apps", "Deployment")) == "apps/v1"
        assert cache.preferred_version(GroupKind("example.com", "Nope")) is None

        parent = await client.apply(tracked_configmap(namespace, "parent"), field_manager="tether")
        child = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": "child",
                "namespace": namespace,
                "ownerReferences": [
                    {
                        "apiVersion": "v1",
                        "kind": "ConfigMap",
                        "name": "parent",
                        "uid": parent["metadata"]["uid"],
                    }
                ],
            },
        }
        await client.apply(child, field_manager="tether")
        child_key = ResourceKey("", "ConfigMap", namespace, "child")
        uid = parent["metadata"]["uid"]
        await eventually(lambda: [r.key for r in cache.children_of(uid)] == [child_key])
        record = cache.get(child_key)
        assert record is not None
        assert record.app == ""  # descendants belong to an app through their owner
        assert record.manifest() is not None  # kept in full: it is in a tracked tree


def ready_replicas(obj: Any) -> object:
    """A stand-in health fingerprint: how many replicas are ready."""
    return (obj.get("status") or {}).get("readyReplicas", 0)


async def test_with_a_health_fingerprint_status_churn_that_keeps_health_is_not_reported(
    client: KubeClient, namespace: str
):
    changes: list[cachepolicy.Change] = []
    async with ClusterCache(client, health=ready_replicas) as cache:
        cache.subscribe(changes.append)
        await cache.wait_synced(30)
        manifest = {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {
                "name": "web",
                "namespace": namespace,
                "annotations": {TRACKING: f"guestbook:apps/Deployment:{namespace}/web"},
            },
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": {"app": "web"}},
                "template": {
                    "metadata": {"labels": {"app": "web"}},
                    "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]},
                },
            },
        }
        await client.apply(manifest, field_manager="tether")
        key = ResourceKey("apps", "Deployment", namespace, "web")
        await eventually(lambda: changes_of(changes, key) == ["ADDED"])

        async def write_status(status: dict[str, Any]) -> str:
            live = await client.get("apps/v1", "Deployment", "web", namespace)
            assert live is not None
            written = await client.update_status({**live, "status": status})
            return str(written["metadata"]["resourceVersion"])

        # Status moves, health does not: dropped.
        rv = await write_status({"observedGeneration": 1, "replicas": 1})
        await eventually(lambda: (r := cache.get(key)) is not None and r.resource_version == rv)
        assert changes_of(changes, key) == ["ADDED"]

        # Health moves: reported.
        await write_status({"observedGeneration": 1, "replicas": 1, "readyReplicas": 1})
        await eventually(lambda: changes_of(changes, key) == ["ADDED", "MODIFIED"])


async def test_untracked_objects_outside_any_tree_are_kept_slim(client: KubeClient, namespace: str):
    async with ClusterCache(client) as cache:
        await cache.wait_synced(30)
        plain = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "plain", "namespace": namespace, "labels": {"a": "b"}},
            "data": {"big": "x" * 10_000},
        }
        created = await client.apply(plain, field_manager="tether")
        key = ResourceKey("", "ConfigMap", namespace, "plain")
        await eventually(lambda: cache.get(key) is not None)
        record = cache.get(key)
        assert record is not None
        assert record.manifest() is None  # a GET is needed if someone wants it
        assert record.uid == created["metadata"]["uid"]
        assert record.resource_version == created["metadata"]["resourceVersion"]


async def test_the_cache_can_freeze_what_it_built_while_syncing_out_of_the_collectors_way(
    client: KubeClient,
):
    try:
        async with ClusterCache(client, freeze_gc=True) as cache:
            await cache.wait_synced(30)
            assert gc.get_freeze_count() > 0
            assert len(cache) > 0
    finally:
        gc.unfreeze()
