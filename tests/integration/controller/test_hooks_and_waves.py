"""The controller runs hooks and waves in order, and a failing PreSync hook stops the sync."""

from __future__ import annotations

import asyncio
import datetime
from typing import Any

import pytest
from lightkube import ApiError
from lightkube.resources.batch_v1 import Job
from lightkube.resources.core_v1 import ConfigMap

from tests.support import tetherenv

pytestmark = pytest.mark.timeout(90)

CM = """apiVersion: v1
kind: ConfigMap
metadata:
  name: %s
  annotations: {argocd.argoproj.io/sync-wave: "%d"}
data: {a: "1"}
"""

JOB = """apiVersion: batch/v1
kind: Job
metadata:
  name: %s
  annotations: {argocd.argoproj.io/hook: %s}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers: [{name: main, image: busybox, command: ["true"]}]
"""

# A Job that fails for real: its Pod can never be scheduled, and the Job controller fails the
# Job once its deadline passes (kwok completes every Pod that runs, so none would fail).
FAILING_JOB = """apiVersion: batch/v1
kind: Job
metadata:
  name: pre
  annotations: {argocd.argoproj.io/hook: PreSync}
spec:
  backoffLimit: 0
  activeDeadlineSeconds: 2
  template:
    spec:
      restartPolicy: Never
      nodeSelector: {tether.test/no-such-node: "true"}
      containers: [{name: main, image: busybox, command: ["true"]}]
"""


def snapshot(kube, namespace: str) -> tuple[set[str], dict[str, bool], set[str]]:
    """ConfigMap names, then Jobs (name to completed), then ConfigMap names again.

    Lists in this order let one snapshot prove orders: a ConfigMap in the first list existed
    before the Job list was taken, and a Job in that list existed before the last ConfigMap list.
    """
    before = {str(o.metadata.name) for o in kube.list(ConfigMap, namespace=namespace)}
    jobs = {
        str(o.metadata.name): bool(o.status and o.status.succeeded)
        for o in kube.list(Job, namespace=namespace)
    }
    after = {str(o.metadata.name) for o in kube.list(ConfigMap, namespace=namespace)}
    return before, jobs, after


async def record(kube, namespace: str, into: list[Any], stop: asyncio.Event) -> None:
    while not stop.is_set():
        into.append(await asyncio.to_thread(snapshot, kube, namespace))
        await asyncio.sleep(0.05)


async def test_a_presync_hook_waves_and_a_postsync_hook_run_in_order(
    crds, full_namespace, tmp_path
):
    repo = tetherenv.serve_repo(
        tmp_path / "git",
        {
            "app/pre.yaml": JOB % ("pre", "PreSync"),
            "app/wave0.yaml": CM % ("wave0", 0),
            "app/wave1.yaml": CM % ("wave1", 1),
            "app/post.yaml": JOB % ("post", "PostSync"),
        },
    )
    kube = tetherenv.client(crds.kubeconfig)
    snapshots: list[Any] = []
    stop = asyncio.Event()
    recorder = asyncio.create_task(record(kube, full_namespace, snapshots, stop))
    try:
        tetherenv.create(
            kube,
            tetherenv.application(
                "ordered",
                full_namespace,
                repo.url,
                "app",
                full_namespace,
                syncPolicy={"automated": {}, "retry": {"limit": 0}},
            ),
        )
        async with tetherenv.running_controller(
            crds.kubeconfig, full_namespace, tmp_path / "cache", resync_s=300.0
        ):

            def succeeded():
                state = tetherenv.app_status(kube, full_namespace, "ordered").get("operationState")
                return state if state and state.get("phase") in ("Succeeded", "Failed") else None

            state = await tetherenv.eventually(succeeded, 75, "the sync finished")
        stop.set()
        await recorder
        assert state["phase"] == "Succeeded", state["message"]
        results = {r["name"]: r for r in state["syncResult"]["resources"]}
        assert results["pre"]["hookType"] == "PreSync"
        assert results["pre"]["hookPhase"] == "Succeeded"
        assert results["post"]["hookType"] == "PostSync"
        assert results["post"]["hookPhase"] == "Succeeded"
        assert results["wave0"]["status"] == results["wave1"]["status"] == "Synced"

        snapshots.append(snapshot(kube, full_namespace))
        first: dict[str, int] = {}
        for index, (before, jobs, after) in enumerate(snapshots):
            for name in (*before, *jobs, *after):
                first.setdefault(name, index)
            if "wave0" in before:
                assert jobs.get("pre"), "wave 0 was created before the PreSync hook completed"
            if "wave1" in before:
                assert "wave0" in before, "wave 1 was created before wave 0"
            if "post" in jobs:
                assert "wave1" in after, "the PostSync hook was created before wave 1"
        assert first["pre"] <= first["wave0"] <= first["wave1"] <= first["post"]
    finally:
        stop.set()
        await recorder
        repo.server.stop()
        kube.close()


