"""The shipped install's RBAC suffices, and no more: ``deploy/install`` applied to the real
control plane, the controller run with nothing but a token of its shipped ServiceAccount, given
as a kubeconfig or, in a Pod's place, as the kubelet's rotating token file."""

from __future__ import annotations

import asyncio
import base64
import json
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from lightkube.resources.coordination_v1 import Lease
from lightkube.resources.core_v1 import ConfigMap

from tests.support import gitservers, install, tetherenv
from tether import bootstrap
from tether.adapters.kube.client import KubeClient
from tether.model.errors import ForbiddenError

pytestmark = pytest.mark.timeout(300)

FILES = {
    "app/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {a: '1'}\n",
    "app/svc.yaml": (
        "apiVersion: v1\nkind: Service\nmetadata: {name: web}\n"
        "spec: {ports: [{port: 80}], selector: {app: web}}\n"
    ),
}
AUTOMATED = {"syncPolicy": {"automated": {"prune": True}}}


async def install_as(cluster: bootstrap.DevCluster, overlay: str, control: str, tmp: Path) -> Path:
    """Apply the ``overlay`` into ``control``; a kubeconfig holding only the controller's token
    (what ``kubectl create token tether-controller`` gives)."""
    objects = install.render(overlay, control, tmp)
    async with KubeClient.from_kubeconfig(cluster.kubeconfig) as admin:
        await install.apply(admin, objects)
        token = await admin.service_account_token(
            control, "tether-controller", expiration_seconds=3600
        )
    return install.token_kubeconfig(cluster.kubeconfig, token, tmp / "controller.kubeconfig")


@pytest.fixture
async def control(full_cluster: bootstrap.DevCluster) -> AsyncIterator[str]:
    """The install's namespace (``tether`` in the shipped manifests), fresh for this test."""
    with tetherenv.fresh_namespace(full_cluster.kubeconfig, "tether-install") as name:
        yield name


def status_text(kube: Any, namespace: str, name: str) -> str:
    return json.dumps(tetherenv.app_status(kube, namespace, name))


async def test_the_cluster_wide_install_lets_its_controller_sync_an_app_into_another_namespace(
    full_cluster: bootstrap.DevCluster, full_namespace: str, control: str, tmp_path: Path
) -> None:
    kubeconfig = await install_as(full_cluster, "cluster", control, tmp_path)
    repo = tetherenv.serve_repo(tmp_path / "git", FILES)
    kube = tetherenv.client(full_cluster.kubeconfig)
    try:
        app = tetherenv.application("web", control, repo.url, "app", full_namespace, **AUTOMATED)
        tetherenv.create(kube, app)
        async with tetherenv.running_controller(
            kubeconfig, control, tmp_path / "cache", leader_election=True
        ):
            await tetherenv.eventually(
                lambda: tetherenv.synced_healthy(kube, control, "web"), 120, "Synced and Healthy"
            )
        assert tetherenv.exists(kube, ConfigMap, "settings", full_namespace)
        # It led through its Lease, in its own namespace, with the shipped Role.
        assert tetherenv.exists(kube, Lease, "tether-controller", control)
    finally:
        repo.server.stop()
        kube.close()


async def test_the_namespaced_install_syncs_its_own_namespace_and_cannot_touch_another(
    full_cluster: bootstrap.DevCluster, full_namespace: str, control: str, tmp_path: Path
) -> None:
    kubeconfig = await install_as(full_cluster, "namespaced", control, tmp_path)
    # The account itself may not write elsewhere, whatever tether decides.
    async with KubeClient.from_kubeconfig(kubeconfig) as controller_account:
        with pytest.raises(ForbiddenError):
            await controller_account.create(
                {
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "metadata": {"name": "probe", "namespace": full_namespace},
                }
            )
    repo = tetherenv.serve_repo(tmp_path / "git", FILES)
    kube = tetherenv.client(full_cluster.kubeconfig)
    try:
        inside = tetherenv.application("inside", control, repo.url, "app", control, **AUTOMATED)
        outside = tetherenv.application(
            "outside", control, repo.url, "app", full_namespace, **AUTOMATED
        )
        tetherenv.create(kube, inside)
        tetherenv.create(kube, outside)
        async with tetherenv.running_controller(
            kubeconfig, control, tmp_path / "cache", leader_election=True
        ):
            await tetherenv.eventually(
                lambda: tetherenv.synced_healthy(kube, control, "inside"), 120, "inside Synced"
            )
            said = await tetherenv.eventually(
                lambda: (
                    f"namespace '{full_namespace}' is not among the namespaces"
                    in status_text(kube, control, "outside")
                ),
                60,
                "a clear refusal for the other namespace",
            )
            assert said
        assert tetherenv.exists(kube, ConfigMap, "settings", control)
        assert not tetherenv.exists(kube, ConfigMap, "settings", full_namespace)
        assert not tetherenv.exists(kube, ConfigMap, "probe", full_namespace)
    finally:
        repo.server.stop()
        kube.close()


