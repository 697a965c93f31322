"""Fixtures shared by integration tests: the full tier with tether's CRDs installed, once."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support import tetherenv
from tether import bootstrap


@pytest.fixture(scope="session")
def crds(full_cluster: bootstrap.DevCluster) -> bootstrap.DevCluster:
    """The full-tier cluster with the CRDs installed as a user would (``tether install-crds``)."""
    tetherenv.install_crds(full_cluster.kubeconfig)
    return full_cluster


@pytest.fixture
def kube(crds: bootstrap.DevCluster) -> Iterator[Any]:
    """The test's own eyes on the control plane: a lightkube client, closed afterwards."""
    client = tetherenv.client(crds.kubeconfig)
    try:
        yield client
    finally:
        client.close()
