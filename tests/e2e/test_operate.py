"""Operating `tether run`: JSON logs, the probes and Argo CD's metrics, read as a platform would."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support import tetherenv
from tether.controller import collector

pytestmark = pytest.mark.timeout(180)

CM = """apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {color: blue}
"""

IN_CLUSTER = "https://kubernetes.default.svc"


def json_lines(text: str) -> list[dict[str, Any]]:
    """Every line of the log as JSON; a line that is not JSON fails the test, named."""
    lines = []
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            lines.append(json.loads(line))
        except json.JSONDecodeError:
            raise AssertionError(f"not a JSON log line: {line!r}") from None
    return lines


def lines_with(lines: list[dict[str, Any]], prefix: str) -> list[dict[str, Any]]:
    return [line for line in lines if str(line["msg"]).startswith(prefix)]


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode()


def samples(text: str) -> list[tuple[str, dict[str, str], float]]:
    return [
        (sample.name, dict(sample.labels), sample.value)
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    ]


def one(found: list[tuple[str, dict[str, str], float]], metric: str, **labels: str) -> float:
    """The value of the sample ``metric`` whose labels include ``labels`` (summed when many)."""
    matching = [
        value
        for sample, have, value in found
        if sample == metric and all(have.get(k) == v for k, v in labels.items())
    ]
    assert matching, f"no {metric} with {labels}; have: {[s for s in found if s[0] == metric]}"
    return sum(matching)


async def test_run_logs_json_lines_answers_probes_and_exports_argo_cd_metrics(
    kube_cluster, namespace, tmp_path
):
    tetherenv.install_crds(kube_cluster.kubeconfig)
    ns = namespace
    repo = tetherenv.serve_repo(tmp_path / "git", {"app/cm.yaml": CM})
    kube = tetherenv.client(kube_cluster.kubeconfig)
    controller = tetherenv.start_controller_process(
        kube_cluster.kubeconfig,
        ns,
        tmp_path / "cache",
        tmp_path / "run.log",
        extra_args=("--log-format", "json"),
    )
    try:
        tetherenv.create(
            kube,
            tetherenv.application(
                "logged", ns, repo.url, "app", ns, syncPolicy={"automated": {"prune": True}}
            ),
        )
        await tetherenv.eventually(
            lambda: tetherenv.synced_healthy(kube, ns, "logged"), 90, "Synced and Healthy"
        )
        await tetherenv.eventually(
            lambda: lines_with(json_lines(controller.log()), "sync finished"), 30, "finished"
        )
        lines = json_lines(controller.log())
        for line in lines:
            assert {"time", "level", "logger", "msg"} <= line.keys(), line

        (startup,) = lines_with(lines, "tether controller starting")
        assert startup["level"] == "info"
        assert startup["namespaces"] == [ns]
        assert startup["leader_election"] is False
        assert startup["rendering"] == "in-process"
        assert startup["api"] == "127.0.0.1:0"
        assert lines_with(lines, "reconciling ")[0]["clusters"] == [f"in-cluster ({IN_CLUSTER})"]

        revision = tetherenv.app_status(kube, ns, "logged")["sync"]["revision"]
        (started,) = lines_with(lines, "sync started")
        assert (started["app"], started["namespace"]) == ("logged", ns)
        assert started["revision"] == revision
        assert started["initiator"] == "automated"
        waves = lines_with(lines, f"sync {ns}/logged: phase")
        assert [(w["phase"], w["wave"]) for w in waves] == [("Sync", 0)]
        (finished,) = lines_with(lines, "sync finished")
        assert (finished["app"], finished["phase"]) == ("logged", "Succeeded")
        assert isinstance(finished["duration_s"], float) and finished["duration_s"] >= 0
        assert finished["detail"]

        (serving,) = lines_with(lines, "serving /metrics")
        base = serving["metrics"]
        assert get(f"{base}/healthz") == (200, "ok\n")
        assert get(f"{base}/readyz") == (200, "reconciling\n")

        status, text = get(f"{base}/metrics")
        assert status == 200
        found = samples(text)
        assert (
            one(
                found,
                "argocd_app_info",
                namespace=ns,
                name="logged",
                project="default",
                autosync_enabled="true",
                repo=repo.url,
                dest_server=IN_CLUSTER,
                dest_namespace=ns,
                sync_status="Synced",
                health_status="Healthy",
                operation="",
            )
            == 1
        )
        assert (
            one(
                found,
                "argocd_app_sync_total",
                namespace=ns,
                name="logged",
                project="default",
                dest_server=IN_CLUSTER,
                phase="Succeeded",
                dry_run="false",
            )
            == 1
        )
        assert one(found, "argocd_app_reconcile_count", namespace=ns, dest_server=IN_CLUSTER) >= 2
        # The ConfigMap's write counts for the app; the caches' watches for none.
        assert (
            one(
                found,
                "argocd_app_k8s_request_total",
                namespace=ns,
                name="logged",
                project="default",
                server=IN_CLUSTER,
                resource_kind="ConfigMap",
                resource_namespace=ns,
                dry_run="false",
                verb="apply",
            )
            >= 1
        )
        assert one(found, "argocd_app_k8s_request_total", name="", verb="watch") >= 1
        assert one(found, "argocd_git_request_total", repo=repo.url, request_type="ls-remote") >= 1
        assert one(found, "argocd_git_request_total", repo=repo.url, request_type="fetch") >= 1
        assert (
            one(
                found,
                "argocd_git_request_duration_seconds_count",
                repo=repo.url,
                request_type="fetch",
            )
            >= 1
        )
        version = tetherenv.KUBE_VERSION  # the API server's, as Argo CD labels it
        assert (
            one(
                found,
                "argocd_cluster_info",
                server=IN_CLUSTER,
                name="in-cluster",
                k8s_version=version,
            )
            == 1
        )
        assert one(found, "argocd_cluster_api_resource_objects", server=IN_CLUSTER) > 0
        assert one(found, "argocd_cluster_api_resources", server=IN_CLUSTER) > 0
        assert one(found, "argocd_cluster_cache_age_seconds", server=IN_CLUSTER) >= 0
        assert (
            one(found, "argocd_cluster_connection_status", server=IN_CLUSTER, k8s_version=version)
            == 1
        )
        # The list the shipped dashboard and alerts are checked against is what is exported.
        exported = {family.name for family in text_string_to_metric_families(text)}
        assert {name.removesuffix("_total") for name in collector.FAMILIES} <= exported
        # No label names a managed object.
        for _, labels, _ in found:
            assert "settings" not in labels.values()
    finally:
        controller.stop()
        repo.server.stop()
        kube.close()
    assert "Traceback" not in controller.log()
