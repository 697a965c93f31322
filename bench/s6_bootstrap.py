"""S6 Kubeflow bootstrap: tether against upstream's documented kubectl loop, each on a fresh
control plane (full tier, so Deployments get Pods on kwok's fake nodes).

The loop: ``while ! kustomize build example | kubectl apply --server-side --force-conflicts
-f -; do sleep 20; done``, timed until it succeeds. tether: a fork (the corpus plus
``distributions/kubeflow``, pointed at itself with ``tether kubeflow init``) served by
``git daemon``, the controller running, ``tether kubeflow bootstrap``; timed until every child
Application has completed a sync (everything applied once, the loop's success criterion), and
until all are Synced. Full runs only: the bootstrap cannot be cut to a tenth.
"""

from __future__ import annotations

import asyncio
import os
import pathlib
import shutil
import sys
import time
from collections.abc import Sequence
from typing import Any

from bench import env
from bench.s1_throughput import API

DISTRIBUTION = pathlib.Path(__file__).resolve().parent.parent / "distributions" / "kubeflow"
LOOP_SLEEP_S = 20.0
LOOP_ATTEMPTS = 30
TETHER_TIMEOUT_S = 600.0


def kubectl_loop(kubeconfig: pathlib.Path) -> tuple[float, int]:
    """Seconds until upstream's install loop succeeded, and how many attempts it took."""
    started = time.perf_counter()
    for attempt in range(1, LOOP_ATTEMPTS + 1):
        built = env.run([env.kustomize(), "build", str(env.CORPUS / "example")])
        done = env.run(
            [
                "kubectl",
                "--kubeconfig",
                str(kubeconfig),
                "apply",
                "--server-side",
                "--force-conflicts",
                "-f",
                "-",
            ],
            stdin=built.stdout,
            check=False,
        )
        if done.returncode == 0:
            return time.perf_counter() - started, attempt
        env.log(f"S6 kubectl loop: attempt {attempt} failed; sleeping {LOOP_SLEEP_S:.0f} s")
        time.sleep(LOOP_SLEEP_S)
    raise TimeoutError(f"the kubectl loop did not succeed in {LOOP_ATTEMPTS} attempts")


def make_fork(workdir: pathlib.Path) -> env.ServedRepo:
    """The corpus with the distribution in it, pointed at its own git:// URL and served."""

    def populate(work: pathlib.Path) -> None:
        shutil.copytree(env.CORPUS, work, dirs_exist_ok=True)
        shutil.copytree(DISTRIBUTION, work / "distributions" / "kubeflow", dirs_exist_ok=True)

    repo = env.ServedRepo.create(workdir / "fork", {}, populate=populate)
    dist = repo.work / "distributions" / "kubeflow"
    env.run(
        [
            sys.executable,
            "-m",
            "tether",
            "kubeflow",
            "init",
            "--repo",
            repo.url,
            "--revision",
            "main",
            "--dir",
            str(dist),
            "--no-check",
        ],
        cwd=repo.work,
    )
    repo.commit({}, "point the distribution at this fork")
    return repo


