"""S5 diff: a no-op comparison of the 683 Kubeflow objects against the live cluster.

The 27 Applications of ``distributions/kubeflow`` (ad-hoc ones when it is missing) render from
the corpus directory. Their desired objects (tracking included) are server-side applied first, so
the comparison has nothing to find. Cold: a fresh ``Comparer`` (renders cached, no dry run cached)
against one ``kubectl diff --server-side`` of the same objects. Warm: the same comparison again
(wall and CPU seconds of the bench process), then repeated for the best wall time.
"""

from __future__ import annotations

import asyncio
import cProfile
import pathlib
import time
from typing import Any

import yaml

from bench import env, report, s4_render
from tether import bootstrap
from tether.adapters.jqrunner import JqRunner
from tether.adapters.kube.client import KubeClient
from tether.model import application as application_model, project as project_model
from tether.model.resources import ResourceKey
from tether.services.clientside import ClientSide
from tether.services.compare import Comparer, Comparison
from tether.services.dryruns import DryRuns
from tether.settings import Settings

DISTRIBUTION = pathlib.Path(__file__).resolve().parent.parent / "distributions" / "kubeflow"
APPLY_PASSES = 12
WARM_REPEATS = 5
"""Warm comparisons after the measured one, for ``warm_min_s``."""


def distribution_apps() -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """The Kubeflow child Applications and their AppProject, or ad-hoc apps and no project."""
    apps: list[dict[str, Any]] = []
    project = None
    for path in sorted((DISTRIBUTION / "apps").rglob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if not isinstance(doc, dict):
                continue
            if doc.get("kind") == "Application":
                apps.append(doc)
            elif doc.get("kind") == "AppProject":
                project = doc
    if len(apps) == len(s4_render.example_paths()):
        return apps, project
    return [s4_render.application(p).to_manifest() for p in s4_render.example_paths()], None


async def compare_all(
    comparer: Comparer, apps: list[dict[str, Any]], project: dict[str, Any] | None
) -> list[Comparison]:
    """Compare every app at once."""
    proj = (
        project_model.parse_project(project)
        if project
        else project_model.parse_project(project_model.default_project(env.APP_NAMESPACE))
    )
    parsed = [application_model.parse_application(a) for a in apps]
    return list(
        await asyncio.gather(*(comparer.compare(a, proj, revisions=["0" * 40]) for a in parsed))
    )


def _rank(obj: dict[str, Any]) -> int:
    kind = obj.get("kind")
    return 0 if kind == "Namespace" else 1 if kind == "CustomResourceDefinition" else 2


async def apply_everything(kube: KubeClient, objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Server-side apply the objects (Namespaces, then CRDs, then the rest), retrying what
    fails while CRDs become established; returns those that never applied."""
    pending = sorted(objects, key=_rank)
    for attempt in range(APPLY_PASSES):
        failed: list[dict[str, Any]] = []
        for rank in (0, 1, 2):
            batch = [o for o in pending if _rank(o) == rank]

            async def one(obj: dict[str, Any], into: list[dict[str, Any]] = failed) -> None:
                try:
                    await kube.apply(obj, field_manager=Settings().field_manager, force=True)
                except Exception:  # retried next pass; the count of leftovers is reported
                    into.append(obj)

            await env.bounded(8, [one(o) for o in batch])
        if not failed:
            return []
        pending = failed
        env.log(f"S5: {len(failed)} objects to retry (pass {attempt + 1})")
        await kube.discovery.refresh()
        await asyncio.sleep(2)
    return pending


def kubectl_diff(kubeconfig: pathlib.Path, manifest: pathlib.Path) -> float:
    """Seconds for ``kubectl diff --server-side`` of every object, as tether's field manager."""
    started = time.perf_counter()
    done = env.run(
        [
            "kubectl",
            "--kubeconfig",
            str(kubeconfig),
            "diff",
            "--server-side",
            "--force-conflicts",
            f"--field-manager={Settings().field_manager}",
            "-f",
            str(manifest),
        ],
        env={"KUBECTL_EXTERNAL_DIFF": "diff -N -r -q"},
        check=False,
    )
    elapsed = time.perf_counter() - started
    if done.returncode > 1:
        raise RuntimeError(f"kubectl diff failed: {done.stderr.decode(errors='replace')[-1500:]}")
    return elapsed


async def run(kubeconfig: pathlib.Path, workdir: pathlib.Path) -> dict[str, Any]:
    """Measure S5 on the bench's control plane."""
    apps, project = distribution_apps()
    apps = apps[: env.scaled(len(apps))]
    settings = Settings(app_namespaces=(env.APP_NAMESPACE,), cache_dir=str(workdir / "cache-s5"))
    jq = JqRunner()
    kube = env.client(kubeconfig)
    try:
        async with await bootstrap.runtime(settings, kubeconfig=kubeconfig) as rt:
            renders = s4_render.service()

            def comparer() -> Comparer:
                return Comparer(
                    renders,
                    rt.cluster,
                    rt.live,
                    DryRuns(
                        rt.cluster,
                        rt.live,
                        ClientSide(rt.cluster, field_manager=settings.field_manager),
                        field_manager=settings.field_manager,
                    ),
                    field_manager=settings.field_manager,
                    control_plane_namespace=settings.control_plane_namespace,
                    jq=jq,
                )

            first = await compare_all(comparer(), apps, project)
            desired = [obj for c in first for obj in c.desired]
            namespaces = {
                str((a.get("spec") or {}).get("destination", {}).get("namespace") or "")
                for a in apps
            }
            await env.ensure_namespaces(kube, *sorted(n for n in namespaces if n))
            env.log(f"S5: applying {len(desired)} objects")
            unapplied = await apply_everything(kube, desired)
            keys = [ResourceKey.of(o) for o in desired]

            def missing() -> list[ResourceKey]:
                return [k for k in keys if rt.live.manifest(k) is None]

            settled = 0
            previous = -1
            for _ in range(120):  # until all are cached or the count stops moving for 5 s
                now_missing = len(missing())
                settled = settled + 1 if now_missing == previous else 0
                if now_missing == 0 or settled >= 10:
                    break
                previous = now_missing
                await asyncio.sleep(0.5)
            if missing():
                env.log(f"S5: not in the live cache: {missing()[:10]}")
            not_cached = len(missing())
            await asyncio.sleep(5)  # let controllers settle what they write after creation

            cold_comparer = comparer()
            before = rt.requests()
            started = time.perf_counter()
            await compare_all(cold_comparer, apps, project)
            cold_s = time.perf_counter() - started
            cold_requests = sum(report.delta(rt.requests(), before).values())

            before = rt.requests()
            profiler = cProfile.Profile() if env.PROFILE else None
            if profiler:
                profiler.enable()
            started, cpu_started = time.perf_counter(), time.process_time()
            warm = await compare_all(cold_comparer, apps, project)
            warm_s = time.perf_counter() - started
            warm_cpu_s = time.process_time() - cpu_started
            if profiler:
                profiler.disable()
                profiler.dump_stats(workdir / "s5-warm.prof")
            # On a shared machine one wall reading is noisy: the best of a few repeats is less so.
            repeats = []
            for _ in range(WARM_REPEATS):
                started = time.perf_counter()
                await compare_all(cold_comparer, apps, project)
                repeats.append(time.perf_counter() - started)
            warm_requests = sum(report.delta(rt.requests(), before).values())

            manifest = workdir / "kubeflow-desired.yaml"
            # kubectl diff stops at the first object whose kind is not served (a quick run's
            # subset may lack another app's CRDs): give it only what the cluster accepted.
            accepted = [o for o in desired if not any(o is u for u in unapplied)]
            manifest.write_text(yaml.safe_dump_all(accepted, sort_keys=False))
            kubectl_s = kubectl_diff(kubeconfig, manifest)
    finally:
        jq.close()
        await kube.aclose()
    out_of_sync = sum(len(c.out_of_sync()) for c in warm)
    warm_min_s = min([warm_s, *repeats])
    env.log(
        f"S5: warm {warm_s * 1000:.0f} ms ({warm_cpu_s * 1000:.0f} ms CPU, best"
        f" {warm_min_s * 1000:.0f} ms), cold {cold_s:.2f} s vs kubectl {kubectl_s:.2f} s"
    )
    return {
        "apps": len(apps),
        "objects": len(desired),
        "unapplied": len(unapplied),
        "not_cached": not_cached,
        "warm_s": warm_s,
        "warm_cpu_s": warm_cpu_s,
        "warm_min_s": warm_min_s,
        "warm_requests": warm_requests,
        "cold_s": cold_s,
        "cold_requests": cold_requests,
        "kubectl_diff_s": kubectl_s,
        "cold_kubectl_ratio": cold_s / kubectl_s,
        "out_of_sync_after_apply": out_of_sync,
    }
