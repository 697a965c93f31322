"""``python -m bench``: start a control plane, run the scenarios, print the table, write JSON.

Order: S4 and S11 (no cluster), then S1 → S3 → S2 on one fleet of apps, S5 on the same control
plane, S6, S7, S8, S9, S10, the restart, the replica counts and the scaling points on control
planes of their own.
``BENCH_ONLY=s1,s4`` runs a subset (S3 and S2 need S1).
"""

from __future__ import annotations

import asyncio
import os
import pathlib
import platform
import shutil
import tempfile
import time
import traceback
from collections.abc import Awaitable, Callable
from typing import Any

from bench import (
    env,
    replicas,
    report,
    restart,
    s1_throughput,
    s2_steady,
    s3_latency,
    s4_render,
    s5_diff,
    s6_bootstrap,
    s7_api,
    s8_ui,
    s9_fleet,
    s10_shards,
    s11_preview,
    scaling,
)

RESULTS = pathlib.Path(__file__).resolve().parent / "results" / "latest.json"


def _wanted() -> set[str]:
    only = os.environ.get("BENCH_ONLY", "")
    names = {
        *("s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11"),
        *("restart", "replicas", "scaling"),
    }
    return {n.strip() for n in only.split(",") if n.strip()} if only else names


def _cpu_model() -> str:
    for line in pathlib.Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.partition(":")[2].strip()
    return platform.processor()


async def _guarded(
    results: report.Results, name: str, work: Callable[[], Awaitable[dict[str, Any]]]
) -> None:
    """Run one scenario; a failure is recorded as the scenario's result, the others go on."""
    started = time.perf_counter()
    try:
        results[name] = await work()
    except Exception as err:
        traceback.print_exc()
        results[name] = {"failed": f"{type(err).__name__}: {err}"[:500]}
    results[name]["wall_s"] = round(time.perf_counter() - started, 1)
    report.write(results, RESULTS)


async def main() -> report.Results:
    wanted = _wanted()
    results: report.Results = {
        "machine": {
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            "quick": env.QUICK,
            "nproc": os.cpu_count() or 0,
            "python": platform.python_version(),
            "cpu": _cpu_model(),
            "loadavg_1m_at_start": round(os.getloadavg()[0], 2),
        }
    }
    workdir = pathlib.Path(tempfile.mkdtemp(prefix="tether-bench-work-"))
    env.log(f"work directory {workdir}{' (quick run)' if env.QUICK else ''}")
    try:
        if "s4" in wanted:
            await _guarded(results, "s4", lambda: s4_render.run(workdir))
        if "s11" in wanted:
            await _guarded(results, "s11", lambda: s11_preview.run(workdir))
        if wanted & {"s1", "s2", "s3", "s5"}:
            with env.dev_cluster("full") as cluster:
                await env.install_crds(cluster.kubeconfig)
                if wanted & {"s1", "s2", "s3"}:
                    await _fleet_scenarios(results, wanted, cluster.kubeconfig, workdir)
                if "s5" in wanted:
                    await _guarded(results, "s5", lambda: s5_diff.run(cluster.kubeconfig, workdir))
        if "s6" in wanted:
            await _guarded(results, "s6", lambda: s6_bootstrap.run(workdir))
        if "s7" in wanted:
            await _guarded(results, "s7", lambda: s7_api.run(workdir))
        if "s8" in wanted:
            await _guarded(results, "s8", lambda: s8_ui.run(workdir))
        if "s9" in wanted:
            await _guarded(results, "s9", lambda: s9_fleet.run(workdir))
        if "s10" in wanted:
            await _guarded(results, "s10", lambda: s10_shards.run(workdir))
        if "restart" in wanted:
            await _guarded(results, "restart", lambda: restart.run(workdir))
        if "replicas" in wanted:
            await _guarded(results, "replicas", lambda: replicas.run(workdir))
        if "scaling" in wanted:
            await _guarded(results, "scaling", lambda: scaling.run(workdir / "scaling"))
    finally:
        results["machine"]["loadavg_1m_at_end"] = round(os.getloadavg()[0], 2)
        report.write(results, RESULTS)
        if not (env.PROFILE or env.KEEP):
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            env.log(f"logs, timelines and profiles kept in {workdir}")
    return results


async def _fleet_scenarios(
    results: report.Results, wanted: set[str], kubeconfig: pathlib.Path, workdir: pathlib.Path
) -> None:
    fleet: s1_throughput.Fleet | None = None

    async def s1() -> dict[str, Any]:
        nonlocal fleet
        outcome, fleet = await s1_throughput.run(kubeconfig, workdir)
        return outcome

    await _guarded(results, "s1", s1)
    if fleet is None:
        return
    try:
        if "s3" in wanted:
            await _guarded(results, "s3", lambda: s3_latency.run(fleet))
        fleet.controller.stop()
        if "s2" in wanted:
            await _guarded(results, "s2", lambda: s2_steady.run(fleet))
    finally:
        fleet.controller.stop()
        fleet.repo.stop()


if __name__ == "__main__":
    outcome = asyncio.run(main())
    print(report.table(outcome))
    points = outcome.get("scaling", {}).get("points")
    for side_by_side in (
        report.api_vs_kube(outcome.get("s7", {})),
        report.ui_vs_argo(outcome.get("s8", {})),
        report.scaling_table(report.scaling_rows(points)) if points else "",
        report.fleet_goals(outcome.get("s9", {})),
    ):
        if side_by_side:
            print("\n" + side_by_side)
    print(f"\nwritten to {RESULTS}")
