"""``tether run`` killed with SIGKILL mid-sync (or mid-hook) resumes the operation, writing once."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import pytest
from lightkube.resources.batch_v1 import Job
from lightkube.resources.core_v1 import ConfigMap, Node
from lightkube.types import PatchType

from tests.support import tetherenv

pytestmark = pytest.mark.timeout(150)

OBJECTS = 200
WAVES = 5


def config_maps() -> dict[str, str]:
    files = {}
    for wave in range(WAVES):
        docs = [
            {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {
                    "name": f"cm-{index:03d}",
                    "annotations": {"argocd.argoproj.io/sync-wave": str(wave)},
                },
                "data": {"index": str(index)},
            }
            for index in range(wave, OBJECTS, WAVES)
        ]
        files[f"app/wave-{wave}.yaml"] = tetherenv.yaml_docs(*docs)
    return files


def ours(kube, namespace: str) -> dict[str, Any]:
    return {
        str(o.metadata.name): o
        for o in kube.list(ConfigMap, namespace=namespace)
        if str(o.metadata.name).startswith("cm-")
    }


async def test_a_controller_killed_mid_sync_resumes_it_and_writes_each_object_once(
    full_cluster, full_namespace, tmp_path
):
    tetherenv.install_crds(full_cluster.kubeconfig)
    ns = full_namespace
    repo = tetherenv.serve_repo(tmp_path / "git", config_maps())
    kube = tetherenv.client(full_cluster.kubeconfig)
    logs = tmp_path / "logs"
    logs.mkdir()
    controller = tetherenv.start_controller_process(
        full_cluster.kubeconfig, ns, tmp_path / "cache", logs / "first.log"
    )
    restarted: tetherenv.ControllerProcess | None = None
    try:
        tetherenv.create(kube, tetherenv.application("big", ns, repo.url, "app", ns))
        await tetherenv.eventually(
            lambda: tetherenv.sync_status(kube, ns, "big") == "OutOfSync",
            60,
            "the app compared",
        )
        tetherenv.start_sync(kube, ns, "big", prune=True)

        def part_done():
            state = tetherenv.app_status(kube, ns, "big").get("operationState") or {}
            done = len((state.get("syncResult") or {}).get("resources") or [])
            return state.get("phase") == "Running" and 0 < done < OBJECTS and state

        await tetherenv.eventually(part_done, 60, "the sync part done")
        controller.kill()
        assert "Traceback" not in controller.log()

        app = tetherenv.get(kube, tetherenv.Application, "big", ns)
        assert app.get("operation"), "the operation ended before the kill"
        state = app["status"]["operationState"]
        assert state["phase"] == "Running"
        recorded = {r["name"] for r in state["syncResult"]["resources"]}
        assert 0 < len(recorded) < OBJECTS
        before = {name: o.metadata.resourceVersion for name, o in ours(kube, ns).items()}
        assert 0 < len(before) < OBJECTS
        assert recorded <= set(before)

        restarted = tetherenv.start_controller_process(
            full_cluster.kubeconfig, ns, tmp_path / "cache", logs / "second.log"
        )

        def finished():
            app = tetherenv.get(kube, tetherenv.Application, "big", ns)
            state = (app.get("status") or {}).get("operationState") or {}
            return not app.get("operation") and state.get("phase") != "Running" and app

        app = await tetherenv.eventually(finished, 90, "the resumed sync finished")
        state = app["status"]["operationState"]
        assert state["phase"] == "Succeeded", state["message"]
        assert len(state["syncResult"]["resources"]) == OBJECTS
        assert state["startedAt"] <= state["finishedAt"]
        assert len(app["status"]["history"]) == 1, app["status"]["history"]
        assert app["status"]["history"][0]["revision"] == repo.seed.shas["initial"]

        live = ours(kube, ns)
        assert len(live) == OBJECTS
        for name, obj in live.items():
            entries = [m for m in obj.metadata.managedFields or [] if m.manager == "tether"]
            assert [m.operation for m in entries] == ["Apply"], (name, entries)
            assert obj.data == {"index": str(int(name[3:]))}
        # Objects written before the kill were not written again after the restart.
        after = {name: o.metadata.resourceVersion for name, o in live.items()}
        assert {name: after[name] for name in before} == before

        # Nor later: the restarted controller leaves the synced objects alone.
        await asyncio.sleep(3)
        assert {n: o.metadata.resourceVersion for n, o in ours(kube, ns).items()} == after
        assert "Traceback" not in restarted.log()
    finally:
        controller.kill()
        if restarted is not None:
            restarted.stop()
        repo.server.stop()
        kube.close()


GATED_HOOK = """apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
  annotations: {argocd.argoproj.io/hook: PreSync}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      nodeSelector: {tether.test/hook-gate: open}
      containers: [{name: main, image: busybox, command: ["true"]}]
"""
"""A PreSync hook that waits, Pending, until a test labels a node ``hook-gate=open``."""

AFTER_HOOK = """apiVersion: v1
kind: ConfigMap
metadata: {name: after-hook}
data: {a: "1"}
"""


def uids(kube, kind, namespace: str | None = None) -> dict[str, str]:
    """Each object's name to its uid (a recreated object has a new uid)."""
    listed = kube.list(kind, namespace=namespace) if namespace else kube.list(kind)
    return {str(o.metadata.name): str(o.metadata.uid) for o in listed}


