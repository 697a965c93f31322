"""The API server as an operator starts it: inside ``tether run``, and as ``tether server``."""

from __future__ import annotations

import base64
import datetime
import ssl
import subprocess
import sys
from pathlib import Path

import httpx2
import pytest
from lightkube import Client
from lightkube.resources.core_v1 import Secret

from tests.support import tetherenv
from tether.adapters.devcluster import pki

pytestmark = pytest.mark.timeout(150)


def initial_admin_password(kube: Client, namespace: str) -> str:
    secret = tetherenv.get(kube, Secret, "argocd-initial-admin-secret", namespace)
    return base64.b64decode(secret["data"]["password"]).decode()


def start_server(
    kubeconfig: Path, namespace: str, log: Path, *args: str
) -> tetherenv.ControllerProcess:
    argv = [sys.executable, "-m", "tether", "server", "--kubeconfig", str(kubeconfig)]
    argv += ["--namespace", namespace, *args]
    with open(log, "ab") as out:
        popen = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=out)
    return tetherenv.ControllerProcess(popen, log)


async def test_tether_run_serves_the_api_and_admin_signs_in_with_the_generated_password(
    kube_cluster, namespace, tmp_path
):
    tetherenv.install_crds(kube_cluster.kubeconfig)
    kube = tetherenv.client(kube_cluster.kubeconfig)
    controller = tetherenv.start_controller_process(
        kube_cluster.kubeconfig, namespace, tmp_path / "cache", tmp_path / "run.log"
    )
    try:
        url = await controller.api_url()
        assert url.startswith("http://127.0.0.1:")
        password = initial_admin_password(kube, namespace)
        assert len(password) >= 16
        async with httpx2.AsyncClient(base_url=url, timeout=30) as http:
            assert (await http.get("/api/v1/applications")).status_code == 401
            login = await http.post(
                "/api/v1/session", json={"username": "admin", "password": password}
            )
            assert login.status_code == 200, login.text
            token = login.json()["token"]
            listed = await http.get(
                "/api/v1/applications", headers={"Authorization": f"Bearer {token}"}
            )
        assert listed.status_code == 200
        assert listed.json()["items"] == []
    finally:
        controller.stop()
        kube.close()
    assert password not in controller.log()


async def test_tether_server_alone_serves_https_with_the_certificate_of_its_secret(
    kube_cluster, namespace, tmp_path
):
    tetherenv.install_crds(kube_cluster.kubeconfig)
    certs = pki.generate(tmp_path / "pki")
    kube = tetherenv.client(kube_cluster.kubeconfig)
    tetherenv.create(
        kube,
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "argocd-server-tls", "namespace": namespace},
            "type": "kubernetes.io/tls",
            "stringData": {
                "tls.crt": certs.path("apiserver.crt").read_text(),
                "tls.key": certs.path("apiserver.key").read_text(),
            },
        },
    )
    server = start_server(
        kube_cluster.kubeconfig, namespace, tmp_path / "server.log", "--api-address", "127.0.0.1:0"
    )
    try:
        url = await server.api_url()
        assert url.startswith("https://127.0.0.1:")
        trust = ssl.create_default_context(cafile=str(certs.path("ca.crt")))
        async with httpx2.AsyncClient(verify=trust, timeout=30) as http:
            version = await http.get(url + "/api/version")
        assert version.status_code == 200
        assert version.json()["Version"]
    finally:
        server.stop()
        kube.close()


def test_tether_server_refuses_plain_http_off_loopback_unless_told(
    kube_cluster, namespace, tmp_path
):
    tetherenv.install_crds(kube_cluster.kubeconfig)
    done = subprocess.run(
        [
            *(sys.executable, "-m", "tether", "server"),
            *("--kubeconfig", str(kube_cluster.kubeconfig), "--namespace", namespace),
            *("--api-address", "0.0.0.0:0"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert "refusing to serve the API over plain HTTP" in done.stderr


async def test_a_standby_replica_serves_the_api_and_writes_what_its_callers_ask(
    kube_cluster, namespace, tmp_path
):
    # Another replica holds the controller's Lease for an hour: this one never leads, and its
    # API must still create the admin password and write for its callers (a login, an app).
    tetherenv.install_crds(kube_cluster.kubeconfig)
    kube = tetherenv.client(kube_cluster.kubeconfig)
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    tetherenv.create(
        kube,
        {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": "tether-controller", "namespace": namespace},
            "spec": {
                "holderIdentity": "elsewhere_1",
                "leaseDurationSeconds": 3600,
                "acquireTime": now,
                "renewTime": now,
            },
        },
    )
    standby = tetherenv.start_controller_process(
        kube_cluster.kubeconfig,
        namespace,
        tmp_path / "cache",
        tmp_path / "standby.log",
        leader_election=True,
    )
    app = tetherenv.application("asked", namespace, "https://example.test/r.git", "app", namespace)
    try:
        url = await standby.api_url()
        await tetherenv.eventually(lambda: "waiting to lead" in standby.log(), 30, "standby")
        password = initial_admin_password(kube, namespace)
        async with httpx2.AsyncClient(base_url=url, timeout=30) as http:
            login = await http.post(
                "/api/v1/session", json={"username": "admin", "password": password}
            )
            assert login.status_code == 200, login.text
            auth = {"Authorization": f"Bearer {login.json()['token']}"}
            created = await http.post(
                "/api/v1/applications", json=app, headers=auth, params={"validate": "false"}
            )
        assert created.status_code == 200, created.text
        assert "leading as" not in standby.log()
    finally:
        standby.stop()
        kube.close()
