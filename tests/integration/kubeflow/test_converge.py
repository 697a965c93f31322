"""One root Application on a real control plane: tether's controller follows the waves from Git.

The fork (the corpus with the distribution, pointed at itself) is served by ``git daemon``; the
control plane is the minimal tier (no kubelet, no controller-manager), so only what needs no
running pod can become Healthy: wave 0 (CRDs, Namespaces, roles). That is enough to see the
whole flow: root → children → wave 0 converged → wave 1 created → later waves held back.
"""

from __future__ import annotations

import asyncio
import functools
import pathlib
import shutil
from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from lightkube.resources.apiextensions_v1 import CustomResourceDefinition
from lightkube.resources.core_v1 import Namespace

from tests.support import gitservers, tetherenv
from tether import bootstrap
from tether.cli.main import cli
from tether.core.sources import distribution
from tether.services import kubeflow

from .conftest import KUBEFLOW, make_fork

pytestmark = [
    pytest.mark.timeout(300),
    pytest.mark.skipif(not KUBEFLOW.is_dir(), reason="the Kubeflow corpus is not present"),
]

WAVE_0 = ("istio-crds", "istio-namespace", "kubeflow-namespace", "kubeflow-roles")
APP_NAMESPACE = "tether"
KEEP = "Prune=false,Delete=false"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[bootstrap.DevCluster]:
    """A control plane of this module's own: the distribution creates cluster-wide objects."""
    directory = tmp_path_factory.mktemp("kubeflow-cluster")
    started = bootstrap.dev_cluster_up(directory, "minimal", die_with_parent=True)
    try:
        tetherenv.install_crds(started.kubeconfig)
        yield started
    finally:
        bootstrap.dev_cluster_down(directory)
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def served_fork(tmp_path: pathlib.Path) -> Iterator[tuple[pathlib.Path, str]]:
    """The fork, initialised to point at its own git:// URL, committed and served."""
    fork = make_fork(tmp_path)
    (tmp_path / "served").mkdir()
    server = gitservers.GitDaemonServer(tmp_path / "served", tmp_path / "daemon").start()
    try:
        url = server.url("kubeflow.git")
        pointing = distribution.Pointing(url, "main", url, "main")
        kubeflow.init(fork / "distributions" / "kubeflow", pointing)
        gitservers.git("init", "--quiet", "-b", "main", str(fork))
        seed = gitservers.SeedRepo(fork)
        seed.git("config", "user.email", "test@example.com")
        seed.git("config", "user.name", "test")
        seed.commit("initial", {})
        seed.publish(tmp_path / "served" / "kubeflow.git")
        yield fork, url
    finally:
        server.stop()


def converged(kube, name: str) -> bool:
    """Synced and Healthy; ``False`` while the root has not created the child yet."""
    return exists(kube, name) and bool(tetherenv.synced_healthy(kube, APP_NAMESPACE, name))


def exists(kube, name: str) -> bool:
    try:
        tetherenv.get(kube, tetherenv.Application, name, APP_NAMESPACE)
    except Exception:
        return False
    return True


async def test_the_root_brings_up_wave_0_then_creates_wave_1_and_holds_back_the_rest(
    cluster, served_fork, tmp_path
):
    fork, url = served_fork
    kube = tetherenv.client(cluster.kubeconfig)
    try:
        async with tetherenv.running_controller(
            cluster.kubeconfig, APP_NAMESPACE, tmp_path / "cache", resync_s=2.0
        ):
            applied = await asyncio.to_thread(
                CliRunner().invoke,
                cli,
                ["kubeflow", "bootstrap", "--dir", str(fork / "distributions" / "kubeflow"),
                 "--kubeconfig", str(cluster.kubeconfig)],
            )  # fmt: skip
            assert applied.exit_code == 0, applied.output

            for name in WAVE_0:
                await tetherenv.eventually(
                    functools.partial(converged, kube, name),
                    180,
                    f"{name} Synced and Healthy",
                )
            await tetherenv.eventually(
                lambda: exists(kube, "cert-manager"), 60, "the wave 1 child created"
            )
            await asyncio.sleep(5)  # several resyncs: wave 1 cannot become Healthy here
            assert not exists(kube, "istio"), "wave 2 was created before wave 1 was Healthy"

            root = tetherenv.app_status(kube, APP_NAMESPACE, "kubeflow")
            assert root["sync"]["revision"]
            meta = tetherenv.get(kube, Namespace, "kubeflow", "")["metadata"]
            assert meta["annotations"]["argocd.argoproj.io/sync-options"] == KEEP
            assert meta["labels"]["istio-injection"] == "enabled"
            assert kube.get(CustomResourceDefinition, "gateways.networking.istio.io")
            child = tetherenv.get(kube, tetherenv.Application, "istio-crds", APP_NAMESPACE)
            assert child["spec"]["source"]["repoURL"] == url
    finally:
        kube.close()
