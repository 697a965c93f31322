"""``tether preview --cluster``: the head render compared with a real control plane, server-side."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import ConfigMap, Secret

from tests.support import tetherenv
from tests.support.gitservers import SeedRepo
from tether import bootstrap
from tether.cli.main import cli

from .conftest import app, config_map

pytestmark = [pytest.mark.tools, pytest.mark.cluster, pytest.mark.timeout(120)]

SECRET = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\nstringData:\n  token: {}\n"


def _tracked(kind: str, name: str, namespace: str) -> ObjectMeta:
    tracking = f"{namespace}:/{kind}:{namespace}/{name}"
    return ObjectMeta(
        name=name,
        namespace=namespace,
        annotations={"argocd.argoproj.io/tracking-id": tracking},
    )


def test_the_cluster_mode_shows_the_head_render_against_the_live_objects_secrets_masked(
    repo: SeedRepo, kube_cluster: bootstrap.DevCluster, namespace: str
) -> None:
    kube = tetherenv.client(kube_cluster.kubeconfig)
    try:
        # As a sync of the app (named as the namespace) left them: tracked as its own.
        kube.create(ConfigMap(metadata=_tracked("ConfigMap", "web", namespace), data={"v": "1"}))
        kube.create(
            Secret(
                metadata=_tracked("Secret", "creds", namespace),
                stringData={"token": "live-secret-value"},
            )
        )
    finally:
        kube.close()
    manifest = app(namespace, "web")
    repo.commit(
        "base",
        {
            "apps/web.yaml": manifest,
            "web/cm.yaml": config_map("web", v="1"),
            "web/secret.yaml": SECRET.format("base-secret-value"),
        },
    )
    repo.commit(
        "head",
        {"web/cm.yaml": config_map("web", v="2"), "web/secret.yaml": SECRET.format("head-secret")},
    )

    result = CliRunner().invoke(
        cli,
        [
            "preview",
            "--base",
            repo.shas["base"],
            "--head",
            repo.shas["head"],
            "--repo-root",
            str(repo.work),
            "-o",
            "json",
            "--cluster",
            "--kubeconfig",
            str(kube_cluster.kubeconfig),
        ],
        catch_exceptions=False,
    )

    assert result.exit_code == 0, result.output
    (entry,) = json.loads(result.stdout)["apps"]
    assert entry["outcome"] == "changed"
    assert "clusterError" not in entry, entry
    assert "-  v: '1'" in entry["cluster"] and "+  v: '2'" in entry["cluster"]
    for value in ("live-secret-value", "base-secret-value", "head-secret"):
        assert value not in result.stdout
