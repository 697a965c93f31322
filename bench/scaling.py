"""Scaling: how the controller's cost grows with apps, objects per app and destination clusters,
at three sizes each, and the linear model fitted to it (``report.fit_scaling``).

Each point is a fresh ``manyapps`` fleet on one control plane (apps of one ConfigMap, or of
``objects_per_app``), its apps spread round-robin over the destination clusters: the control
plane itself and extra minimal control planes (etcd + kube-apiserver) registered as Argo CD
cluster Secrets the way ``tether cluster add`` does. Per point ``fleetrun`` measures time to all
Synced, controller CPU, requests and RSS, then (not in a quick run) a fresh controller's steady
resync; the point's Applications and objects are deleted before the next one.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import pathlib
from collections.abc import Iterator, Sequence
from typing import Any

import httpx2
from lightkube import AsyncClient, KubeConfig
from lightkube.resources.core_v1 import ConfigMap

from bench import env, fleetrun, manyapps, report
from tether import bootstrap
from tether.model import clusters as cluster_model
from tether.services import clusters

APPS = (300, 1000, 3000)
"""Apps of one ConfigMap each, on one cluster."""
OBJECTS = (1, 10, 50)
OBJECTS_AT_APPS = 50
"""Objects per app, at this many apps on one cluster (S9's large apps have 50)."""
CLUSTERS = (1, 2, 3)
CLUSTERS_AT_APPS = 300
"""Destination clusters, at this many one-ConfigMap apps spread over them."""
STEADY_RESYNC_S = 20.0
"""Long enough for every app's turn to come once a period at 3,000 apps and a few ms each."""
STEADY_JITTER_S = STEADY_RESYNC_S / 10
CLEAR_TIMEOUT_S = 300.0
MEASURE_STEADY = not env.QUICK
"""A quick run skips the steady phase (a second controller start and a resync period per point:
most of a quick run's time); its model's resync costs are then 0."""


@dataclasses.dataclass(frozen=True, order=True)
class Point:
    """One measured configuration."""

    apps: int
    objects_per_app: int
    clusters: int

    @property
    def objects(self) -> int:
        """Objects every app deploys together."""
        return self.apps * self.objects_per_app

    @property
    def key(self) -> str:
        """The point's name in the results."""
        return f"a{self.apps}-o{self.objects_per_app}-c{self.clusters}"


def points() -> list[Point]:
    """Every configuration, each dimension at three sizes (a tenth of the apps when quick);
    a configuration two dimensions share is measured once."""
    wanted = (
        [Point(env.scaled(a), 1, 1) for a in APPS]
        + [Point(env.scaled(OBJECTS_AT_APPS), k, 1) for k in OBJECTS]
        + [Point(env.scaled(CLUSTERS_AT_APPS), 1, c) for c in CLUSTERS]
    )
    return sorted(set(wanted))


@dataclasses.dataclass(frozen=True)
class SpreadLayout(manyapps.Layout):
    """A fleet whose app ``i`` deploys to ``servers[i % len(servers)]``."""

    servers: tuple[str, ...] = (cluster_model.IN_CLUSTER_SERVER,)

    def application(
        self, index: int, repo_url: str, *, namespace: str = "", dest: str = ""
    ) -> dict[str, Any]:
        """App ``index``'s Application, aimed at its cluster."""
        app = super().application(index, repo_url, namespace=namespace, dest=dest)
        app["spec"]["destination"]["server"] = self.servers[index % len(self.servers)]
        return app


def layout(point: Point, index: int, servers: Sequence[str]) -> SpreadLayout:
    """Point ``index``'s fleet: names and destination namespace of its own."""
    many = point.objects_per_app > 1
    return SpreadLayout(
        small=0 if many else point.apps,
        large=point.apps if many else 0,
        objects_per_large=point.objects_per_app,
        prefix=f"sc{index}",
        dest=f"scaling-{index}",
        servers=tuple(servers[: point.clusters]),
    )


async def run(workdir: pathlib.Path) -> dict[str, Any]:
    """Measure every point on a control plane of its own, with extra clusters beside it."""
    wanted = points()
    extra = max(p.clusters for p in wanted) - 1
    with contextlib.ExitStack() as stack:
        control = stack.enter_context(env.dev_cluster("full"))
        remotes = [stack.enter_context(_remote_cluster()) for _ in range(extra)]
        await env.install_crds(control.kubeconfig)
        servers = [cluster_model.IN_CLUSTER_SERVER]
        for number, remote in enumerate(remotes, start=2):
            servers.append(await _register(control.kubeconfig, remote.kubeconfig, number))
        kubeconfigs = [control.kubeconfig, *(r.kubeconfig for r in remotes)]
        measured: dict[str, Any] = {}
        for index, point in enumerate(wanted):
            env.log(f"scaling {point.key}: {point.objects} objects")
            measured[point.key] = got = await _point(
                point, layout(point, index, servers), kubeconfigs, workdir / point.key
            )
            env.log(
                f"scaling {point.key}: {got['tether_s']:.1f} s, "
                f"{got['controller_cpu_ms_per_app']:.1f} ms CPU per app, "
                f"{got['requests_per_app']:.1f} requests per app, "
                f"peak RSS {got['peak_rss_mib']:.0f} MiB, "
                f"resync {got.get('resync_cpu_ms_per_app') or 0:.2f} ms CPU per app"
            )
            # Each point as it ends: a run stopped halfway keeps what it measured.
            (workdir / "points.json").write_text(json.dumps(measured, indent=2) + "\n")
    rows = report.scaling_rows(measured)
    model = report.fit_scaling(rows)
    return {
        "steady_measured": MEASURE_STEADY,
        "points": measured,
        "model": dataclasses.asdict(model),
        "predicted_100k": report.predict_scaling(model, apps=100_000, objects=100_000, clusters=1),
    }


@contextlib.contextmanager
def _remote_cluster() -> Iterator[bootstrap.DevCluster]:
    with env.dev_cluster("minimal") as cluster:
        yield cluster


async def _register(control: pathlib.Path, target: pathlib.Path, number: int) -> str:
    """Register ``target`` as a cluster Secret in ``control``, as ``tether cluster add`` does;
    returns its server URL."""
    async with (
        bootstrap.cluster_client(str(target), None) as (remote, url, ca, insecure),
        bootstrap.cluster_client(str(control), None) as (home, *_),
    ):
        entry = await clusters.add(
            home,
            remote,
            name=f"scaling-{number}",
            server=url,
            ca_data=ca,
            insecure=insecure,
            namespace=env.APP_NAMESPACE,
            field_manager="bench",
        )
    return entry.server


async def _point(
    point: Point, fleet: SpreadLayout, kubeconfigs: list[pathlib.Path], workdir: pathlib.Path
) -> dict[str, Any]:
    kube = env.client(kubeconfigs[0])
    repo, sha = manyapps.serve(fleet, workdir / "git")
    controllers = fleetrun.Controllers(kubeconfigs[0], workdir, f"scaling {point.key}")
    try:
        for kubeconfig in kubeconfigs[: point.clusters]:
            dest = env.client(kubeconfig)
            try:
                await env.ensure_namespaces(dest, fleet.dest)
            finally:
                await dest.aclose()
        results: dict[str, Any] = {
            "apps": point.apps,
            "objects": point.objects,
            "objects_per_app": point.objects_per_app,
            "clusters": point.clusters,
        }
        results |= await fleetrun.sync_phase(controllers, kube, fleet, repo.url, sha)
        if MEASURE_STEADY:
            steady = await fleetrun.steady_phase(
                controllers, fleet, STEADY_RESYNC_S, STEADY_JITTER_S
            )
            results |= steady
    finally:
        await kube.aclose()
        repo.stop()
        await _clear(fleet, kubeconfigs[: point.clusters])
    return results


async def _clear(fleet: manyapps.Layout, kubeconfigs: list[pathlib.Path]) -> None:
    """Delete the point's Applications and objects, so the next point's controller starts bare
    (the Applications have no finalizer: they go at once). One collection delete of 5,000
    ConfigMaps takes longer than a client's default 10 s under load: it gets ``CLEAR_TIMEOUT_S``."""
    for number, kubeconfig in enumerate(kubeconfigs):
        client = AsyncClient(
            KubeConfig.from_file(str(kubeconfig)),
            field_manager="bench",
            timeout=httpx2.Timeout(CLEAR_TIMEOUT_S),
        )
        try:
            if number == 0:
                await client.deletecollection(manyapps.FloorApplication, namespace=fleet.namespace)
            await client.deletecollection(ConfigMap, namespace=fleet.dest)
        finally:
            await client.close()
