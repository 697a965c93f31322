"""S4 render: the 27 entries of Kubeflow's ``example/kustomization.yaml``, each its own source.

Cold: a fresh ``ManifestService`` renders all 27 apps at once, against ``kustomize build`` of
the same 27 paths run directly with the same parallelism (the service's 4 render slots), in
three alternating rounds, each side's best round kept. Warm: the same 27 renders again from the
service's cache. CPU seconds (this process and its reaped children, the tools) stand beside the
wall times, and tether's own CPU is reported apart from its tools'.

Both sides read a read-only snapshot of the corpus, the shape of a Git checkout in production:
a writable tree is a local working copy, scanned for escaping symlinks on every render (27 walks
of the whole corpus, +0.4 s of CPU), so a freshly cloned, writable corpus used to measure a path
production never takes.
"""

from __future__ import annotations

import asyncio
import cProfile
import pathlib
import posixpath
import pstats
import resource
import shutil
import stat
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import yaml

from bench import env
from tether import bootstrap
from tether.model.application import API_VERSION, Application, parse_application
from tether.services import manifests

CORPUS_URL = "https://github.com/kubeflow/manifests.git"
PARALLELISM = manifests.DEFAULT_PARALLELISM
SESSIONS = True
"""Each kustomize in a session of its own, as tether starts its tools (``_process.run``): with
the kernel's autogroup scheduling on, a session is a scheduling group, so under load tether's 4
tools got 4 groups' share of the CPU against the baseline's 1 (shared with this process), and
the ratio moved with the machine's load and its autogroup setting, not with tether."""
ROUNDS = 3
"""Cold rounds per side, alternating kustomize and tether: one round each measured the machine's
load drift between the two (the tools' own CPU moved by up to 14% between back-to-back runs)."""


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


def service(corpus: pathlib.Path = env.CORPUS) -> manifests.ManifestService:
    """A manifest service reading every repoURL from the corpus directory, with the real tools."""
    return bootstrap.manifest_service_for_directory(corpus)


def read_only_snapshot(corpus: pathlib.Path, into: pathlib.Path) -> pathlib.Path:
    """``corpus`` as a read-only tree under ``into``, as Git checkouts are (``writable`` undoes)."""
    if not _is_writable(corpus):
        return corpus
    snapshot = into / "corpus"
    shutil.copytree(corpus, snapshot, symlinks=True)
    _set_writable(snapshot, False)
    return snapshot


def writable(tree: pathlib.Path) -> None:
    """Give a snapshot's directories their write bit back, so the work directory can be removed."""
    _set_writable(tree, True)


def _is_writable(path: pathlib.Path) -> bool:
    return bool(stat.S_IMODE(path.stat().st_mode) & 0o222)


def _set_writable(tree: pathlib.Path, on: bool) -> None:
    for directory in [tree, *(p for p in tree.rglob("*") if p.is_dir() and not p.is_symlink())]:
        mode = stat.S_IMODE(directory.stat().st_mode)
        directory.chmod(mode | stat.S_IWUSR if on else mode & ~0o222)


async def render_all(svc: manifests.ManifestService, apps: list[Application]) -> int:
    """Render every app concurrently; returns how many objects they produced."""
    results = await asyncio.gather(*(svc.render_application(a) for a in apps))
    count = 0
    for app, result in zip(apps, results, strict=True):
        if isinstance(result, manifests.RenderFailed):
            raise RuntimeError(f"{app.name}: {result.message}")
        count += len(result.manifests)
    return count


async def kustomize_all(paths: list[str], corpus: pathlib.Path = env.CORPUS) -> float:
    """Seconds for ``kustomize build`` of every path, ``PARALLELISM`` at a time."""
    binary = env.kustomize()

    async def one(path: str) -> None:
        proc = await asyncio.create_subprocess_exec(
            binary,
            "build",
            str(corpus / path),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=SESSIONS,
        )
        out, err = await proc.communicate()
        if proc.returncode != 0:
            raise RuntimeError(f"kustomize build {path}: {err.decode(errors='replace')[-500:]}")
        del out

    started = time.perf_counter()
    await env.bounded(PARALLELISM, [one(p) for p in paths])
    return time.perf_counter() - started


