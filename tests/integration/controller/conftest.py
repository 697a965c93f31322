"""Fixtures of the controller tests: the full tier with tether's CRDs installed, once."""

from __future__ import annotations

import pytest

from tests.support import tetherenv
from tether import bootstrap


@pytest.fixture(scope="session")
def crds(full_cluster: bootstrap.DevCluster) -> bootstrap.DevCluster:
    """The full-tier cluster with the CRDs installed as a user would (``tether install-crds``)."""
    tetherenv.install_crds(full_cluster.kubeconfig)
    return full_cluster
