"""Server-side diff on the real API server: defaults never drift, changes do, Secrets hidden."""

from __future__ import annotations

import asyncio
import base64

import pytest
import yaml

from tests.support import tetherenv
from tether import bootstrap
from tether.model.application import parse_application
from tether.model.project import default_project, parse_project
from tether.model.status import SyncStatus
from tether.settings import Settings

pytestmark = pytest.mark.timeout(120)

DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: "nginx:%s"}]
"""
SECRET = """apiVersion: v1
kind: Secret
metadata: {name: creds}
stringData: {password: %s}
"""


async def compare(rt, namespace, repo_url):
    app = parse_application(tetherenv.application("web", namespace, repo_url, "app", namespace))
    return await rt.comparer.compare(app, parse_project(default_project(namespace)))


@pytest.fixture
async def runtime_for(kube_cluster, namespace, tmp_path):
    settings = Settings(
        app_namespaces=(namespace,), cache_dir=str(tmp_path / "cache"), freeze_gc=False
    )
    async with await bootstrap.runtime(settings, kubeconfig=kube_cluster.kubeconfig) as rt:
        await rt.live.wait_synced(60)
        yield rt


async def test_defaults_filled_in_by_the_server_do_not_show_as_drift(
    runtime_for, namespace, tmp_path
):
    rt = runtime_for
    repo = tetherenv.serve_repo(
        tmp_path / "git",
        {"app/deploy.yaml": DEPLOYMENT % "1.27", "app/secret.yaml": SECRET % "hunter2"},
    )
    try:
        first = await compare(rt, namespace, repo.url)
        assert first.sync_status is SyncStatus.OUT_OF_SYNC  # nothing exists yet
        for obj in first.desired:
            await rt.cluster.apply(obj, field_manager="tether")
        live_deploy = await rt.cluster.get("apps/v1", "Deployment", "web", namespace)
        assert live_deploy is not None
        # The server filled in dozens of defaults the manifest never mentions.
        spec = live_deploy["spec"]
        assert spec["strategy"]["type"] == "RollingUpdate"
        assert spec["template"]["spec"]["containers"][0]["terminationMessagePath"]

        async def settled():
            comparison = await compare(rt, namespace, repo.url)
            return comparison if all(r.live is not None for r in comparison.resources) else None

        comparison = None
        for _ in range(50):  # the watch delivers the applied objects within moments
            comparison = await settled()
            if comparison:
                break
            await asyncio.sleep(0.1)
        assert comparison is not None
        statuses = {r.key.kind: r.status.status for r in comparison.resources}
        assert statuses == {"Deployment": SyncStatus.SYNCED, "Secret": SyncStatus.SYNCED}
        assert comparison.sync_status is SyncStatus.SYNCED

        # A changed image is OutOfSync with a one-line change in the diff.
        repo.commit(
            {"app/deploy.yaml": DEPLOYMENT % "1.28", "app/secret.yaml": SECRET % "correct-horse"}
        )
        changed = await rt.comparer.compare(
            parse_application(tetherenv.application("web", namespace, repo.url, "app", namespace)),
            parse_project(default_project(namespace)),
            hard=True,
        )
        by_kind = {r.key.kind: r for r in changed.resources}
        deploy = by_kind["Deployment"]
        assert deploy.status.status is SyncStatus.OUT_OF_SYNC
        changed_lines = [
            line
            for line in deploy.difference.text.splitlines()
            if line[:1] in "+-" and not line.startswith(("+++", "---"))
        ]
        assert changed_lines == ["-      - image: nginx:1.27", "+      - image: nginx:1.28"] or (
            len(changed_lines) == 2 and "1.27" in changed_lines[0] and "1.28" in changed_lines[1]
        )

        # The Secret changed too, and no output shows a value, plain or base64.
        secret = by_kind["Secret"]
        assert secret.status.status is SyncStatus.OUT_OF_SYNC
        outputs = [
            secret.difference.text,
            yaml.safe_dump(list(secret.difference.patch)),
            yaml.safe_dump(secret.difference.normalized_live),
            yaml.safe_dump(secret.difference.predicted_live),
        ]
        for value in ("hunter2", "correct-horse"):
            encoded = base64.b64encode(value.encode()).decode()
            for text in outputs:
                assert value not in text and encoded not in text
        assert "++++" in secret.difference.text
    finally:
        repo.server.stop()
