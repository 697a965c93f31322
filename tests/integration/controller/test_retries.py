"""A sync failing in wave 1 is retried a bounded number of times, or onto a fixing commit.

Wave 0 stays applied (nothing is rolled back), wave 2 is never applied while wave 1 fails,
each attempt is counted, and a retry with ``refresh: true`` syncs a commit pushed meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from lightkube.resources.core_v1 import ConfigMap

from tests.support import tetherenv

pytestmark = pytest.mark.timeout(180)

CM = """apiVersion: v1
kind: ConfigMap
metadata:
  name: %s
  annotations: {argocd.argoproj.io/sync-wave: "%d"}
"""

# A Job no node can run: the Job controller fails it at its deadline, so wave 1 turns Degraded.
FAILING_JOB = """apiVersion: batch/v1
kind: Job
metadata:
  name: gate
  annotations: {argocd.argoproj.io/sync-wave: "1"}
spec:
  backoffLimit: 0
  activeDeadlineSeconds: 2
  template:
    spec:
      restartPolicy: Never
      nodeSelector: {tether.test/no-such-node: "true"}
      containers: [{name: main, image: busybox, command: ["true"]}]
"""

FILES = {
    "app/early.yaml": CM % ("early", 0),
    "app/gate.yaml": FAILING_JOB,
    "app/late.yaml": CM % ("late", 2),
}
FAST = {"duration": "1s", "factor": 1, "maxDuration": "1s"}


def exists(kube: Any, name: str, namespace: str) -> bool:
    return tetherenv.exists(kube, ConfigMap, name, namespace)


def request_sync(kube, namespace: str, name: str, retry: dict[str, Any]) -> None:
    tetherenv.patch_app(
        kube,
        namespace,
        name,
        {
            "operation": {
                "sync": {"syncStrategy": {"hook": {}}},
                "retry": retry,
                "initiatedBy": {"username": "tester"},
            },
            "status": {"operationState": None},
        },
    )


def finished(kube, namespace: str, name: str) -> dict[str, Any] | None:
    """The operation's final state once it is over, else ``None``."""
    app = tetherenv.finished_app(kube, namespace, name)
    return app["status"]["operationState"] if app else None


async def watch_for(kube, namespace: str, name: str, seen: list[bool], stop: asyncio.Event) -> None:
    while not stop.is_set():
        if await asyncio.to_thread(exists, kube, name, namespace):
            seen.append(True)
        await asyncio.sleep(0.1)


def operation_lines(caplog: pytest.LogCaptureFixture, app: str) -> list[logging.LogRecord]:
    """The operation log's records about ``app``, in order."""
    return [
        r for r in caplog.records if r.name == "tether.operation" and getattr(r, "app", "") == app
    ]


async def test_a_sync_failing_in_wave_one_is_retried_its_limit_and_never_reaches_wave_two(
    crds, full_namespace, tmp_path, caplog
):
    caplog.set_level(logging.INFO, logger="tether.operation")
    ns = full_namespace
    repo = tetherenv.serve_repo(tmp_path / "git", FILES)
    kube = tetherenv.client(crds.kubeconfig)
    late_seen: list[bool] = []
    stop = asyncio.Event()
    watcher = asyncio.create_task(watch_for(kube, ns, "late", late_seen, stop))
    try:
        tetherenv.create(kube, tetherenv.application("retried", ns, repo.url, "app", ns))
        async with tetherenv.running_controller(crds.kubeconfig, ns, tmp_path / "cache"):
            await tetherenv.eventually(
                lambda: tetherenv.sync_status(kube, ns, "retried") == "OutOfSync",
                60,
                "compared",
            )
            request_sync(kube, ns, "retried", {"limit": 2, "backoff": FAST})
            state = await tetherenv.eventually(
                lambda: finished(kube, ns, "retried"), 120, "the retries ended"
            )
        assert state["phase"] == "Failed", state
        assert state["retryCount"] == 2, state
        assert exists(kube, "early", ns), "wave 0 was rolled back"
        assert not late_seen and not exists(kube, "late", ns), "wave 2 ran after wave 1 failed"
        history = tetherenv.app_status(kube, ns, "retried").get("history") or []
        assert history == [], "a failed sync is not a deployment"
        # The log tells the same story: each attempt, its waves, the retries, the end.
        lines = [(r.getMessage(), r.levelname, vars(r)) for r in operation_lines(caplog, "retried")]
        started = [
            (f["initiator"], f["retry"]) for m, _, f in lines if m.startswith("sync started")
        ]
        assert started == [("tester", 0), ("tester", 1), ("tester", 2)]
        assert {(f["phase"], f["wave"]) for m, _, f in lines if " wave " in m} == {
            ("Sync", 0),
            ("Sync", 1),
        }
        assert sum(m.startswith("sync attempt failed") for m, _, _ in lines) == 2
        ((phase, level),) = [
            (f["phase"], lv) for m, lv, f in lines if m.startswith("sync finished")
        ]
        assert (phase, level) == ("Failed", "WARNING")
    finally:
        stop.set()
        await watcher
        repo.server.stop()
        kube.close()


async def test_a_retry_with_refresh_syncs_the_commit_that_fixed_the_failure(
    crds, full_namespace, tmp_path
):
    ns = full_namespace
    repo = tetherenv.serve_repo(tmp_path / "git", FILES)
    kube = tetherenv.client(crds.kubeconfig)
    try:
        tetherenv.create(kube, tetherenv.application("healed", ns, repo.url, "app", ns))
        async with tetherenv.running_controller(crds.kubeconfig, ns, tmp_path / "cache"):
            await tetherenv.eventually(
                lambda: tetherenv.sync_status(kube, ns, "healed") == "OutOfSync",
                60,
                "compared",
            )
            slow = {"duration": "4s", "factor": 1, "maxDuration": "4s"}
            request_sync(kube, ns, "healed", {"limit": 5, "backoff": slow, "refresh": True})

            def retrying() -> bool:
                state = tetherenv.app_status(kube, ns, "healed").get("operationState") or {}
                return "Retrying attempt #1" in (state.get("message") or "")

            await tetherenv.eventually(retrying, 90, "the first attempt failed, a retry waits")
            fixed = repo.commit({"app/gate.yaml": None})
            state = await tetherenv.eventually(
                lambda: finished(kube, ns, "healed"), 120, "the retry finished"
            )
        assert state["phase"] == "Succeeded", state["message"]
        assert state["syncResult"]["revision"] == fixed
        assert exists(kube, "late", ns)
        history = tetherenv.app_status(kube, ns, "healed")["history"]
        assert [h["revision"] for h in history] == [fixed]
    finally:
        repo.server.stop()
        kube.close()