async def test_in_a_pods_place_the_controller_finds_the_api_and_outlives_a_token_rotation(
    full_cluster: bootstrap.DevCluster,
    full_namespace: str,
    control: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    objects = install.render("cluster", control, tmp_path / "install")
    async with KubeClient.from_kubeconfig(full_cluster.kubeconfig) as admin:
        await install.apply(admin, objects)
        first = await install.bound_token(admin, control, "tether-controller", "pod-1")
    account = install.pod_account_dir(full_cluster.kubeconfig, tmp_path, control)
    install.write_token(account, first)
    repo = tetherenv.serve_repo(tmp_path / "git", FILES)
    kube = tetherenv.client(full_cluster.kubeconfig)
    try:
        app = tetherenv.application("web", control, repo.url, "app", full_namespace, **AUTOMATED)
        tetherenv.create(kube, app)
        install.act_as_pod(monkeypatch, account, full_cluster.server, tmp_path / "home")
        async with tetherenv.running_controller(
            None, control, tmp_path / "cache", leader_election=True
        ):
            await tetherenv.eventually(
                lambda: tetherenv.synced_healthy(kube, control, "web"), 120, "Synced and Healthy"
            )
            # The kubelet's rotation: a new token in the file, then the old one revoked.
            async with KubeClient.from_kubeconfig(full_cluster.kubeconfig) as admin:
                second = await install.bound_token(admin, control, "tether-controller", "pod-2")
                install.write_token(account, second)
                await admin.delete("v1", "Secret", "pod-1", control, propagation="Background")
            await tetherenv.eventually(
                lambda: asyncio.run(
                    install.refused(full_cluster.server, account / "ca.crt", first)
                ),
                30,
                "the first token revoked",
            )
            sha = repo.commit({"app/cm.yaml": FILES["app/cm.yaml"].replace("'1'", "'2'")})
            await tetherenv.eventually(
                lambda: (
                    tetherenv.get(kube, ConfigMap, "settings", full_namespace)["data"] == {"a": "2"}
                ),
                90,
                "the next commit synced with the new token",
            )
            await tetherenv.eventually(
                lambda: tetherenv.synced_healthy(kube, control, "web"), 60, "Synced again"
            )
            assert tetherenv.app_status(kube, control, "web")["sync"]["revision"] == sha
    finally:
        repo.server.stop()
        kube.close()


@pytest.mark.parametrize("overlay", ["cluster", "namespaced"])
async def test_the_api_server_runs_with_its_shipped_account_and_lists_the_apps(
    full_cluster: bootstrap.DevCluster, control: str, tmp_path: Path, overlay: str
) -> None:
    objects = install.render(overlay, control, tmp_path / "install")
    async with KubeClient.from_kubeconfig(full_cluster.kubeconfig) as admin:
        await install.apply(admin, objects)
        token = await admin.service_account_token(control, "tether-server", expiration_seconds=3600)
    kubeconfig = install.token_kubeconfig(full_cluster.kubeconfig, token, tmp_path / "server.kc")
    kube = tetherenv.client(full_cluster.kubeconfig)
    app = tetherenv.application("listed", control, "https://example.com/r.git", "app", control)
    tetherenv.create(kube, app)
    port = gitservers.free_port()
    log = (tmp_path / "server.log").open("wb")
    argv = [sys.executable, "-m", "tether", "server", "--kubeconfig", str(kubeconfig)]
    server = subprocess.Popen(
        [*argv, "--namespace", control, "--api-address", f"127.0.0.1:{port}"],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        # Its first start writes the admin password, with the shipped Role's rights.
        password = await tetherenv.eventually(
            lambda: secret_value(kube, control, "argocd-initial-admin-secret", "password"),
            90,
            "the initial admin password",
        )
        async with httpx2.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            await tetherenv.eventually(lambda: answers(port), 60, "the API server listening")
            session = await http.post(
                "/api/v1/session", json={"username": "admin", "password": password}
            )
            assert session.status_code == 200, session.text
            bearer = {"Authorization": f"Bearer {session.json()['token']}"}
            listed = await http.get("/api/v1/applications", headers=bearer)
        assert listed.status_code == 200, listed.text
        assert [a["metadata"]["name"] for a in listed.json()["items"]] == ["listed"]
    finally:
        server.terminate()
        server.wait(30)
        log.close()
        kube.close()


def secret_value(kube: Any, namespace: str, name: str, key: str) -> str:
    """A Secret's decoded value, ``""`` while it is not there."""
    from lightkube.resources.core_v1 import Secret

    if not tetherenv.exists(kube, Secret, name, namespace):
        return ""
    data = tetherenv.get(kube, Secret, name, namespace).get("data") or {}
    return base64.b64decode(data.get(key, "")).decode()


def answers(port: int) -> bool:
    """Whether an API server answers on ``port`` (its version, which needs no login)."""
    try:
        return httpx2.get(f"http://127.0.0.1:{port}/api/version", timeout=5).status_code == 200
    except httpx2.HTTPError:
        return False
