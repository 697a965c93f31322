"""Deleting an Application runs its PreDelete and PostDelete hooks, and leaves no hook holding
the hook finalizer, whether a hook fails or a sync was still running one."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from lightkube.resources.batch_v1 import Job
from lightkube.resources.core_v1 import ConfigMap

from tests.support import tetherenv

pytestmark = pytest.mark.timeout(120)

HOOK_FINALIZER = "argocd.argoproj.io/hook-finalizer"
RESOURCES_FINALIZER = "resources-finalizer.argocd.argoproj.io"

CM = """apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {a: "1"}
"""

JOB = """apiVersion: batch/v1
kind: Job
metadata:
  name: %s
  annotations: {argocd.argoproj.io/hook: %s%s}
spec:
  backoffLimit: 0%s
  template:
    spec:
      restartPolicy: Never%s
      containers: [{name: main, image: busybox, command: ["true"]}]
"""

# kwok completes every Pod that runs; a Pod no node can take never runs, so its Job fails once
# its deadline passes, or never ends without one.
NO_NODE = "\n      nodeSelector: {tether.test/no-such-node: 'true'}"


def job(name: str, hook: str, *, policy: str = "", fails: bool = False, hangs: bool = False) -> str:
    notes = f", argocd.argoproj.io/hook-delete-policy: {policy}" if policy else ""
    deadline = "\n  activeDeadlineSeconds: 2" if fails else ""
    return JOB % (name, hook, notes, deadline, NO_NODE if fails or hangs else "")


def app_with(name: str, namespace: str, repo_url: str, path: str, *finalizers: str) -> Any:
    body = tetherenv.application(
        name, namespace, repo_url, path, namespace, syncPolicy={"automated": {}}
    )
    body["metadata"]["finalizers"] = list(finalizers)
    return body


def snapshot(kube, namespace: str) -> tuple[bool, dict[str, bool]]:
    """Whether the app's ConfigMap exists, then its Jobs (name to succeeded)."""
    present = tetherenv.exists(kube, ConfigMap, "settings", namespace)
    jobs = {
        str(j.metadata.name): bool(j.status and j.status.succeeded)
        for j in kube.list(Job, namespace=namespace)
    }
    return present, jobs


async def test_deleting_an_app_runs_its_predelete_hook_before_its_resources_and_postdelete_after(
    crds, full_namespace, tmp_path
):
    ns = full_namespace
    repo = tetherenv.serve_repo(
        tmp_path / "git",
        {
            "app/cm.yaml": CM,
            "app/pre.yaml": job("before", "PreDelete"),
            "app/post.yaml": job("after", "PostDelete", policy="HookSucceeded"),
        },
    )
    kube = tetherenv.client(crds.kubeconfig)
    snapshots: list[tuple[bool, dict[str, bool]]] = []
    stop = asyncio.Event()

    async def record() -> None:
        while not stop.is_set():
            snapshots.append(await asyncio.to_thread(snapshot, kube, ns))
            await asyncio.sleep(0.05)

    recorder: asyncio.Task[None] | None = None
    try:
        tetherenv.create(kube, app_with("bye", ns, repo.url, "app", RESOURCES_FINALIZER))
        async with tetherenv.running_controller(
            crds.kubeconfig, ns, tmp_path / "cache", resync_s=300.0
        ):
            await tetherenv.eventually(
                lambda: tetherenv.synced_healthy(kube, ns, "bye"), 60, "Synced and Healthy"
            )
            # A sync applies no deletion hook; the app holds their finalizers instead.
            assert list(kube.list(Job, namespace=ns)) == []
            await tetherenv.eventually(
                lambda: len(app_finalizers(kube, ns, "bye")) == 5, 30, "the hooks' finalizers"
            )
            assert set(app_finalizers(kube, ns, "bye")) == {
                RESOURCES_FINALIZER,
                "pre-delete-finalizer.argocd.argoproj.io",
                "pre-delete-finalizer.argocd.argoproj.io/cleanup",
                "post-delete-finalizer.argocd.argoproj.io",
                "post-delete-finalizer.argocd.argoproj.io/cleanup",
            }
            recorder = asyncio.create_task(record())
            kube.delete(tetherenv.Application, "bye", namespace=ns)
            await tetherenv.eventually(
                lambda: not tetherenv.exists(kube, tetherenv.Application, "bye", ns),
                90,
                "the app gone",
            )
        stop.set()
        await recorder
        snapshots.append(snapshot(kube, ns))
        assert snapshots[0][0], "the ConfigMap was there when the deletion began"
        pre_done = post_seen = False
        for present, jobs in snapshots:
            pre_done = pre_done or jobs.get("before", False)
            if not present:
                assert pre_done, "the ConfigMap went before the PreDelete hook succeeded"
            if "after" in jobs:
                assert not present, "the PostDelete hook ran before the resources were gone"
                post_seen = True
        assert pre_done and post_seen
        # The cascade took the PreDelete Job, HookSucceeded the PostDelete one.
        assert snapshots[-1] == (False, {})
    finally:
        stop.set()
        if recorder is not None:
            await recorder
        repo.server.stop()
        kube.close()