async def test_a_failing_presync_hook_fails_the_sync_before_wave_zero(
    crds, full_namespace, tmp_path
):
    repo = tetherenv.serve_repo(
        tmp_path / "git", {"app/pre.yaml": FAILING_JOB, "app/wave0.yaml": CM % ("wave0", 0)}
    )
    kube = tetherenv.client(crds.kubeconfig)
    try:
        tetherenv.create(
            kube,
            tetherenv.application(
                "blocked",
                full_namespace,
                repo.url,
                "app",
                full_namespace,
                syncPolicy={"automated": {}, "retry": {"limit": 0}},
            ),
        )
        async with tetherenv.running_controller(
            crds.kubeconfig, full_namespace, tmp_path / "cache", resync_s=300.0
        ):

            def finished():
                state = tetherenv.app_status(kube, full_namespace, "blocked").get("operationState")
                return state if state and state.get("phase") in ("Succeeded", "Failed") else None

            state = await tetherenv.eventually(finished, 60, "the sync finished")
            assert state["phase"] == "Failed", state
            results = {r["name"]: r for r in state["syncResult"]["resources"]}
            assert results["pre"]["hookPhase"] == "Failed"
            assert "wave0" not in results or results["wave0"].get("status") is None
            await asyncio.sleep(3)  # and it stays that way: no retry, no later wave
            with pytest.raises(ApiError) as missing:
                kube.get(ConfigMap, "wave0", namespace=full_namespace)
            assert missing.value.status.code == 404
            app = tetherenv.get(kube, tetherenv.Application, "blocked", full_namespace)
            assert not app.get("operation")
            assert app["status"]["operationState"]["phase"] == "Failed"
            assert not app["status"].get("history")
    finally:
        repo.server.stop()
        kube.close()


async def test_consecutive_waves_are_at_least_two_seconds_apart(crds, full_namespace, tmp_path):
    # Argo CD sleeps ARGOCD_SYNC_WAVE_DELAY (2 s) after every wave but the last, so controllers
    # can react to one wave before the next; tether's WAVE_DELAY says it does the same.
    repo = tetherenv.serve_repo(
        tmp_path / "git", {"app/wave0.yaml": CM % ("wave0", 0), "app/wave1.yaml": CM % ("wave1", 1)}
    )
    kube = tetherenv.client(crds.kubeconfig)
    try:
        tetherenv.create(
            kube,
            tetherenv.application(
                "paced",
                full_namespace,
                repo.url,
                "app",
                full_namespace,
                syncPolicy={"automated": {}},
            ),
        )
        async with tetherenv.running_controller(
            crds.kubeconfig, full_namespace, tmp_path / "cache", resync_s=300.0
        ):
            await tetherenv.eventually(
                lambda: tetherenv.synced_healthy(kube, full_namespace, "paced"), 60, "Synced"
            )
        created = [
            datetime.datetime.fromisoformat(
                tetherenv.get(kube, ConfigMap, name, full_namespace)["metadata"][
                    "creationTimestamp"
                ].replace("Z", "+00:00")
            )
            for name in ("wave0", "wave1")
        ]
        # Whole seconds: a 2 s pause moves the second count by at least 2.
        assert (created[1] - created[0]).total_seconds() >= 2, created
    finally:
        repo.server.stop()
        kube.close()


def released_jobs(kube, namespace: str) -> list[Any]:
    """The namespace's Jobs once none holds the hook finalizer; empty until then."""
    jobs = list(kube.list(Job, namespace=namespace))
    held = [j for j in jobs if "argocd.argoproj.io/hook-finalizer" in (j.metadata.finalizers or [])]
    return jobs if jobs and not held else []


GENERATED_JOB = """apiVersion: batch/v1
kind: Job
metadata:
  generateName: migrate-
  annotations: {argocd.argoproj.io/hook: PreSync}
spec:
  backoffLimit: 0
  template:
    spec:
      restartPolicy: Never
      containers: [{name: main, image: busybox, command: ["true"]}]
"""


