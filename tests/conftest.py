"""Shared fixtures: one real control plane per test worker, and a fresh namespace per test.

Tests that request ``kube_cluster`` get the minimal tier (etcd + kube-apiserver); tests that
request ``full_cluster`` get the full tier (plus controller-manager, scheduler and kwok nodes).
Both are real components built from Go modules; there is no fake API server anywhere.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tether import bootstrap

CLUSTER_TEST_TIMEOUT_S = 120
"""Default timeout for tests that use a control plane; includes starting it (about 3-10 s)."""

CLUSTER_FIXTURES = {"kube_cluster": "cluster", "full_cluster": "full_cluster"}

PROPERTY_TEST_TIMEOUT_S = 30
"""A hypothesis test's whole run (its examples share one timeout)."""

SLOW_TIER_TIMEOUT_S = 60
"""Integration and e2e tests run real tools; with module fixtures (servers, clusters) a 2 s
budget fails under load. Tests that need longer say so themselves."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark tests by the tier they use, give them a longer timeout, and keep tiers per worker."""
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        path = str(getattr(item, "path", ""))
        for fixture, marker in CLUSTER_FIXTURES.items():
            if fixture in fixtures:
                item.add_marker(getattr(pytest.mark, marker))
                if item.get_closest_marker("timeout") is None:
                    item.add_marker(pytest.mark.timeout(CLUSTER_TEST_TIMEOUT_S))
        slow_tier = "/tests/integration/" in path or "/tests/e2e/" in path
        if slow_tier and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(SLOW_TIER_TIMEOUT_S))
        # A property test runs its body dozens of times under one timeout: on a loaded
        # 2-core CI machine, 2 s for the whole run fails tests that are not slow.
        is_property = getattr(getattr(item, "obj", None), "is_hypothesis_test", False)
        if is_property and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(PROPERTY_TEST_TIMEOUT_S))
        if "full_cluster" in fixtures:
            # One worker runs every full-tier test, so only one full tier starts per run.
            item.add_marker(pytest.mark.xdist_group("full-tier"))


def _start(tier: str) -> Iterator[bootstrap.DevCluster]:
    # The full tier logs writes to ConfigMaps and Applications: the sharding test reads
    # who wrote each app's objects from it.
    audited = tier == "full"
    with bootstrap.temporary_dev_cluster(tier, prefix="tether-test-", audit=audited) as cluster:
        yield cluster


@pytest.fixture(scope="session")
def kube_cluster() -> Iterator[bootstrap.DevCluster]:
    """A real etcd + kube-apiserver on 127.0.0.1, shared by every test of this worker."""
    yield from _start("minimal")


@pytest.fixture(scope="session")
def full_cluster() -> Iterator[bootstrap.DevCluster]:
    """The full tier: adds controller-manager, scheduler and kwok's simulated nodes."""
    yield from _start("full")


def _tracked_kinds() -> tuple[Any, ...]:
    """The kinds tests' apps deploy (ConfigMaps above all), deleted before their namespace."""
    from lightkube.resources.apps_v1 import Deployment
    from lightkube.resources.core_v1 import ConfigMap, Secret, Service, ServiceAccount

    return (ConfigMap, Secret, Service, ServiceAccount, Deployment)


def _namespace_for(cluster: bootstrap.DevCluster, request: pytest.FixtureRequest) -> Iterator[str]:
    from lightkube import Client, KubeConfig
    from lightkube.models.meta_v1 import ObjectMeta
    from lightkube.resources.core_v1 import Namespace

    name = f"t-{request.node.name[:40].lower().replace('_', '-').strip('-')}-{uuid.uuid4().hex[:6]}"
    name = "".join(c for c in name if c.isalnum() or c == "-")
    config = KubeConfig.from_file(str(cluster.kubeconfig))
    with Client(config) as client:
        client.create(Namespace(metadata=ObjectMeta(name=name)))
    try:
        yield name
    finally:
        # A fresh client: a test may have restarted the API server under the first one.
        # Without a namespace controller (minimal tier) the namespace stays Terminating with its
        # objects, and on the full tier they go only after a while: the objects an app tracks
        # are deleted first, so a later test's app of the same name never finds them (tracking
        # is by app name, cluster-wide, as in Argo CD).
        with Client(config) as client:
            for kind in _tracked_kinds():
                with contextlib.suppress(Exception):  # a test may have left the API unusable
                    client.deletecollection(kind, namespace=name)
            client.delete(Namespace, name)


@pytest.fixture
def namespace(kube_cluster: bootstrap.DevCluster, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh namespace on the minimal control plane, for this test only."""
    yield from _namespace_for(kube_cluster, request)


@pytest.fixture
def full_namespace(
    full_cluster: bootstrap.DevCluster, request: pytest.FixtureRequest
) -> Iterator[str]:
    """A fresh namespace on the full-tier control plane, for this test only."""
    yield from _namespace_for(full_cluster, request)