async def tether_bootstrap(
    kubeconfig: pathlib.Path, repo: env.ServedRepo, workdir: pathlib.Path
) -> dict[str, Any]:
    """Bootstrap with tether; returns the times and what state the apps reached."""
    await env.install_crds(kubeconfig)
    controller = await env.ControllerProcess.start(
        kubeconfig,
        workdir / "controller-s6",
        resync_s=float(os.environ.get("BENCH_S6_RESYNC_S", "180")),
        jitter_s=30 if "BENCH_S6_RESYNC_S" not in os.environ else 1,
        cache_dir=workdir / "cache-s6",
    )
    kube = env.client(kubeconfig)
    timeline = (workdir / "timeline.txt").open("w")
    try:
        started = time.perf_counter()
        env.run(
            [
                sys.executable,
                "-m",
                "tether",
                "kubeflow",
                "bootstrap",
                "--dir",
                str(repo.work / "distributions" / "kubeflow"),
                "--kubeconfig",
                str(kubeconfig),
            ]
        )
        applied_s: float | None = None
        synced_s: float | None = None
        last: dict[str, Any] = {}
        seen: dict[str, str] = {}
        while time.perf_counter() - started < TETHER_TIMEOUT_S and synced_s is None:
            items, _ = await kube.list(API, "Application", env.APP_NAMESPACE)
            children = [i for i in items if i["metadata"]["name"] != "kubeflow"]
            states = [(i.get("status") or {}) for i in children]
            done = sum(
                1 for s in states if ((s.get("operationState") or {}).get("phase")) == "Succeeded"
            )
            synced = sum(1 for s in states if (s.get("sync") or {}).get("status") == "Synced")
            healthy = sum(1 for s in states if (s.get("health") or {}).get("status") == "Healthy")
            last = {"children": len(children), "synced": synced, "healthy": healthy, "done": done}
            now = time.perf_counter() - started
            _record_transitions(timeline, now, items, seen)
            if applied_s is None and len(children) >= 27 and done == len(children):
                applied_s = now
                env.log(f"S6 tether: every child synced once after {now:.0f} s")
            if len(children) >= 27 and synced == len(children):
                synced_s = now
            await asyncio.sleep(2)
        env.log(f"S6 tether: {last}")
        return {
            "tether_applied_s": applied_s,
            "tether_synced_s": synced_s,
            "children_applied_at_end": last.get("done", 0),
            "children_synced_at_end": last.get("synced", 0),
            "children_healthy_at_end": last.get("healthy", 0),
            "controller_cpu_s": controller.stats().cpu_s,
            "controller_rss_mib": controller.stats().rss_mib,
        }
    finally:
        timeline.close()
        await kube.aclose()
        controller.stop()


def _record_transitions(
    timeline: Any, now: float, items: Sequence[dict[str, Any]], seen: dict[str, str]
) -> None:
    """Write one line per Application whose sync, health, operation or conditions changed:
    the timeline shows which step of the bootstrap waited and for how long."""
    for item in items:
        status = item.get("status") or {}
        state = " ".join(
            (
                (status.get("sync") or {}).get("status", "-"),
                (status.get("health") or {}).get("status", "-"),
                (status.get("operationState") or {}).get("phase", "-"),
                ",".join(sorted(c.get("type", "") for c in status.get("conditions") or [])) or "-",
                (status.get("operationState") or {}).get("message", "")[:160],
            )
        )
        failed = [
            f"{r.get('kind')}/{r.get('name')}: {r.get('message', '')[:120]}"
            for r in ((status.get("operationState") or {}).get("syncResult") or {}).get("resources")
            or []
            if r.get("hookPhase") in ("Failed", "Error") or r.get("status") == "SyncFailed"
        ]
        if failed:
            state += " | failed: " + "; ".join(failed)
        name = item["metadata"]["name"]
        if seen.get(name) != state:
            seen[name] = state
            timeline.write(f"{now:7.1f} {name:40} {state}\n")
    timeline.flush()


async def run(workdir: pathlib.Path) -> dict[str, Any]:
    """Measure S6 on two fresh control planes."""
    if env.QUICK:
        return {"skipped": "full runs only: the Kubeflow bootstrap cannot be cut to a tenth"}
    if not (DISTRIBUTION / "root.yaml").is_file():
        return {"skipped": f"{DISTRIBUTION} is missing"}
    env.log("S6: the kubectl loop on a fresh control plane")
    with env.dev_cluster("full") as cluster:
        loop_s, attempts = await asyncio.to_thread(kubectl_loop, cluster.kubeconfig)
    env.log(f"S6 kubectl loop: {loop_s:.0f} s in {attempts} attempts")
    repo = make_fork(workdir / "s6")
    try:
        with env.dev_cluster("full") as cluster:
            # Nothing of Kubeflow really runs here, so the controllers whose status the waves
            # wait for (cert-manager's issuers, metrics-server's API) are played the way the
            # Kubeflow e2e test plays them (its STAND_INS table says what and why). The
            # kubectl loop needs none: it never waits on health.
            from tests.e2e.test_kubeflow_full import stand_ins

            async with stand_ins(cluster):
                outcome = await tether_bootstrap(cluster.kubeconfig, repo, workdir / "s6")
    finally:
        repo.stop()
    applied = outcome["tether_applied_s"]
    return {
        "kubectl_loop_s": loop_s,
        "kubectl_attempts": attempts,
        **outcome,
        "applied_ratio": applied / loop_s if applied else None,
    }