async def test_a_presync_hook_with_only_a_generate_name_runs_once_and_is_tracked_by_its_name(
    crds, full_namespace, tmp_path
):
    # Argo CD's own hook examples use generateName; found tracked as "<app>:batch/Job:<ns>/"
    # (no name), reported missing although it completed, and retried forever.
    repo = tetherenv.serve_repo(
        tmp_path / "git", {"app/pre.yaml": GENERATED_JOB, "app/cm.yaml": CM % ("after", 0)}
    )
    kube = tetherenv.client(crds.kubeconfig)
    try:
        tetherenv.create(
            kube,
            tetherenv.application(
                "generated", full_namespace, repo.url, "app", full_namespace,
                syncPolicy={"automated": {}, "retry": {"limit": 0}},
            ),
        )  # fmt: skip
        async with tetherenv.running_controller(
            crds.kubeconfig, full_namespace, tmp_path / "cache", resync_s=300.0
        ):

            def finished():
                state = tetherenv.app_status(kube, full_namespace, "generated").get(
                    "operationState"
                )
                return state if state and state.get("phase") in ("Succeeded", "Failed") else None

            state = await tetherenv.eventually(finished, 75, "the sync finished")

            # The hook finalizer goes once the hook is done, or the namespace never could.
            jobs = await tetherenv.eventually(
                lambda: released_jobs(kube, full_namespace), 30, "the hook finalizer removed"
            )
        assert state["phase"] == "Succeeded", state["message"]
        [job] = jobs
        name = str(job.metadata.name)
        assert name.startswith("migrate-")
        tracking = (job.metadata.annotations or {}).get("argocd.argoproj.io/tracking-id", "")
        assert tracking.endswith(f":batch/Job:{full_namespace}/{name}"), tracking
        [hook] = [r for r in state["syncResult"]["resources"] if r.get("hookType") == "PreSync"]
        assert (hook["name"], hook["hookPhase"]) == (name, "Succeeded")
    finally:
        repo.server.stop()
        kube.close()


def generated_job(prefix: str, hook: str, policy: str = "") -> str:
    """A Job hook named by ``generateName`` only, with an optional delete policy."""
    notes = f"argocd.argoproj.io/hook: {hook}"
    if policy:
        notes += f", argocd.argoproj.io/hook-delete-policy: {policy}"
    return GENERATED_JOB.replace("migrate-", prefix).replace(
        "{argocd.argoproj.io/hook: PreSync}", "{" + notes + "}"
    )


def hook_names(state: dict[str, Any]) -> dict[str, str]:
    """Hook type to the name of the object that ran it, from a sync's results."""
    return {r["hookType"]: r["name"] for r in state["syncResult"]["resources"] if r.get("hookType")}


async def test_a_job_hook_with_generate_name_runs_on_every_sync_and_is_cleaned_up(
    crds, full_namespace, tmp_path
):
    ns = full_namespace
    repo = tetherenv.serve_repo(
        tmp_path / "git",
        {
            "app/pre.yaml": generated_job("migrate-", "PreSync", "HookSucceeded"),
            "app/post.yaml": generated_job("report-", "PostSync"),
            "app/cm.yaml": CM % ("after", 0),
        },
    )
    kube = tetherenv.client(crds.kubeconfig)
    try:
        tetherenv.create(kube, tetherenv.application("again", ns, repo.url, "app", ns))
        runs = []
        async with tetherenv.running_controller(
            crds.kubeconfig, ns, tmp_path / "cache", resync_s=300.0
        ):
            for _ in range(2):
                tetherenv.start_sync(kube, ns, "again")
                app = await tetherenv.eventually(
                    lambda: tetherenv.finished_app(kube, ns, "again"), 60, "the sync finished"
                )
                state = app["status"]["operationState"]
                assert state["phase"] == "Succeeded", state["message"]
                runs.append(hook_names(state))
                await asyncio.sleep(1.1)  # the next operation starts in another second
            jobs = await tetherenv.eventually(
                lambda: released_jobs(kube, ns), 30, "every hook finalizer removed"
            )
        first, second = runs
        assert set(first) == {"PreSync", "PostSync"}  # two generateName hooks are not one
        # A new object each sync, named for that operation.
        assert first["PreSync"] != second["PreSync"] and first["PostSync"] != second["PostSync"]
        assert all(name.startswith("migrate-") for name in (first["PreSync"], second["PreSync"]))
        # HookSucceeded deleted each run's Job once it succeeded. BeforeHookCreation deletes an
        # object of the same name only, so each run's PostSync Job stays (Argo CD's rule: that
        # policy is meant for hooks with a fixed name).
        assert sorted(str(j.metadata.name) for j in jobs) == sorted(
            [first["PostSync"], second["PostSync"]]
        )
    finally:
        repo.server.stop()
        kube.close()
