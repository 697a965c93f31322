"""A fleet of many auto-synced Applications for the scale scenarios (S9, S10): ``small`` apps of
one ConfigMap and ``large`` apps of ``objects_per_large`` ConfigMaps, in one Git repository
served by ``git daemon``; creating their Applications fast, waiting for all of them to be Synced
through one watch, and the baselines (the floor and a sampled ``kubectl apply`` loop) over the same
objects.

Names carry a ``prefix`` so fleets of several scenarios, or of several controllers, never collide:
app ``{prefix}-s-00042`` lives in ``{prefix}/s-00042/`` and owns ConfigMap
``{prefix}-s-00042-0`` in the destination namespace.
"""

from __future__ import annotations

import asyncio
import dataclasses
import pathlib
import time
from collections.abc import Callable
from typing import Any

from lightkube import AsyncClient, KubeConfig
from lightkube.generic_resource import create_namespaced_resource
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import ConfigMap
from lightkube.types import PatchType

from bench import env
from tether.adapters.kube import errors as kube_errors
from tether.adapters.kube.client import KubeClient

API = "argoproj.io/v1alpha1"
CREATE_CONCURRENCY = 50
"""Applications created at once (as S1 does)."""
FLOOR_CONCURRENCY = 20
"""The floor's in-flight requests: tether's default worker count."""
FLEET_LABEL = "bench.tether.dev/fleet"

FloorApplication = create_namespaced_resource(
    "argoproj.io", "v1alpha1", "Application", "applications"
)


@dataclasses.dataclass(frozen=True)
class Layout:
    """Which apps a fleet has, and where their Applications and objects go."""

    small: int
    large: int = 0
    objects_per_large: int = 50
    prefix: str = "fleet"
    dest: str = "fleet-dest"
    """The namespace the apps deploy into."""
    namespace: str = env.APP_NAMESPACE
    """The namespace of the Applications."""
    project: str = "default"

    @property
    def size(self) -> int:
        """How many apps."""
        return self.small + self.large

    @property
    def objects(self) -> int:
        """How many objects all the apps deploy together."""
        return self.small + self.large * self.objects_per_large

    def names(self) -> list[str]:
        """Every app's name, small ones first."""
        return [self.name(i) for i in range(self.size)]

    def name(self, index: int) -> str:
        """The ``index``-th app (the first ``small`` are small)."""
        if index < self.small:
            return f"{self.prefix}-s-{index:05d}"
        return f"{self.prefix}-l-{index - self.small:04d}"

    def count(self, index: int) -> int:
        """How many objects app ``index`` deploys."""
        return 1 if index < self.small else self.objects_per_large

    def path(self, index: int) -> str:
        """App ``index``'s directory in the repository."""
        return f"{self.prefix}/{self.name(index).removeprefix(self.prefix + '-')}"

    def object_names(self, index: int) -> list[str]:
        """The ConfigMaps app ``index`` deploys."""
        return [f"{self.name(index)}-{k}" for k in range(self.count(index))]

    def manifest(self, index: int, value: str = "v0") -> str:
        """App ``index``'s one file: its ConfigMaps as a YAML stream."""
        return "".join(
            f"---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\n"
            f'data:\n  value: "{value}"\n'
            for name in self.object_names(index)
        )

    def files(self) -> dict[str, str]:
        """The repository's files."""
        return {f"{self.path(i)}/cms.yaml": self.manifest(i) for i in range(self.size)}

    def application(
        self, index: int, repo_url: str, *, namespace: str = "", dest: str = ""
    ) -> dict[str, Any]:
        """App ``index``'s auto-synced Application."""
        return {
            "apiVersion": API,
            "kind": "Application",
            "metadata": {
                "name": self.name(index),
                "namespace": namespace or self.namespace,
                "labels": {FLEET_LABEL: self.prefix},
            },
            "spec": {
                "project": self.project,
                "source": {"repoURL": repo_url, "targetRevision": "main", "path": self.path(index)},
                "destination": {
                    "server": "https://kubernetes.default.svc",
                    "namespace": dest or self.dest,
                },
                "syncPolicy": {"automated": {"prune": False}},
            },
        }

    def sample(self, every: int) -> list[int]:
        """Every ``every``-th app, small and large ones alike (evenly spaced in each kind)."""
        return [
            i for i in range(self.size) if (i if i < self.small else i - self.small) % every == 0
        ]


def serve(layout: Layout, tmp: pathlib.Path) -> tuple[env.ServedRepo, str]:
    """The fleet's repository, served; returns it and its commit."""
    repo = env.ServedRepo.create(tmp, layout.files())
    return repo, env.git("rev-parse", "HEAD", cwd=repo.work)


async def create(kube: KubeClient, layout: Layout, repo_url: str) -> float:
    """Create every Application, ``CREATE_CONCURRENCY`` at a time; returns the seconds taken."""
    started = time.perf_counter()
    await env.bounded(
        CREATE_CONCURRENCY,
        [
            kube.create(layout.application(i, repo_url), field_manager="bench")
            for i in range(layout.size)
        ],
    )
    return time.perf_counter() - started


