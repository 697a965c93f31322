"""The local control plane: real components, loopback only, clean shutdown."""

from __future__ import annotations

import json
import pathlib
import ssl
import urllib.request

import pytest
import yaml

from tether import bootstrap
from tether.adapters import _process
from tether.adapters.devcluster import cluster, tools
from tether.model.errors import DevClusterError, ToolBuildError


def _get(dev: bootstrap.DevCluster, path: str) -> dict[str, object]:
    ctx = ssl.create_default_context(cafile=str(dev.directory / "pki" / "ca.crt"))
    ctx.load_cert_chain(str(dev.directory / "pki/admin.crt"), str(dev.directory / "pki/admin.key"))
    with urllib.request.urlopen(dev.server + path, context=ctx, timeout=5) as resp:
        return dict(json.loads(resp.read()))


def test_the_minimal_tier_serves_the_real_kubernetes_api_on_loopback(kube_cluster):
    assert kube_cluster.server.startswith("https://127.0.0.1:")
    version = _get(kube_cluster, "/version")
    assert version["gitVersion"] == "v1.36.3"
    config = yaml.safe_load(kube_cluster.kubeconfig.read_text())
    assert config["clusters"][0]["cluster"]["server"] == kube_cluster.server


def test_the_kubeconfig_is_readable_only_by_its_owner(kube_cluster):
    assert kube_cluster.kubeconfig.stat().st_mode & 0o077 == 0
    assert (kube_cluster.directory / "pki" / "admin.key").stat().st_mode & 0o077 == 0


def test_admission_webhooks_are_disabled_so_nothing_dials_a_cluster_ip(kube_cluster):
    state = cluster.ClusterState.load(kube_cluster.directory)
    assert state is not None
    cmdline = pathlib.Path(f"/proc/{state.pids['kube-apiserver']}/cmdline").read_bytes()
    flags = cmdline.decode().split("\0")
    disabled = next(f for f in flags if f.startswith("--disable-admission-plugins="))
    assert "MutatingAdmissionWebhook" in disabled
    assert "ValidatingAdmissionWebhook" in disabled
    assert "--bind-address=127.0.0.1" in flags


def test_the_full_tier_runs_pods_on_simulated_nodes(full_cluster):
    nodes = _get(full_cluster, "/api/v1/nodes")["items"]
    assert isinstance(nodes, list)
    assert {n["metadata"]["name"] for n in nodes} == set(cluster.FAKE_NODES)


def test_starting_twice_from_one_directory_is_refused(kube_cluster):
    with pytest.raises(DevClusterError, match="already running"):
        bootstrap.dev_cluster_up(kube_cluster.directory, "minimal")


def test_stopping_a_directory_without_a_cluster_says_so(tmp_path):
    with pytest.raises(DevClusterError, match="nothing to stop"):
        bootstrap.dev_cluster_down(tmp_path)


def test_an_unknown_tier_is_refused(tmp_path):
    with pytest.raises(DevClusterError, match="unknown tier"):
        bootstrap.dev_cluster_up(tmp_path, "huge")


@pytest.mark.timeout(120)
def test_a_component_that_cannot_be_built_is_named_in_the_error(tmp_path, monkeypatch):
    monkeypatch.setenv("TETHER_TOOLS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("KUSTOMIZE_VERSION", "v0.0.0-does-not-exist")
    with pytest.raises(ToolBuildError, match="could not build kustomize"):
        tools.build("kustomize")


def test_a_second_build_is_served_from_the_cache(kube_cluster):
    # The fixture already built everything; this lookup must not compile anything.
    dirs = tools.build("etcd", "apiserver")
    assert (dirs["apiserver"] / ".complete").exists()
    assert (dirs["apiserver"] / "kube-apiserver").exists()


def test_a_dead_process_is_not_reported_alive():
    assert not _process.pid_alive(2**22 + 7)