async def test_a_controller_killed_while_a_hook_runs_waits_for_that_hook_and_finishes(
    full_cluster, full_namespace, tmp_path
):
    tetherenv.install_crds(full_cluster.kubeconfig)
    ns = full_namespace
    repo = tetherenv.serve_repo(
        tmp_path / "git", {"app/hook.yaml": GATED_HOOK, "app/cm.yaml": AFTER_HOOK}
    )
    kube = tetherenv.client(full_cluster.kubeconfig)
    logs = tmp_path / "logs"
    logs.mkdir()
    controller = tetherenv.start_controller_process(
        full_cluster.kubeconfig, ns, tmp_path / "cache", logs / "first.log"
    )
    restarted: tetherenv.ControllerProcess | None = None
    gated: list[str] = []
    try:
        tetherenv.create(kube, tetherenv.application("hooked", ns, repo.url, "app", ns))
        await tetherenv.eventually(
            lambda: tetherenv.sync_status(kube, ns, "hooked") == "OutOfSync",
            60,
            "the app compared",
        )
        tetherenv.start_sync(kube, ns, "hooked")

        def hook_running() -> str:
            return uids(kube, Job, ns).get("migrate", "")

        uid = await tetherenv.eventually(hook_running, 60, "the PreSync hook created")
        await asyncio.sleep(1)
        controller.kill()
        assert "Traceback" not in controller.log()
        assert "after-hook" not in uids(kube, ConfigMap, ns)

        restarted = tetherenv.start_controller_process(
            full_cluster.kubeconfig, ns, tmp_path / "cache", logs / "second.log"
        )
        await asyncio.sleep(3)  # the restarted controller sees the running hook and waits on it
        app = tetherenv.get(kube, tetherenv.Application, "hooked", ns)
        assert app["status"]["operationState"]["phase"] == "Running"
        gated.append(sorted(uids(kube, Node))[0])
        kube.patch(
            Node,
            gated[0],
            {"metadata": {"labels": {"tether.test/hook-gate": "open"}}},
            patch_type=PatchType.MERGE,
        )

        app = await tetherenv.eventually(
            lambda: tetherenv.finished_app(kube, ns, "hooked"), 90, "the resumed sync finished"
        )
        state = app["status"]["operationState"]
        assert state["phase"] == "Succeeded", state["message"]
        hooks = [r for r in state["syncResult"]["resources"] if r.get("hookType") == "PreSync"]
        assert [(h["name"], h.get("hookPhase")) for h in hooks] == [("migrate", "Succeeded")]
        # The hook ran once: the restarted controller waited on the same Job, not a new one.
        assert uids(kube, Job, ns).get("migrate", uid) == uid
        assert "after-hook" in uids(kube, ConfigMap, ns)
        assert "Traceback" not in restarted.log()
    finally:
        controller.kill()
        if restarted is not None:
            restarted.stop()
        for name in gated:
            kube.patch(
                Node,
                name,
                {"metadata": {"labels": {"tether.test/hook-gate": None}}},
                patch_type=PatchType.MERGE,
            )
        repo.server.stop()
        kube.close()


async def test_a_sync_killed_again_and_again_still_finishes_once_with_every_object(
    full_cluster, full_namespace, tmp_path
):
    # Kills at seeded random moments land in every part of a step, status writes included: each
    # write is one PATCH that either landed or did not, and the next controller starts from it.
    tetherenv.install_crds(full_cluster.kubeconfig)
    ns = full_namespace
    repo = tetherenv.serve_repo(tmp_path / "git", config_maps())
    kube = tetherenv.client(full_cluster.kubeconfig)
    logs = tmp_path / "logs"
    logs.mkdir()
    chance = random.Random(11)
    controllers = [
        tetherenv.start_controller_process(
            full_cluster.kubeconfig, ns, tmp_path / "cache", logs / "0.log"
        )
    ]
    try:
        tetherenv.create(kube, tetherenv.application("storm", ns, repo.url, "app", ns))
        await tetherenv.eventually(
            lambda: tetherenv.sync_status(kube, ns, "storm") == "OutOfSync",
            60,
            "the app compared",
        )
        tetherenv.start_sync(kube, ns, "storm", prune=True)
        seen = 0
        for kill in range(1, 5):

            def progressed(at_least: int = seen) -> int:
                state = tetherenv.app_status(kube, ns, "storm").get("operationState") or {}
                done = len((state.get("syncResult") or {}).get("resources") or [])
                return done if state.get("phase") == "Running" and done > at_least else 0

            seen = await tetherenv.eventually(progressed, 60, f"progress before kill {kill}")
            await asyncio.sleep(chance.uniform(0.0, 1.5))
            controllers[-1].kill()
            assert "Traceback" not in controllers[-1].log()
            controllers.append(
                tetherenv.start_controller_process(
                    full_cluster.kubeconfig, ns, tmp_path / "cache", logs / f"{kill}.log"
                )
            )
            app = tetherenv.get(kube, tetherenv.Application, "storm", ns)
            if not app.get("operation"):
                break  # finished before this kill

        app = await tetherenv.eventually(
            lambda: tetherenv.finished_app(kube, ns, "storm"),
            120,
            "the sync finished after the kills",
        )
        state = app["status"]["operationState"]
        assert state["phase"] == "Succeeded", state["message"]
        assert len(state["syncResult"]["resources"]) == OBJECTS
        assert len(app["status"]["history"]) == 1, app["status"]["history"]
        live = ours(kube, ns)
        assert len(live) == OBJECTS
        for name, obj in live.items():
            assert obj.data == {"index": str(int(name[3:]))}
        assert "Traceback" not in controllers[-1].log()
    finally:
        for controller in controllers[:-1]:
            controller.kill()
        controllers[-1].stop()
        repo.server.stop()
        kube.close()