def synced_at(sha: str) -> Callable[[dict[str, Any]], bool]:
    """Whether an Application is Synced at ``sha`` (the commit the bench pushed)."""

    def done(obj: dict[str, Any]) -> bool:
        sync = (obj.get("status") or {}).get("sync") or {}
        return sync.get("status") == "Synced" and sync.get("revision") == sha

    return done


@dataclasses.dataclass
class Progress:
    """How many of the awaited apps are done, for a log line while waiting."""

    wanted: int
    done: int = 0
    watching: asyncio.Event = dataclasses.field(default_factory=asyncio.Event)


async def wait_all(
    kube: KubeClient,
    layout: Layout,
    done: Callable[[dict[str, Any]], bool],
    progress: Progress | None = None,
) -> float:
    """Watch the fleet's Applications until every one satisfies ``done``; returns the time
    (perf_counter) the last one did. ``progress.watching`` is set once the watch is open, so a
    caller starts its clock after the waiter can see every change."""
    names = set(layout.names())
    progress = progress or Progress(len(names))
    good: set[str] = set()

    def see(obj: dict[str, Any]) -> None:
        name = obj["metadata"]["name"]
        if name not in names:
            return
        if done(obj):
            good.add(name)
        else:
            good.discard(name)
        progress.done = len(good)

    while True:
        items, version = await kube.list(API, "Application", layout.namespace)
        for item in items:
            see(item)
        progress.watching.set()
        if len(good) == len(names):
            return time.perf_counter()
        try:
            async for kind, obj in kube.watch(
                API, "Application", layout.namespace, resource_version=version
            ):
                if kind in ("ADDED", "MODIFIED"):
                    see(obj)
                    if len(good) == len(names):
                        return time.perf_counter()
        except kube_errors.GoneError:
            continue


async def wait_logged(
    kube: KubeClient, layout: Layout, done: Callable[[dict[str, Any]], bool], what: str
) -> tuple[asyncio.Task[float], Progress]:
    """``wait_all`` in a task, a log line every 15 s; returns once the watch is open."""
    progress = Progress(layout.size)
    waiter = asyncio.create_task(wait_all(kube, layout, done, progress))

    async def report() -> None:
        while not waiter.done():
            await asyncio.sleep(15)
            env.log(f"{what}: {progress.done}/{progress.wanted}")

    reporter = asyncio.create_task(report())
    waiter.add_done_callback(lambda _: reporter.cancel())
    await asyncio.wait(
        [asyncio.create_task(progress.watching.wait()), waiter],
        return_when=asyncio.FIRST_COMPLETED,
    )
    if waiter.done():
        waiter.result()  # raises what stopped it
    return waiter, progress


async def floor(
    kubeconfig: pathlib.Path, layout: Layout, repo_url: str, sha: str, apps_ns: str, dest: str
) -> float:
    """Seconds for the floor: per app, create it (in ``apps_ns``, which no controller watches),
    server-side apply each of its objects (into ``dest``) and write its status; 20 at a time."""
    client = AsyncClient(KubeConfig.from_file(str(kubeconfig)), field_manager="bench-floor")
    try:

        async def one(index: int) -> None:
            app = layout.application(index, repo_url, namespace=apps_ns, dest=dest)
            await client.create(FloorApplication.from_dict(app))
            for name in layout.object_names(index):
                cm = ConfigMap(metadata=ObjectMeta(name=name, namespace=dest), data={"value": "v0"})
                await client.apply(cm, force=True)
            status = {"status": {"sync": {"status": "Synced", "revision": sha}}}
            await client.patch(
                FloorApplication,
                layout.name(index),
                status,
                namespace=apps_ns,
                patch_type=PatchType.MERGE,
            )

        started = time.perf_counter()
        await env.bounded(FLOOR_CONCURRENCY, [one(i) for i in range(layout.size)])
        return time.perf_counter() - started
    finally:
        await client.close()


@dataclasses.dataclass(frozen=True)
class Sampled:
    """A ``kubectl apply`` loop over a sample of the apps, scaled to all of them."""

    every: int
    apps: int
    seconds: float
    """The sample's own seconds."""
    scaled_s: float
    """The whole fleet's estimate: the sampled small apps' seconds times ``small`` over their
    count, plus the same for the large ones (each kind scaled by its own sample)."""


def kubectl_sampled(
    kubeconfig: pathlib.Path, work: pathlib.Path, layout: Layout, every: int, dest: str
) -> Sampled:
    """``kubectl apply --server-side`` once per sampled app directory, in sequence (a large
    app's one run carries all its objects), scaled to the whole fleet."""
    picked = layout.sample(every)
    spent = {True: 0.0, False: 0.0}
    count = {True: 0, False: 0}
    for index in picked:
        started = time.perf_counter()
        env.kubectl_apply(kubeconfig, dest, work / layout.path(index) / "cms.yaml")
        small = index < layout.small
        spent[small] += time.perf_counter() - started
        count[small] += 1
    scaled = sum(
        spent[kind] * total / count[kind]
        for kind, total in ((True, layout.small), (False, layout.large))
        if count[kind]
    )
    return Sampled(every, len(picked), spent[True] + spent[False], scaled)
