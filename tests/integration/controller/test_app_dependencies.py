"""Dependencies between apps (``tether.dev/depends-on``): syncs wait, in order; cycles refused."""

from __future__ import annotations

import asyncio
import functools
from typing import Any

import pytest
from click.testing import CliRunner
from lightkube.resources.core_v1 import ConfigMap

from tests.support import tetherenv
from tether.cli.main import cli

pytestmark = pytest.mark.timeout(150)

DEPENDS_ON = "tether.dev/depends-on"

CM = """apiVersion: v1
kind: ConfigMap
metadata: {name: %s}
data: {a: "1"}
"""

DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata: {name: %s}
spec:
  replicas: 1
  minReadySeconds: 3  # kwok readies a Pod at once: this keeps the app Progressing a while
  selector: {matchLabels: {app: %s}}
  template:
    metadata: {labels: {app: %s}}
    spec:
      containers: [{name: web, image: nginx}]
"""


def app(name: str, ns: str, url: str, depends_on: str | None, **spec: Any) -> dict[str, Any]:
    body = tetherenv.application(name, ns, url, name, ns, **spec)
    if depends_on is not None:
        body["metadata"]["annotations"] = {DEPENDS_ON: depends_on}
    return body


def condition(status: dict[str, Any], kind: str) -> str | None:
    found = [c.get("message") for c in status.get("conditions") or [] if c.get("type") == kind]
    return found[0] if found else None


def out_of_sync(kube: Any, ns: str, name: str) -> bool:
    return tetherenv.sync_status(kube, ns, name) == "OutOfSync"


def state_of(kube: Any, ns: str, name: str) -> dict[str, Any]:
    return dict(tetherenv.app_status(kube, ns, name).get("operationState") or {})


async def test_a_chain_syncs_in_order_each_app_waiting_until_its_dependency_is_synced_and_healthy(
    crds, full_namespace, tmp_path
):
    ns = full_namespace
    kube = tetherenv.client(crds.kubeconfig)
    repo = tetherenv.serve_repo(
        tmp_path / "git",
        {
            "a/deploy.yaml": DEPLOYMENT % ("a", "a", "a"),
            "b/deploy.yaml": DEPLOYMENT % ("b", "b", "b"),
            "c/cm.yaml": CM % "c",
        },
    )
    auto: dict[str, Any] = {"syncPolicy": {"automated": {}}}
    try:
        async with tetherenv.running_controller(crds.kubeconfig, ns, tmp_path / "cache"):
            # The dependents first: nothing they hold may be applied before a is ready.
            tetherenv.create(kube, app("c", ns, repo.url, "b", **auto))
            tetherenv.create(kube, app("b", ns, repo.url, "a", **auto))

            def waiting(name: str, on: str) -> dict[str, Any] | None:
                status = tetherenv.app_status(kube, ns, name)
                state = status.get("operationState") or {}
                message = str(state.get("message") or "")
                shown = condition(status, "DependencyWarning") or ""
                if state.get("phase") == "Running" and message.startswith(f"Waiting for {on} ("):
                    return status if shown.startswith(f"Waiting for {on} (") else None
                return None

            await tetherenv.eventually(lambda: waiting("b", "a"), 60, "b waiting for a")
            await tetherenv.eventually(lambda: waiting("c", "b"), 60, "c waiting for b")
            assert not tetherenv.exists(kube, ConfigMap, "c", ns)

            tetherenv.create(kube, app("a", ns, repo.url, None, **auto))
            for name in ("a", "b", "c"):
                await tetherenv.eventually(
                    functools.partial(tetherenv.synced_healthy, kube, ns, name), 90, name
                )
            states = {name: state_of(kube, ns, name) for name in ("a", "b", "c")}
        assert all(s["phase"] == "Succeeded" for s in states.values()), states
        # Each waited for the one before to be Healthy (its Deployment's minReadySeconds).
        assert states["a"]["finishedAt"] < states["b"]["finishedAt"] < states["c"]["finishedAt"]
        for name in ("b", "c"):
            assert condition(tetherenv.app_status(kube, ns, name), "DependencyWarning") is None
        # tether app get draws the graph around b, each neighbour with its status.
        shown = await asyncio.to_thread(
            CliRunner().invoke,
            cli,
            ["app", "get", "b", "-n", ns, "--kubeconfig", str(crds.kubeconfig)],
        )
        assert shown.exit_code == 0, shown.output
        graph = shown.output.split("DEPENDENCIES:\n", 1)[1].splitlines()[:3]
        assert [line.split() for line in graph] == [
            ["APP", "SYNC", "HEALTH", "STATE"],
            ["waits", "for", "a", "Synced", "Healthy", "ready"],
            ["needed", "by", "c", "Synced", "Healthy"],
        ]
    finally:
        repo.server.stop()
        kube.close()


async def test_a_dependency_cycle_is_refused_with_a_condition_naming_it_and_nothing_applied(
    crds, full_namespace, tmp_path
):
    ns = full_namespace
    kube = tetherenv.client(crds.kubeconfig)
    repo = tetherenv.serve_repo(tmp_path / "git", {"a/cm.yaml": CM % "a", "b/cm.yaml": CM % "b"})
    auto: dict[str, Any] = {"syncPolicy": {"automated": {}}}
    try:
        async with tetherenv.running_controller(crds.kubeconfig, ns, tmp_path / "cache"):
            tetherenv.create(kube, app("a", ns, repo.url, "b", **auto))
            tetherenv.create(kube, app("b", ns, repo.url, "a", **auto))

            def refused(name: str) -> dict[str, Any] | None:
                status = tetherenv.app_status(kube, ns, name)
                state = status.get("operationState") or {}
                return status if state.get("phase") == "Error" else None

            a = await tetherenv.eventually(lambda: refused("a"), 60, "a refused")
            b = await tetherenv.eventually(lambda: refused("b"), 60, "b refused")
        assert a["operationState"]["message"] == "dependency cycle: a -> b -> a"
        assert b["operationState"]["message"] == "dependency cycle: b -> a -> b"
        assert condition(a, "DependencyError") == "dependency cycle: a -> b -> a"
        assert condition(b, "DependencyError") == "dependency cycle: b -> a -> b"
        assert not tetherenv.exists(kube, ConfigMap, "a", ns)
        assert not tetherenv.exists(kube, ConfigMap, "b", ns)
    finally:
        repo.server.stop()
        kube.close()


async def test_a_manual_sync_of_a_dependent_waits_for_its_dependency_then_runs(
    crds, full_namespace, tmp_path
):
    ns = full_namespace
    kube = tetherenv.client(crds.kubeconfig)
    repo = tetherenv.serve_repo(
        tmp_path / "git", {"db/cm.yaml": CM % "db", "web/cm.yaml": CM % "web"}
    )
    try:
        async with tetherenv.running_controller(crds.kubeconfig, ns, tmp_path / "cache"):
            tetherenv.create(kube, app("db", ns, repo.url, None))
            tetherenv.create(kube, app("web", ns, repo.url, "db"))
            for name in ("db", "web"):
                await tetherenv.eventually(
                    functools.partial(out_of_sync, kube, ns, name), 60, f"{name} compared"
                )
            tetherenv.start_sync(kube, ns, "web")

            def waiting() -> dict[str, Any] | None:
                status = tetherenv.app_status(kube, ns, "web")
                state = status.get("operationState") or {}
                held = state.get("phase") == "Running" and condition(status, "DependencyWarning")
                return status if held else None

            status = await tetherenv.eventually(waiting, 30, "web waiting for db")
            assert status["operationState"]["message"] == "Waiting for db (OutOfSync, Missing)"
            assert not tetherenv.exists(kube, ConfigMap, "web", ns)

            tetherenv.start_sync(kube, ns, "db")
            done = await tetherenv.eventually(
                lambda: tetherenv.finished_app(kube, ns, "web"), 60, "web synced"
            )
        assert done["status"]["operationState"]["phase"] == "Succeeded", done["status"]
        assert condition(done["status"], "DependencyWarning") is None
        assert tetherenv.exists(kube, ConfigMap, "web", ns)
        db = state_of(kube, ns, "db")
        assert db["finishedAt"] <= done["status"]["operationState"]["finishedAt"]
    finally:
        repo.server.stop()
        kube.close()
