"""``tether kubeflow bootstrap`` on the real API server: the root goes in, Dex's hash stays out."""

from __future__ import annotations

import dataclasses

import pytest
from click.testing import CliRunner
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import Namespace, Secret

from tests.support import tetherenv
from tether.cli.main import cli
from tether.model.errors import InvalidInputError
from tether.services import kubeflow

from .conftest import FORK_URL, KUBEFLOW, POINTING, make_fork

pytestmark = [
    pytest.mark.timeout(180),
    pytest.mark.skipif(not KUBEFLOW.is_dir(), reason="the Kubeflow corpus is not present"),
]


@pytest.fixture(scope="module")
def crds(kube_cluster):
    tetherenv.install_crds(kube_cluster.kubeconfig)
    return kube_cluster


@pytest.fixture
def kube(crds):
    """The test's own client; ``auth`` is removed afterwards (the cluster is shared)."""
    client = tetherenv.client(crds.kubeconfig)
    client.create(Namespace(metadata=ObjectMeta(name="auth")))
    try:
        yield client
    finally:
        client.delete(Namespace, "auth")
        client.close()


def bootstrap(directory, kubeconfig):
    args = ["kubeflow", "bootstrap", "--dir", str(directory), "--kubeconfig", str(kubeconfig)]
    return CliRunner().invoke(cli, args)


def test_bootstrap_applies_the_root_and_warns_until_dex_has_its_password(
    crds, namespace, kube, tmp_path
):
    directory = make_fork(tmp_path) / "distributions" / "kubeflow"
    kubeflow.init(directory, dataclasses.replace(POINTING, app_namespace=namespace))

    first = bootstrap(directory, crds.kubeconfig)

    assert first.exit_code == 0, first.output
    assert "Secret auth/dex-passwords has no DEX_USER_PASSWORD" in first.stderr
    assert f"application {namespace}/kubeflow applied" in first.stdout
    root = tetherenv.get(kube, tetherenv.Application, "kubeflow", namespace)
    assert root["spec"]["source"]["repoURL"] == FORK_URL
    assert root["spec"]["source"]["path"] == "distributions/kubeflow/apps"

    kube.create(
        Secret(
            metadata=ObjectMeta(name="dex-passwords", namespace="auth"),
            stringData={"DEX_USER_PASSWORD": "$2y$12$" + "x" * 53},
        )
    )
    second = bootstrap(directory, crds.kubeconfig)

    assert second.exit_code == 0, second.output
    assert "warning" not in second.stderr
    assert "$2y$" not in second.output


def test_bootstrap_refuses_a_root_that_init_has_not_pointed_at_a_fork(crds, tmp_path):
    directory = make_fork(tmp_path) / "distributions" / "kubeflow"

    result = bootstrap(directory, crds.kubeconfig)

    assert isinstance(result.exception, InvalidInputError)
    assert "run `tether kubeflow init --repo <your fork>`" in str(result.exception)
