"""Faults mid-flight: Git gone, the API server restarted. Unknown state never deletes anything.

An app whose Git is unreachable keeps what it has, says why, and refuses a pruning sync; an API
server restart in the middle of a sync loses no object and no step of the operation.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from lightkube.resources.core_v1 import ConfigMap

from tests.support import tetherenv

pytestmark = pytest.mark.timeout(180)

CM = """apiVersion: v1
kind: ConfigMap
metadata: {name: %s}
data: {color: %s}
"""


@pytest.fixture
def fault_namespace(crds) -> Iterator[str]:
    with tetherenv.fresh_namespace(crds.kubeconfig, "t-faults") as name:
        yield name


def config_maps(kube, namespace: str) -> dict[str, dict[str, str]]:
    return {
        str(o.metadata.name): dict(o.data or {})
        for o in kube.list(ConfigMap, namespace=namespace)
        if o.metadata.name != "kube-root-ca.crt"
    }


def conditions(kube, namespace: str, name: str) -> list[dict[str, Any]]:
    return list(tetherenv.app_status(kube, namespace, name).get("conditions") or [])


async def test_while_git_is_unreachable_an_auto_pruning_app_deletes_nothing_and_says_why(
    crds, fault_namespace, tmp_path
):
    ns = fault_namespace
    repo = tetherenv.serve_repo(
        tmp_path / "git", {"app/a.yaml": CM % ("a", "blue"), "app/b.yaml": CM % ("b", "green")}
    )
    kube = tetherenv.client(crds.kubeconfig)
    policy = {"automated": {"prune": True, "selfHeal": True}}
    try:
        tetherenv.create(
            kube, tetherenv.application("steady", ns, repo.url, "app", ns, syncPolicy=policy)
        )
        async with tetherenv.running_controller(crds.kubeconfig, ns, tmp_path / "cache"):
            await tetherenv.eventually(
                lambda: tetherenv.synced_healthy(kube, ns, "steady"), 60, "Synced"
            )
            synced = config_maps(kube, ns)
            assert set(synced) == {"a", "b"}

            repo.server.stop()
            tetherenv.patch_app(
                kube,
                ns,
                "steady",
                {"metadata": {"annotations": {"argocd.argoproj.io/refresh": "hard"}}},
            )

            def git_error() -> str:
                found = [
                    c for c in conditions(kube, ns, "steady") if c["type"] == "ComparisonError"
                ]
                return found[0]["message"] if found else ""

            message = await tetherenv.eventually(git_error, 60, "a ComparisonError condition")
            assert f"repository '{repo.url}'" in message and "unreachable" in message

            # A user asks for a pruning sync: it fails with the reason, and deletes nothing.
            tetherenv.start_sync(kube, ns, "steady", prune=True)

            def finished() -> dict[str, Any] | None:
                app = tetherenv.finished_app(kube, ns, "steady")
                return app["status"]["operationState"] if app else None

            state = await tetherenv.eventually(finished, 60, "the sync ended")
            assert state["phase"] == "Error", state
            assert state["message"].startswith("refusing to sync: the desired state could not")
            assert state["message"].endswith(message), state["message"]
            # Several resync periods pass with Git still away.
            await asyncio.sleep(8)
            assert config_maps(kube, ns) == synced

            # Git back, with b removed: now, and only now, b is pruned.
            repo.commit({"app/b.yaml": None})
            repo.server.start()

            def b_pruned() -> bool:
                return set(config_maps(kube, ns)) == {"a"}

            await tetherenv.eventually(b_pruned, 90, "b pruned once Git answers again")
            await tetherenv.eventually(
                lambda: (
                    tetherenv.synced_healthy(kube, ns, "steady")
                    and not git_error()
                    and tetherenv.synced_healthy(kube, ns, "steady")
                ),
                60,
                "Synced without the condition",
            )
    finally:
        repo.server.stop()
        kube.close()


OBJECTS = 120
WAVES = 4


def waved_config_maps(version: int = 0) -> dict[str, str]:
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
                "data": {"index": str(index), **({"version": str(version)} if version else {})},
            }
            for index in range(wave, OBJECTS, WAVES)
        ]
        files[f"app/wave-{wave}.yaml"] = tetherenv.yaml_docs(*docs)
    return files


async def test_an_apiserver_restart_in_the_middle_of_a_sync_loses_no_object_and_no_step(
    crds, fault_namespace, tmp_path
):
    ns = fault_namespace
    repo = tetherenv.serve_repo(tmp_path / "git", waved_config_maps())
    kube = tetherenv.client(crds.kubeconfig)
    try:
        tetherenv.create(kube, tetherenv.application("waves", ns, repo.url, "app", ns))
        async with tetherenv.running_controller(
            crds.kubeconfig, ns, tmp_path / "cache"
        ) as controller:
            await tetherenv.eventually(
                lambda: tetherenv.sync_status(kube, ns, "waves") == "OutOfSync",
                60,
                "the app compared",
            )
            tetherenv.start_sync(kube, ns, "waves")

            def part_done() -> bool:
                state = tetherenv.app_status(kube, ns, "waves").get("operationState") or {}
                done = len((state.get("syncResult") or {}).get("resources") or [])
                return state.get("phase") == "Running" and 0 < done < OBJECTS

            await tetherenv.eventually(part_done, 60, "the sync part done")
            kube.close()
            await tetherenv.restart_apiserver(crds.directory)
            kube = tetherenv.client(crds.kubeconfig)
            assert not controller.done()

            app = await tetherenv.eventually(
                lambda: tetherenv.finished_app(kube, ns, "waves"),
                120,
                "the sync finished after the restart",
            )
            state = app["status"]["operationState"]
            assert state["phase"] == "Succeeded", state.get("message")
            assert len(state["syncResult"]["resources"]) == OBJECTS
            assert len(app["status"]["history"]) == 1, app["status"]["history"]
            live = config_maps(kube, ns)
            assert len(live) == OBJECTS
            assert all(data == {"index": str(int(name[3:]))} for name, data in live.items())
            assert not controller.done()
    finally:
        repo.server.stop()
        kube.close()


async def test_git_going_away_in_the_middle_of_a_sync_prunes_only_what_the_pinned_commit_removed(
    crds, fault_namespace, tmp_path
):
    # A sync pins its commit at the start; its render is cached by that commit, so Git going
    # away mid-sync changes nothing: the sync ends as it would have, pruning exactly what the
    # pinned commit no longer has, and nothing because Git is unknown.
    ns = fault_namespace
    stale = CM % ("stale", "grey")
    repo = tetherenv.serve_repo(tmp_path / "git", {**waved_config_maps(), "app/stale.yaml": stale})
    kube = tetherenv.client(crds.kubeconfig)
    try:
        tetherenv.create(kube, tetherenv.application("pinned", ns, repo.url, "app", ns))
        async with tetherenv.running_controller(crds.kubeconfig, ns, tmp_path / "cache"):
            await tetherenv.eventually(
                lambda: tetherenv.sync_status(kube, ns, "pinned") == "OutOfSync",
                60,
                "compared",
            )
            tetherenv.start_sync(kube, ns, "pinned")
            await tetherenv.eventually(
                lambda: tetherenv.synced_healthy(kube, ns, "pinned"), 90, "first sync"
            )
            second = repo.commit({**waved_config_maps(version=2), "app/stale.yaml": None})
            tetherenv.patch_app(
                kube,
                ns,
                "pinned",
                {"metadata": {"annotations": {"argocd.argoproj.io/refresh": "hard"}}},
            )
            await tetherenv.eventually(
                lambda: (
                    tetherenv.app_status(kube, ns, "pinned").get("sync", {}).get("revision")
                    == second
                ),
                60,
                "the second commit compared",
            )
            tetherenv.start_sync(kube, ns, "pinned", prune=True)

            def part_done() -> bool:
                state = tetherenv.app_status(kube, ns, "pinned").get("operationState") or {}
                done = len((state.get("syncResult") or {}).get("resources") or [])
                return state.get("phase") == "Running" and 0 < done < OBJECTS

            await tetherenv.eventually(part_done, 60, "the sync part done")
            repo.server.stop()

            def finished() -> dict[str, Any] | None:
                app = tetherenv.finished_app(kube, ns, "pinned")
                return app["status"]["operationState"] if app else None

            state = await tetherenv.eventually(finished, 90, "the sync finished without Git")
        assert state["phase"] == "Succeeded", state.get("message")
        assert state["syncResult"]["revision"] == second
        live = config_maps(kube, ns)
        assert "stale" not in live
        assert len(live) == OBJECTS
        assert all(data.get("version") == "2" for data in live.values())
    finally:
        repo.server.stop()
        kube.close()
