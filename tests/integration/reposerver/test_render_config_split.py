"""The rendering configuration across the split: argocd-cm's build options travel with each
render; whom Git trusts and which plugins run are the repo-server's own files, read again when
they change (mounted ConfigMaps change by a symlink swap)."""

from __future__ import annotations

import sys
import textwrap

import pytest
from lightkube.resources.core_v1 import ConfigMap

from tests.support import gitservers, reposerver, tetherenv

from .test_controller_split import split_settings

pytestmark = pytest.mark.timeout(180)

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: %s}\ndata: {from: git}\n"


def conditions(kube, namespace: str, name: str) -> str:
    found = tetherenv.app_status(kube, namespace, name).get("conditions") or []
    return " | ".join(str(c.get("message", "")) for c in found)


async def test_the_controller_sends_argocd_cms_kustomize_build_options_to_the_repo_server(
    minimal_crds, namespace, tmp_path
):
    files = {
        "shared/cm.yaml": CM % "shared",
        "app/kustomization.yaml": "resources: [../shared/cm.yaml]\n",
    }
    repo = tetherenv.serve_repo(tmp_path / "git", files)
    server = reposerver.repo_server(tmp_path / "repo-server")
    kube = tetherenv.client(minimal_crds.kubeconfig)
    try:
        tetherenv.create(
            kube,
            tetherenv.application(
                "kust-split", namespace, repo.url, "app", namespace, syncPolicy={"automated": {}}
            ),
        )
        async with tetherenv.running_controller(
            minimal_crds.kubeconfig, namespace, tmp_path / "cache", **split_settings(server)
        ):
            await tetherenv.eventually(
                lambda: "security" in conditions(kube, namespace, "kust-split"), 60, "refused first"
            )
            tetherenv.put_configmap(
                kube,
                namespace,
                "argocd-cm",
                {"kustomize.buildOptions": "--load-restrictor LoadRestrictionsNone"},
            )
            try:
                await tetherenv.eventually(
                    lambda: tetherenv.synced_healthy(kube, namespace, "kust-split"),
                    90,
                    "Synced/Healthy",
                )
            except AssertionError:
                status = tetherenv.app_status(kube, namespace, "kust-split")
                raise AssertionError(f"not Synced/Healthy: {status}") from None
        assert tetherenv.get(kube, ConfigMap, "shared", namespace)["data"] == {"from": "git"}
        assert not (tmp_path / "cache" / "git").exists()  # the repo-server rendered it
    finally:
        server.stop()
        repo.server.stop()
        kube.close()


async def test_a_repo_server_trusts_its_own_known_hosts_file_and_runs_its_own_plugins(
    minimal_crds, namespace, tmp_path
):
    work = tmp_path / "work"
    work.mkdir()
    gitservers.git("init", "--quiet", "-b", "main", str(work))
    seed = gitservers.SeedRepo(work)
    seed.commit("c1", {"app/x.txt": "x"})
    ssh = gitservers.SshGitServer(tmp_path / "served", tmp_path / "ssh")
    seed.publish(tmp_path / "served" / "apps.git")
    ssh.start()
    known = tmp_path / "known-hosts-cm"
    tetherenv.mounted_configmap(known, {"ssh_known_hosts": ""})
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "plugin.yaml").write_text(
        textwrap.dedent(
            f"""\
            apiVersion: argoproj.io/v1alpha1
            kind: ConfigManagementPlugin
            metadata: {{name: cm-maker}}
            spec:
              generate:
                command: [{sys.executable!r}, "-c"]
                args: ["print('apiVersion: v1\\\\nkind: ConfigMap\\\\nmetadata: {{name: made}}')"]
            """
        )
    )
    server = reposerver.repo_server(
        tmp_path / "repo-server",
        "--ssh-known-hosts-file",
        str(known / "ssh_known_hosts"),
        "--plugin-dir",
        str(plugins),
    )
    kube = tetherenv.client(minimal_crds.kubeconfig)
    url = ssh.url("apps.git")
    try:
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
        app = tetherenv.application(
            "plugged-split", namespace, url, "app", namespace, syncPolicy={"automated": {}}
        )
        app["spec"]["source"]["plugin"] = {"name": "cm-maker"}
        tetherenv.create(kube, app)
        # The controller's own ConfigMap is not what the repo-server trusts.
        tetherenv.put_configmap(
            kube, namespace, "argocd-ssh-known-hosts-cm", {"ssh_known_hosts": ssh.known_hosts}
        )
        async with tetherenv.running_controller(
            minimal_crds.kubeconfig, namespace, tmp_path / "cache", **split_settings(server)
        ):
            await tetherenv.eventually(
                lambda: (
                    "SSH host key is not trusted" in conditions(kube, namespace, "plugged-split")
                ),
                60,
                "the repo-server refuses the host",
            )
            tetherenv.mounted_configmap(known, {"ssh_known_hosts": ssh.known_hosts})
            await tetherenv.eventually(
                lambda: tetherenv.synced_healthy(kube, namespace, "plugged-split"),
                90,
                "Synced/Healthy",
            )
        assert tetherenv.get(kube, ConfigMap, "made", namespace)["metadata"]["name"] == "made"
    finally:
        server.stop()
        ssh.stop()
        kube.close()
