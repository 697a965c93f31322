"""S4 render: the 27 entries of Kubeflow's ``example/kustomization.yaml``, each its own source.

Cold: a fresh ``ManifestService`` over the corpus directory renders all 27 apps at once, against
``kustomize build`` of the same 27 paths run directly with the same parallelism (the service's
4 render slots). Warm: the same 27 renders again from the service's cache. CPU seconds (this
process and its reaped children, the tools) stand beside the wall times: on a shared machine
they move far less than the wall clock.
"""

from __future__ import annotations

import asyncio
import cProfile
import pathlib
import posixpath
import resource
import time
from typing import Any

import yaml

from bench import env
from tether import bootstrap
from tether.model.application import API_VERSION, Application, parse_application
from tether.services import manifests

CORPUS_URL = "https://github.com/kubeflow/manifests.git"
PARALLELISM = manifests.DEFAULT_PARALLELISM


def example_paths(corpus: pathlib.Path = env.CORPUS) -> list[str]:
    """The example's entries as repository-relative paths, in the file's order."""
    example = yaml.safe_load((corpus / "example" / "kustomization.yaml").read_text())
    return [posixpath.normpath(posixpath.join("example", str(e))) for e in example["resources"]]


def entry_name(path: str) -> str:
    """A DNS-safe Application name for an entry path."""
    return path.replace("/", "-").replace("_", "-").lower()[-63:].strip("-")


def application(path: str, namespace: str = "kubeflow") -> Application:
    """An ad-hoc Application rendering one entry from the corpus."""
    return parse_application(
        {
            "apiVersion": API_VERSION,
            "kind": "Application",
            "metadata": {"name": entry_name(path), "namespace": env.APP_NAMESPACE},
            "spec": {
                "project": "default",
                "source": {"repoURL": CORPUS_URL, "targetRevision": "HEAD", "path": path},
                "destination": {"server": "https://kubernetes.default.svc", "namespace": namespace},
            },
        }
    )


def service() -> manifests.ManifestService:
    """A manifest service reading every repoURL from the corpus directory, with the real tools."""
    return bootstrap.manifest_service_for_directory(env.CORPUS)


async def render_all(svc: manifests.ManifestService, apps: list[Application]) -> int:
    """Render every app concurrently; returns how many objects they produced."""
    results = await asyncio.gather(*(svc.render_application(a) for a in apps))
    count = 0
    for app, result in zip(apps, results, strict=True):
        if isinstance(result, manifests.RenderFailed):
            raise RuntimeError(f"{app.name}: {result.message}")
        count += len(result.manifests)
    return count


async def kustomize_all(paths: list[str]) -> float:
    """Seconds for ``kustomize build`` of every path, ``PARALLELISM`` at a time."""
    binary = env.kustomize()

    async def one(path: str) -> None:
        proc = await asyncio.create_subprocess_exec(
            binary,
            "build",
            str(env.CORPUS / path),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await proc.communicate()
        if proc.returncode != 0:
            raise RuntimeError(f"kustomize build {path}: {err.decode(errors='replace')[-500:]}")
        del out

    started = time.perf_counter()
    await env.bounded(PARALLELISM, [one(p) for p in paths])
    return time.perf_counter() - started


def cpu_s() -> float:
    """CPU seconds of this process and of its children reaped so far."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


async def run(workdir: pathlib.Path) -> dict[str, Any]:
    """Measure S4 (no cluster needed)."""
    paths = example_paths()[: env.scaled(27)]
    apps = [application(p) for p in paths]
    await kustomize_all(paths[:1])  # page the binary in before either side is timed
    for tool in ("helm", "kustomize"):
        # Located once per process (a build-cache lookup), outside both timings alike.
        bootstrap.tool_locator().path_of(tool)
    cpu_before = cpu_s()
    kustomize_s = await kustomize_all(paths)
    kustomize_cpu_s = cpu_s() - cpu_before
    svc = service()
    profiler = cProfile.Profile() if env.PROFILE else None
    if profiler:
        profiler.enable()
    cpu_before = cpu_s()
    started = time.perf_counter()
    objects = await render_all(svc, apps)
    cold_s = time.perf_counter() - started
    cold_cpu_s = cpu_s() - cpu_before
    if profiler:
        profiler.disable()
        profiler.dump_stats(workdir / "s4.prof")
    warm = []
    for _ in range(5):
        started = time.perf_counter()
        await render_all(svc, apps)
        warm.append(time.perf_counter() - started)
    env.log(
        f"S4: {objects} objects, cold {cold_s:.2f} s ({cold_cpu_s:.2f} s CPU) vs kustomize "
        f"{kustomize_s:.2f} s ({kustomize_cpu_s:.2f} s CPU)"
    )
    return {
        "entries": len(paths),
        "objects": objects,
        "cold_s": cold_s,
        "kustomize_s": kustomize_s,
        "cold_ratio": cold_s / kustomize_s,
        "cold_cpu_s": cold_cpu_s,
        "kustomize_cpu_s": kustomize_cpu_s,
        "cold_cpu_ratio": cold_cpu_s / kustomize_cpu_s,
        "warm_ms": min(warm) * 1000,
    }
