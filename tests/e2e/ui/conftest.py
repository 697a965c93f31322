"""One demo site per test module: the full tier, the demo apps converged, ``tether run``."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from lightkube import Client
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import Namespace
from lightkube.types import PatchType

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
    """Remove a site whose controller has stopped: its Applications, their targets, namespaces.

    The next module's site has apps of the same names, so its root would otherwise wait forever
    to prune these Applications, whose finalizer only the stopped controller could lift.
    """
    for app in kube.list(tetherenv.Application, namespace=namespace):
        kube.patch(
            tetherenv.Application,
            str(app.metadata.name if app.metadata else ""),
            {"metadata": {"finalizers": None}},
            namespace=namespace,
            patch_type=PatchType.MERGE,
        )
    for found in kube.list(Namespace):
        name = str(found.metadata.name if found.metadata else "")
        if name == namespace or name.startswith(namespace + "-"):
            kube.delete(Namespace, name)


@pytest.fixture
def shots(tmp_path) -> uienv.Shots:
    """This test's screenshots, under its temporary directory."""
    return uienv.Shots(tmp_path)
