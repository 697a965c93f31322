"""One demo site per test module: the full tier, the demo apps converged, ``tether run``."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from lightkube import Client
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import Namespace

from tests.support import tetherenv, uienv
from tether import bootstrap


@pytest.fixture(scope="module")
def site(
    full_cluster: bootstrap.DevCluster, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[uienv.Site]:
    """The demo apps under their own ``tether run``, in a namespace of this module's."""
    namespace = f"ui-{uuid.uuid4().hex[:8]}"
    kube = tetherenv.client(full_cluster.kubeconfig)
    kube.create(Namespace(metadata=ObjectMeta(name=namespace)))
    try:
        with uienv.demo_site(
            full_cluster.kubeconfig, namespace, tmp_path_factory.mktemp("site")
        ) as served:
            yield served
    finally:
        forget(kube, namespace)
        kube.close()


def forget(kube: Client, namespace: str) -> None:
    """Delete a site's namespaces: its own and its apps' destinations (``<namespace>-*``).

    ``uienv.demo_site`` has already removed its Applications while its controller still ran.
    """
    for found in kube.list(Namespace):
        name = str(found.metadata.name if found.metadata else "")
        if name == namespace or name.startswith(namespace + "-"):
            kube.delete(Namespace, name)


@pytest.fixture
def shots(tmp_path) -> uienv.Shots:
    """This test's screenshots, under its temporary directory."""
    return uienv.Shots(tmp_path)