def app_finalizers(kube, namespace: str, name: str) -> list[str]:
    metadata = tetherenv.get(kube, tetherenv.Application, name, namespace)["metadata"]
    return list(metadata.get("finalizers") or [])


def deletion_error(kube, namespace: str, name: str) -> str:
    conditions = tetherenv.app_status(kube, namespace, name).get("conditions") or []
    return next((c["message"] for c in conditions if c["type"] == "DeletionError"), "")


async def test_a_failing_predelete_hook_keeps_the_app_and_its_resources_until_fixed_in_git(
    crds, full_namespace, tmp_path
):
    ns = full_namespace
    repo = tetherenv.serve_repo(
        tmp_path / "git",
        {"app/cm.yaml": CM, "app/pre.yaml": job("before", "PreDelete", fails=True)},
    )
    kube = tetherenv.client(crds.kubeconfig)
    try:
        tetherenv.create(kube, app_with("stuck", ns, repo.url, "app", RESOURCES_FINALIZER))
        async with tetherenv.running_controller(
            crds.kubeconfig, ns, tmp_path / "cache", resync_s=300.0
        ):
            await tetherenv.eventually(
                lambda: tetherenv.synced_healthy(kube, ns, "stuck"), 60, "Synced and Healthy"
            )
            await tetherenv.eventually(
                lambda: len(app_finalizers(kube, ns, "stuck")) == 3, 30, "the hook finalizers"
            )
            kube.delete(tetherenv.Application, "stuck", namespace=ns)
            message = await tetherenv.eventually(
                lambda: deletion_error(kube, ns, "stuck"), 60, "a DeletionError"
            )
            assert message == (
                f"error executing pre-delete hooks: PreDelete hook(s) failed: {ns}/before"
            )
            await asyncio.sleep(3)  # and it stays that way: nothing of the app is deleted
            assert tetherenv.exists(kube, ConfigMap, "settings", ns)
            assert tetherenv.exists(kube, tetherenv.Application, "stuck", ns)

            # Fixed in Git, the hook runs again and the deletion goes on.
            repo.commit({"app/pre.yaml": job("before", "PreDelete")}, "fix the hook")
            await tetherenv.eventually(
                lambda: not tetherenv.exists(kube, tetherenv.Application, "stuck", ns),
                90,
                "the app gone",
            )
        assert not tetherenv.exists(kube, ConfigMap, "settings", ns)
    finally:
        repo.server.stop()
        kube.close()


def held(kube, namespace: str) -> dict[str, bool]:
    """Each Job, and whether it holds the hook finalizer."""
    return {
        str(j.metadata.name): HOOK_FINALIZER in (j.metadata.finalizers or [])
        for j in kube.list(Job, namespace=namespace)
    }


async def test_an_app_deleted_mid_hook_leaves_no_hook_finalizer_behind(
    crds, full_namespace, tmp_path
):
    ns = full_namespace
    repo = tetherenv.serve_repo(
        tmp_path / "git",
        {
            "cascade/pre.yaml": job("cascade-pre", "PreSync", hangs=True),
            "cascade/cm.yaml": CM,
            "plain/pre.yaml": job("plain-pre", "PreSync", hangs=True),
            "plain/cm.yaml": CM.replace("settings", "plain-settings"),
        },
    )
    kube = tetherenv.client(crds.kubeconfig)
    try:
        tetherenv.create(kube, app_with("cascade", ns, repo.url, "cascade", RESOURCES_FINALIZER))
        tetherenv.create(kube, app_with("plain", ns, repo.url, "plain"))
        async with tetherenv.running_controller(
            crds.kubeconfig, ns, tmp_path / "cache", resync_s=300.0
        ):
            # Both syncs wait on a PreSync hook that never ends, which holds the finalizer.
            try:
                await tetherenv.eventually(
                    lambda: held(kube, ns) == {"cascade-pre": True, "plain-pre": True},
                    60,
                    "both hooks running",
                )
            except AssertionError:
                import json

                print("DEBUG", held(kube, ns))
                for n in ("cascade", "plain"):
                    print("DEBUG", json.dumps(tetherenv.app_status(kube, ns, n), indent=1))
                raise
            kube.delete(tetherenv.Application, "cascade", namespace=ns)
            kube.delete(tetherenv.Application, "plain", namespace=ns)
            # The cascade deletes its hook (released first, or it would never go), and the app
            # with it; without the resources finalizer the hook stays, released.
            await tetherenv.eventually(
                lambda: held(kube, ns) == {"plain-pre": False}, 60, "the hooks released"
            )
            await tetherenv.eventually(
                lambda: not tetherenv.exists(kube, tetherenv.Application, "cascade", ns),
                30,
                "cascade gone",
            )
        assert not tetherenv.exists(kube, tetherenv.Application, "plain", ns)
        assert not tetherenv.exists(kube, ConfigMap, "settings", ns)
        assert not tetherenv.exists(
            kube, ConfigMap, "plain-settings", ns
        )  # never synced: stuck before
    finally:
        repo.server.stop()
        kube.close()
