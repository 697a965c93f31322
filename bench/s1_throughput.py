"""S1 throughput: N Applications, one ConfigMap each, created at once; time until all are Synced.

Baselines in the same run, on the same control plane: the floor (a bare asyncio lightkube client
creating each Application, server-side applying its ConfigMap and writing one status, 20 at a
time like tether's 20 workers) and ``kubectl apply --server-side`` once per app, one after another.
"""

from __future__ import annotations

import asyncio
import dataclasses
import pathlib
import time
from typing import Any

from lightkube import AsyncClient, KubeConfig
from lightkube.generic_resource import create_namespaced_resource
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import ConfigMap
from lightkube.types import PatchType

from bench import env, report
from tether.adapters.kube import errors as kube_errors
from tether.adapters.kube.client import KubeClient

SIZE = 1000
DEST = "s1"
FLOOR_APPS, FLOOR_DEST = "floor", "floor-dest"
KUBECTL_DEST = "kubectl-dest"
CONCURRENCY = 20
"""The floor's in-flight requests: tether's default worker count."""

API = "argoproj.io/v1alpha1"

FloorApplication = create_namespaced_resource(
    "argoproj.io", "v1alpha1", "Application", "applications"
)


def app_name(index: int) -> str:
    """The name of the ``index``-th Application (and its directory)."""
    return f"app-{index:04d}"


def cm_yaml(index: int, value: str = "v0") -> str:
    """The one ConfigMap of app ``index``."""
    return (
        f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-{index:04d}\n"
        f'data:\n  value: "{value}"\n'
    )


def cm_path(index: int) -> str:
    """Where app ``index``'s ConfigMap lives in the repository."""
    return f"apps/{app_name(index)}/cm.yaml"


def application(index: int, repo_url: str, dest: str, namespace: str) -> dict[str, Any]:
    """An auto-synced Application for directory ``apps/app-NNNN``."""
    return {
        "apiVersion": API,
        "kind": "Application",
        "metadata": {"name": app_name(index), "namespace": namespace},
        "spec": {
            "project": "default",
            "source": {
                "repoURL": repo_url,
                "targetRevision": "main",
                "path": f"apps/{app_name(index)}",
            },
            "destination": {"server": "https://kubernetes.default.svc", "namespace": dest},
            "syncPolicy": {"automated": {"prune": False}},
        },
    }


@dataclasses.dataclass
class Fleet:
    """The N apps S1 leaves Synced, with the controller still running, for S3 and S2."""

    size: int
    kubeconfig: pathlib.Path
    workdir: pathlib.Path
    repo: env.ServedRepo
    controller: env.ControllerProcess
    sha: str


def is_synced(obj: dict[str, Any], sha: str) -> bool:
    """Synced at ``sha`` (the commit the bench pushed)."""
    sync = (obj.get("status") or {}).get("sync") or {}
    return sync.get("status") == "Synced" and sync.get("revision") == sha


async def wait_all(
    kube: KubeClient, namespace: str, names: set[str], done: Any, *, started: asyncio.Event
) -> float:
    """Watch Applications until every one in ``names`` satisfies ``done``; returns the time
    (perf_counter) the last one did."""
    good: set[str] = set()
    while True:
        items, version = await kube.list(API, "Application", namespace)
        for item in items:
            if done(item):
                good.add(item["metadata"]["name"])
        started.set()
        if names <= good:
            return time.perf_counter()
        try:
            async for kind, obj in kube.watch(
                API, "Application", namespace, resource_version=version
            ):
                if kind not in ("ADDED", "MODIFIED"):
                    continue
                name = obj["metadata"]["name"]
                if done(obj):
                    good.add(name)
                else:
                    good.discard(name)
                if names <= good:
                    return time.perf_counter()
        except kube_errors.GoneError:
            continue


async def settled(
    controller: env.ControllerProcess, *, quiet_s: float = 1.0, timeout_s: float = 60.0
) -> dict[str, float]:
    """The controller's request counts once they stop moving for ``quiet_s``."""
    deadline = time.monotonic() + timeout_s
    last = controller.requests()
    while time.monotonic() < deadline:
        await asyncio.sleep(quiet_s)
        now = controller.requests()
        if now == last:
            break
        last = now
    return last


async def floor(kubeconfig: pathlib.Path, size: int, repo_url: str, sha: str) -> float:
    """Seconds for the floor: per app, create it, apply its ConfigMap, write its status."""
    client = AsyncClient(KubeConfig.from_file(str(kubeconfig)), field_manager="bench-floor")
    try:

        async def one(index: int) -> None:
            app = application(index, repo_url, FLOOR_DEST, FLOOR_APPS)
            await client.create(FloorApplication.from_dict(app))
            cm = ConfigMap(
                metadata=ObjectMeta(name=f"cm-{index:04d}", namespace=FLOOR_DEST),
                data={"value": "v0"},
            )
            await client.apply(cm, force=True)
            status = {"status": {"sync": {"status": "Synced", "revision": sha}}}
            await client.patch(
                FloorApplication,
                app_name(index),
                status,
                namespace=FLOOR_APPS,
                patch_type=PatchType.MERGE,
            )

        started = time.perf_counter()
        await env.bounded(CONCURRENCY, [one(i) for i in range(size)])
        return time.perf_counter() - started
    finally:
        await client.close()