class ThreadProfiles:
    """cProfile in every thread started while on: the parse, the symlink scan and the reference
    checks run in worker threads, which the event loop's profile (``s4.prof``) never sees."""

    def __init__(self) -> None:
        self._profiles: list[cProfile.Profile] = []
        self._lock = threading.Lock()

    def _first_call(self, *_: Any) -> None:  # a profile hook: (frame, event, arg)
        profile = cProfile.Profile()
        with self._lock:
            self._profiles.append(profile)
        profile.enable()  # from here on this thread reports to its own profile

    def start(self) -> None:
        """Profile threads started from now on."""
        threading.setprofile(self._first_call)

    def stop(self) -> None:
        """No more new threads profiled (running ones go on until they end)."""
        threading.setprofile(None)

    def dump(self, path: pathlib.Path) -> None:
        """Every thread's profile merged into one file."""
        with self._lock:
            profiles = list(self._profiles)
        if profiles:
            merged = pstats.Stats(profiles[0])
            for profile in profiles[1:]:
                merged.add(profile)
            merged.dump_stats(path)


def cpu_s() -> float:
    """CPU seconds of this process and of its children reaped so far."""
    own, tools = cpu_split()
    return own + tools


def cpu_split() -> tuple[float, float]:
    """CPU seconds of this process, and of its children (the tools) reaped so far."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


async def run(workdir: pathlib.Path) -> dict[str, Any]:
    """Measure S4 (no cluster needed)."""
    corpus = read_only_snapshot(env.CORPUS, workdir)
    try:
        return await _measure(corpus, workdir)
    finally:
        if corpus != env.CORPUS:
            writable(corpus)


async def _measure(corpus: pathlib.Path, workdir: pathlib.Path) -> dict[str, Any]:
    paths = example_paths(corpus)[: env.scaled(27)]
    apps = [application(p) for p in paths]
    await kustomize_all(paths[:1], corpus)  # page the binary and the tree in before either side
    for tool in ("helm", "kustomize"):
        # Located once per process (a build-cache lookup), outside both timings alike.
        bootstrap.tool_locator().path_of(tool)
    kustomize_runs: list[tuple[float, float]] = []  # (wall s, CPU s)
    cold_runs: list[tuple[float, float, float]] = []  # (wall s, own CPU s, tools' CPU s)
    for round_ in range(ROUNDS):
        own_before, tools_before = cpu_split()
        wall = await kustomize_all(paths, corpus)
        own_after, tools_after = cpu_split()
        kustomize_runs.append((wall, own_after - own_before + tools_after - tools_before))
        svc = service(corpus)  # a fresh service: every round renders cold
        profiler = cProfile.Profile() if env.PROFILE and round_ == 0 else None
        threads = ThreadProfiles() if profiler else None
        if profiler and threads:
            # Fresh worker threads, so every one of them starts under the thread hook.
            asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor())
            threads.start()
            profiler.enable()
        own_before, tools_before = cpu_split()
        started = time.perf_counter()
        objects = await render_all(svc, apps)
        wall = time.perf_counter() - started
        own_after, tools_after = cpu_split()
        cold_runs.append((wall, own_after - own_before, tools_after - tools_before))
        if profiler and threads:
            profiler.disable()
            threads.stop()
            profiler.dump_stats(workdir / "s4.prof")
            threads.dump(workdir / "s4-threads.prof")
    # Noise on a shared machine only ever adds time, so each side's best round is its figure.
    kustomize_s, kustomize_cpu_s = min(kustomize_runs)
    cold_s, cold_own_cpu_s, cold_tools_cpu_s = min(cold_runs)
    cold_cpu_s = cold_own_cpu_s + cold_tools_cpu_s
    warm = []
    for _ in range(5):
        started = time.perf_counter()
        await render_all(svc, apps)
        warm.append(time.perf_counter() - started)
    env.log(
        f"S4: {objects} objects, cold {cold_s:.2f} s ({cold_cpu_s:.2f} s CPU: "
        f"{cold_own_cpu_s:.2f} s tether, {cold_tools_cpu_s:.2f} s tools) vs kustomize "
        f"{kustomize_s:.2f} s ({kustomize_cpu_s:.2f} s CPU)"
    )
    return {
        "entries": len(paths),
        "objects": objects,
        "cold_s": cold_s,
        "kustomize_s": kustomize_s,
        "cold_ratio": cold_s / kustomize_s,
        "cold_cpu_s": cold_cpu_s,
        "cold_own_cpu_s": cold_own_cpu_s,
        "cold_tools_cpu_s": cold_tools_cpu_s,
        "kustomize_cpu_s": kustomize_cpu_s,
        "cold_cpu_ratio": cold_cpu_s / kustomize_cpu_s,
        "warm_ms": min(warm) * 1000,
        "corpus_snapshot": corpus != env.CORPUS,
        "rounds": ROUNDS,
        "cold_s_spread": max(r[0] for r in cold_runs) / cold_s,
        "kustomize_s_spread": max(r[0] for r in kustomize_runs) / kustomize_s,
    }
