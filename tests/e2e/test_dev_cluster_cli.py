"""`tether dev-cluster` as a user drives it: up, a Deployment becomes Available, down."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

import pytest

from tether.adapters import _process

pytestmark = pytest.mark.timeout(240)


def tether(*args: str, **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tether", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=180,
        **kwargs,
    )


DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: default}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: nginx:1.27}]
"""


def test_a_full_dev_cluster_brings_a_deployment_to_available_and_stops_cleanly(tmp_path):
    directory = tmp_path / "dev"
    started = tether("dev-cluster", "up", "--tier", "full", "--dir", str(directory))
    assert started.returncode == 0, started.stderr
    assert started.stdout.strip() == f"export KUBECONFIG={directory / 'kubeconfig'}"
    state = (directory / "state.json").read_text()
    try:
        env = {**os.environ, "KUBECONFIG": str(directory / "kubeconfig")}
        kubectl = shutil.which("kubectl")
        assert kubectl, "kubectl is needed for this test (installed by hack/system-deps.sh)"
        created = subprocess.run(
            [kubectl, "apply", "-f", "-"],
            input=DEPLOYMENT,
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert created.returncode == 0, created.stderr
        waited = subprocess.run(
            [kubectl, "wait", "deployment/web", "--for=condition=Available", "--timeout=60s"],
            env=env,
            capture_output=True,
            text=True,
            timeout=90,
            check=False,
        )
        assert waited.returncode == 0, waited.stderr
        status = tether("dev-cluster", "status", "--dir", str(directory))
        assert status.returncode == 0
        assert "ready:      yes" in status.stdout
    finally:
        stopped = tether("dev-cluster", "down", "--dir", str(directory))
    assert stopped.returncode == 0, stopped.stderr
    import json

    pids = json.loads(state)["pids"]
    assert set(pids) == {
        "etcd",
        "kube-apiserver",
        "kube-controller-manager",
        "kube-scheduler",
        "kwok",
    }
    deadline = time.monotonic() + 10
    while any(_process.pid_alive(p) for p in pids.values()) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [name for name, pid in pids.items() if _process.pid_alive(pid)]
