"""The API's Application index over a real control plane: lists, watches, and re-lists."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest
from lightkube import Client

from tests.integration.api.appsupport import make_app
from tests.support import tetherenv
from tether import bootstrap
from tether.services.appindex import AppIndex, Event
from tether.settings import Settings

pytestmark = pytest.mark.timeout(60)


async def test_the_index_follows_changes_and_a_relist_reports_what_it_missed(
    crds: bootstrap.DevCluster, full_namespace: str, kube: Client, tmp_path: Path
) -> None:
    ns = full_namespace
    for name in ("b", "a", "c"):
        make_app(kube, ns, name)
    settings = Settings(app_namespaces=(ns,), freeze_gc=False, cache_dir=str(tmp_path))
    runtime = await bootstrap.runtime(settings, kubeconfig=crds.kubeconfig, start_cache=False)
    index = AppIndex(runtime.cluster, (ns,))
    heard: list[tuple[str, str]] = []

    def hear(event: Event) -> None:
        heard.append((event.type, event.entry.summary.name))

    index.subscribe(hear)
    try:
        index.start()
        await index.wait_synced(20)
        assert [e.summary.name for e in index.entries()] == ["a", "b", "c"]
        assert [e.summary.name for e in index.entries(after=(ns, "a"))] == ["b", "c"]
        assert index.resource_version.isdigit()

        heard.clear()
        tetherenv.patch_app(kube, ns, "b", {"metadata": {"labels": {"x": "1"}}})
        await tetherenv.eventually(lambda: ("MODIFIED", "b") in heard, 10, "b modified")
        entry = index.get(ns, "b")
        assert entry is not None and entry.summary.labels == {"x": "1"}

        # Stopped, it misses changes; started again, its list reports each as an event.
        await index.stop()
        heard.clear()
        kube.delete(tetherenv.Application, "a", namespace=ns)
        tetherenv.patch_app(kube, ns, "c", {"metadata": {"labels": {"y": "2"}}})
        make_app(kube, ns, "d")
        index.start()
        await tetherenv.eventually(lambda: len(heard) >= 3, 10, "the re-list's events")
        assert sorted(heard) == [("ADDED", "d"), ("DELETED", "a"), ("MODIFIED", "c")]
        assert [e.summary.name for e in index.entries()] == ["b", "c", "d"]
        assert index.get(ns, "a") is None
    finally:
        await index.stop()
        await runtime.close()


async def test_an_index_told_to_freeze_the_collector_does_so_once_it_has_listed(
    crds: bootstrap.DevCluster, full_namespace: str, kube: Client, tmp_path: Path
) -> None:
    make_app(kube, full_namespace, "a")
    settings = Settings(app_namespaces=(full_namespace,), freeze_gc=False, cache_dir=str(tmp_path))
    runtime = await bootstrap.runtime(settings, kubeconfig=crds.kubeconfig, start_cache=False)
    index = AppIndex(runtime.cluster, (full_namespace,), freeze_gc=True)
    gc.unfreeze()
    try:
        index.start()
        await index.wait_synced(20)
        entry = index.get(full_namespace, "a")
        assert entry is not None
        # What the index built is out of the collector's way: frozen with the rest.
        assert gc.get_freeze_count() > 0
        assert all(tracked is not entry.obj for tracked in gc.get_objects())
    finally:
        gc.unfreeze()
        await index.stop()
        await runtime.close()
