"""Fixtures of the repo-server tests: the minimal control plane with tether's CRDs, once."""

from __future__ import annotations

import pytest

from tests.support import tetherenv
from tether import bootstrap


@pytest.fixture(scope="session")
def minimal_crds(kube_cluster: bootstrap.DevCluster) -> bootstrap.DevCluster:
    """The minimal control plane with the CRDs installed as a user would."""
    tetherenv.install_crds(kube_cluster.kubeconfig)
    return kube_cluster
