"""An app naming an unknown cluster is refused, not applied to the cluster tether runs in."""

from __future__ import annotations

import asyncio
import functools

import pytest
from lightkube.resources.core_v1 import ConfigMap

from tests.support import tetherenv

pytestmark = pytest.mark.timeout(120)

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: elsewhere}\n"


def config_map_names(kube, namespace: str) -> set[str]:
    return {str(o.metadata.name) for o in kube.list(ConfigMap, namespace=namespace)}


async def test_an_app_for_an_unknown_cluster_gets_an_invalid_spec_error_and_nothing_is_applied(
    crds, full_namespace, tmp_path
):
    ns = full_namespace
    repo = tetherenv.serve_repo(tmp_path / "git", {"app/cm.yaml": CM})
    kube = tetherenv.client(crds.kubeconfig)
    try:
        app = tetherenv.application(
            "remote", ns, repo.url, "app", ns, syncPolicy={"automated": {"prune": True}}
        )
        app["spec"]["destination"]["server"] = "https://prod.example:6443"
        tetherenv.create(kube, app)
        async with tetherenv.running_controller(crds.kubeconfig, ns, tmp_path / "cache"):

            def refused() -> str:
                conditions = tetherenv.app_status(kube, ns, "remote").get("conditions") or []
                found = [c["message"] for c in conditions if c["type"] == "InvalidSpecError"]
                return found[0] if found else ""

            message = await tetherenv.eventually(refused, 60, "an InvalidSpecError")
            await asyncio.sleep(4)  # an automated sync would have applied by now
        assert "spec.destination.server 'https://prod.example:6443' is no known cluster" in message
        assert "elsewhere" not in config_map_names(kube, ns)
    finally:
        repo.server.stop()
        kube.close()


async def test_the_cluster_tether_runs_in_is_a_destination_by_url_or_by_name(
    crds, full_namespace, tmp_path
):
    ns = full_namespace
    files = {f"{name}/cm.yaml": CM.replace("elsewhere", name) for name in ("by-url", "by-name")}
    repo = tetherenv.serve_repo(tmp_path / "git", files)
    kube = tetherenv.client(crds.kubeconfig)
    try:
        by_url = tetherenv.application(
            "by-url", ns, repo.url, "by-url", ns, syncPolicy={"automated": {}}
        )
        by_name = tetherenv.application(
            "by-name", ns, repo.url, "by-name", ns, syncPolicy={"automated": {}}
        )
        by_name["spec"]["destination"] = {"name": "in-cluster", "namespace": ns}
        for app in (by_url, by_name):
            tetherenv.create(kube, app)
        async with tetherenv.running_controller(crds.kubeconfig, ns, tmp_path / "cache"):
            for name in ("by-url", "by-name"):
                synced = functools.partial(tetherenv.synced_healthy, kube, ns, name)
                await tetherenv.eventually(synced, 60, f"{name} Synced")
        assert {"by-url", "by-name"} <= config_map_names(kube, ns)
    finally:
        repo.server.stop()
        kube.close()