def kubectl_loop(kubeconfig: pathlib.Path, work: pathlib.Path, size: int) -> float:
    """Seconds for ``kubectl apply --server-side`` once per app directory, in sequence."""
    started = time.perf_counter()
    for index in range(size):
        env.kubectl_apply(kubeconfig, KUBECTL_DEST, work / cm_path(index))
    return time.perf_counter() - started


async def run(kubeconfig: pathlib.Path, workdir: pathlib.Path) -> tuple[dict[str, Any], Fleet]:
    """Measure S1; returns its results and the running fleet."""
    size = env.scaled(SIZE)
    kube = env.client(kubeconfig)
    try:
        await env.ensure_namespaces(kube, DEST, FLOOR_APPS, FLOOR_DEST, KUBECTL_DEST)
        repo = env.ServedRepo.create(workdir / "git", {cm_path(i): cm_yaml(i) for i in range(size)})
        sha = env.git("rev-parse", "HEAD", cwd=repo.work)

        env.log(f"S1 floor: {size} apps")
        server_cpu_before = env.control_plane_cpu_s(kubeconfig)
        floor_s = await floor(kubeconfig, size, repo.url, sha)
        floor_server_cpu_s = env.control_plane_cpu_s(kubeconfig) - server_cpu_before
        env.log(f"S1 floor: {floor_s:.1f} s; kubectl loop")
        kubectl_s = kubectl_loop(kubeconfig, repo.work, size)
        env.log(f"S1 kubectl: {kubectl_s:.1f} s; starting the controller")

        controller = await env.ControllerProcess.start(
            kubeconfig,
            workdir / "controller-s1",
            resync_s=180,
            jitter_s=30,
            cache_dir=workdir / "cache-s1",
            profile=workdir / "s1.prof" if env.PROFILE else None,
        )
        names = {app_name(i) for i in range(size)}
        watching = asyncio.Event()
        waiter = asyncio.create_task(
            wait_all(kube, env.APP_NAMESPACE, names, lambda o: is_synced(o, sha), started=watching)
        )
        await watching.wait()
        before = controller.requests()
        cpu_before = controller.stats().cpu_s
        server_cpu_before = env.control_plane_cpu_s(kubeconfig)
        started = time.perf_counter()
        await env.bounded(
            50,
            [
                kube.create(
                    application(i, repo.url, DEST, env.APP_NAMESPACE), field_manager="bench"
                )
                for i in range(size)
            ],
        )
        created_s = time.perf_counter() - started
        finished = await asyncio.wait_for(waiter, timeout=max(600.0, size * 2.0))
        tether_s = finished - started
        cpu_synced_s = controller.stats().cpu_s - cpu_before
        at_synced = report.delta(controller.requests(), before)
        env.log(f"S1 tether: {tether_s:.1f} s ({created_s:.1f} s creating)")
        # Events go out from a background queue and may still be in flight: count the work per
        # app once the controller has gone quiet, so nothing sent after the clock is missed.
        requests = report.delta(await settled(controller), before)
        cpu_s = controller.stats().cpu_s - cpu_before
        server_cpu_s = env.control_plane_cpu_s(kubeconfig) - server_cpu_before
    finally:
        await kube.aclose()
    results = {
        "apps": size,
        "apps_per_s": size / tether_s,
        "tether_s": tether_s,
        "floor_s": floor_s,
        "kubectl_s": kubectl_s,
        "floor_ratio": tether_s / floor_s,
        "kubectl_ratio": tether_s / kubectl_s,
        "controller_cpu_s": cpu_s,
        "controller_cpu_ms_per_app": 1000 * cpu_s / size,
        "controller_cpu_s_at_synced": cpu_synced_s,
        # The API server's and etcd's side of each run: what the requests cost where the floor
        # and tether share the same two cores.
        "control_plane_cpu_ms_per_app": 1000 * server_cpu_s / size,
        "floor_control_plane_cpu_ms_per_app": 1000 * floor_server_cpu_s / size,
        "requests_per_app": sum(requests.values()) / size,
        "requests_by_verb": {k: int(v) for k, v in requests.items() if v},
        "requests_at_synced": {k: int(v) for k, v in at_synced.items() if v},
    }
    return results, Fleet(size, kubeconfig, workdir, repo, controller, sha)
