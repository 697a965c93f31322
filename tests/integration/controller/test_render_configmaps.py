"""Rendering configuration from Argo CD's ConfigMaps, edited while the controller runs.

Known hosts, per-host CAs and kustomize build options: each starts missing (the app cannot be
fetched or rendered, and says why), then the ConfigMap is created or edited and the same running
controller syncs the app. Real sshd, git http-backend behind TLS, kustomize.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from lightkube import Client
from lightkube.resources.core_v1 import ConfigMap

from tests.support import gitservers, tetherenv, tlsfront
from tether import bootstrap
from tether.adapters.devcluster import pki

pytestmark = pytest.mark.timeout(180)

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: %s}\ndata: {from: git}\n"


@pytest.fixture(scope="module")
def minimal_crds(kube_cluster: bootstrap.DevCluster) -> bootstrap.DevCluster:
    tetherenv.install_crds(kube_cluster.kubeconfig)
    return kube_cluster


def conditions(kube: Client, namespace: str, name: str) -> str:
    found = tetherenv.app_status(kube, namespace, name).get("conditions") or []
    return " | ".join(str(c.get("message", "")) for c in found)


def seed_with(tmp: Path, files: Mapping[str, str]) -> gitservers.SeedRepo:
    work = tmp / "work"
    work.mkdir()
    gitservers.git("init", "--quiet", "-b", "main", str(work))
    seed = gitservers.SeedRepo(work)
    seed.commit("c1", dict(files))
    return seed


@pytest.fixture
def kube(minimal_crds: bootstrap.DevCluster) -> Iterator[Client]:
    client = tetherenv.client(minimal_crds.kubeconfig)
    yield client
    client.close()


async def refused_then_synced(
    kube: Client,
    namespace: str,
    name: str,
    refused: str,
    fix: Any,
) -> None:
    """The app names ``refused`` among its conditions; after ``fix()`` it becomes Synced."""
    await tetherenv.eventually(
        lambda: refused in conditions(kube, namespace, name), 60, f"the app says {refused!r}"
    )
    fix()
    await tetherenv.eventually(
        lambda: tetherenv.synced_healthy(kube, namespace, name), 90, "Synced/Healthy"
    )


async def test_an_ssh_repository_syncs_once_its_host_key_is_added_to_the_configmap(
    minimal_crds, namespace, tmp_path, kube
):
    seed = seed_with(tmp_path, {"app/cm.yaml": CM % "over-ssh"})
    ssh = gitservers.SshGitServer(tmp_path / "served", tmp_path / "ssh-known-hosts")
    seed.publish(tmp_path / "served" / "apps.git")
    ssh.start()
    try:
        url = ssh.url("apps.git")
        tetherenv.create(
            kube,
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {
                    "name": "ssh-repo",
                    "namespace": namespace,
                    "labels": {"argocd.argoproj.io/secret-type": "repository"},
                },
                "stringData": {"url": url, "sshPrivateKey": ssh.client_key},
            },
        )
        tetherenv.create(
            kube,
            tetherenv.application(
                "ssh-known-hosts", namespace, url, "app", namespace, syncPolicy={"automated": {}}
            ),
        )
        async with tetherenv.running_controller(
            minimal_crds.kubeconfig, namespace, tmp_path / "cache"
        ):
            await refused_then_synced(
                kube,
                namespace,
                "ssh-known-hosts",
                "SSH host key is not trusted",
                lambda: tetherenv.put_configmap(
                    kube,
                    namespace,
                    "argocd-ssh-known-hosts-cm",
                    {"ssh_known_hosts": ssh.known_hosts},
                ),
            )
        cm = tetherenv.get(kube, ConfigMap, "over-ssh", namespace)
        assert cm["data"] == {"from": "git"}
    finally:
        ssh.stop()


async def test_an_https_repository_syncs_once_its_ca_is_added_to_the_configmap(
    minimal_crds, namespace, tmp_path, kube
):
    seed = seed_with(tmp_path, {"app/cm.yaml": CM % "over-https"})
    http = gitservers.HttpGitServer(tmp_path / "served", tmp_path / "http")
    seed.publish(tmp_path / "served" / "public" / "apps.git")
    http.start()
    issued = pki.generate(tmp_path / "pki")
    front = tlsfront.TlsFront(http.port, issued.path("apiserver.crt"), issued.path("apiserver.key"))
    try:
        with front:
            url = front.url("git/public/apps.git")
            tetherenv.create(
                kube,
                tetherenv.application(
                    "tls-certs", namespace, url, "app", namespace, syncPolicy={"automated": {}}
                ),
            )
            async with tetherenv.running_controller(
                minimal_crds.kubeconfig, namespace, tmp_path / "cache"
            ):
                await refused_then_synced(
                    kube,
                    namespace,
                    "tls-certs",
                    "TLS certificate is not trusted",
                    lambda: tetherenv.put_configmap(
                        kube,
                        namespace,
                        "argocd-tls-certs-cm",
                        {"127.0.0.1": issued.path("ca.crt").read_text()},
                    ),
                )
        assert tetherenv.get(kube, ConfigMap, "over-https", namespace)["data"] == {"from": "git"}
    finally:
        http.stop()


async def test_kustomize_build_options_from_argocd_cm_apply_to_the_next_render(
    minimal_crds, namespace, tmp_path, kube
):
    files = {
        # A resource outside the kustomization's root needs LoadRestrictionsNone.
        "shared/cm.yaml": CM % "shared",
        "app/kustomization.yaml": "resources: [../shared/cm.yaml]\n",
    }
    repo = tetherenv.serve_repo(tmp_path / "git", files)
    try:
        tetherenv.create(
            kube,
            tetherenv.application(
                "kust-options", namespace, repo.url, "app", namespace, syncPolicy={"automated": {}}
            ),
        )
        tetherenv.put_configmap(
            kube, namespace, "argocd-cm", {"kustomize.buildOptions": "--enable-exec"}
        )
        async with tetherenv.running_controller(
            minimal_crds.kubeconfig, namespace, tmp_path / "cache"
        ):
            # The refused flag never applied: the render runs with tether's defaults.
            await refused_then_synced(
                kube,
                namespace,
                "kust-options",
                "security",
                lambda: tetherenv.put_configmap(
                    kube,
                    namespace,
                    "argocd-cm",
                    {"kustomize.buildOptions": "--load-restrictor LoadRestrictionsNone"},
                ),
            )
        assert tetherenv.get(kube, ConfigMap, "shared", namespace)["data"] == {"from": "git"}
    finally:
        repo.server.stop()
