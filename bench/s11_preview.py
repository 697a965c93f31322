"""S11 preview: ``tether preview`` of the whole Kubeflow distribution, one component changed.

The corpus as a user's fork (``distributions/kubeflow`` added and pointed at it), committed as
the base; the head commit changes the Jupyter web app's image tag. Beside it, one ``kustomize
build`` of that component, the cost a reviewer would pay by hand. Two preview figures:

- warm: as a CI job keeping ``~/.cache/tether`` between runs, the base commit was previewed
  before (its mirror, checkout and renders are on disk); a fresh previewer (a new process's
  memory) previews base..head. The goal: at most twice the ``kustomize build``.
- cold: an empty cache directory (the mirror fetched, both commits checked out and rendered).

Each figure is the best of ``ROUNDS`` rounds, alternating with the ``kustomize build``.
"""

from __future__ import annotations

import pathlib
import shutil
import time
from typing import Any

from bench import env
from tether import bootstrap
from tether.core.preview.changes import Outcome
from tether.core.sources import distribution
from tether.services import kubeflow
from tether.settings import Settings

DISTRIBUTION = pathlib.Path(__file__).resolve().parent.parent / "distributions" / "kubeflow"
FORK_URL = "https://git.example/acme/kubeflow.git"
COMPONENT = "applications/jupyter/jupyter-web-app/upstream/overlays/istio"
"""The changed component's path: what the Application ``jupyter-web-app`` renders."""
CHANGED_FILE = "applications/jupyter/jupyter-web-app/upstream/base/kustomization.yaml"
ROUNDS = 3
GOAL_RATIO = 2.0
"""The issue's goal: the preview within twice the ``kustomize build`` of the changed component."""


def make_fork(workdir: pathlib.Path) -> tuple[pathlib.Path, str, str]:
    """The fork with two commits; returns its path, the base SHA and the head SHA."""
    fork = workdir / "s11-fork"
    shutil.copytree(env.CORPUS, fork, symlinks=True)
    shutil.copytree(DISTRIBUTION, fork / "distributions" / "kubeflow")
    kubeflow.init(
        fork / "distributions" / "kubeflow",
        distribution.Pointing(FORK_URL, "main", FORK_URL, "main"),
    )
    env.git("init", "--quiet", "-b", "main", str(fork))
    env.git("add", "-A", cwd=fork)
    env.git("commit", "--quiet", "-m", "base", cwd=fork)
    base = env.git("rev-parse", "HEAD", cwd=fork)
    changed = fork / CHANGED_FILE
    changed.write_text(changed.read_text().replace("newTag: v1.10.0", "newTag: v1.11.0", 1))
    env.git("commit", "--quiet", "-am", "jupyter-web-app v1.11.0", cwd=fork)
    return fork, base, env.git("rev-parse", "HEAD", cwd=fork)


async def _preview(fork: pathlib.Path, cache: pathlib.Path, base: str, head: str) -> Any:
    previewer = bootstrap.previewer(Settings(cache_dir=str(cache)), str(fork))
    return await previewer.preview(base, head)


def _kustomize_build(fork: pathlib.Path) -> float:
    started = time.perf_counter()
    env.run([env.kustomize(), "build", str(fork / COMPONENT)])
    return time.perf_counter() - started


async def run(workdir: pathlib.Path) -> dict[str, Any]:
    """Measure S11 (no cluster needed)."""
    fork, base, head = make_fork(workdir)
    _kustomize_build(fork)  # page the binary and the tree in before either side
    builds, warm, cold = [], [], []
    result = None
    for round_ in range(1 if env.QUICK else ROUNDS):
        builds.append(_kustomize_build(fork))
        cache = workdir / f"s11-cache-{round_}"
        started = time.perf_counter()
        await _preview(fork, cache, base, head)
        cold.append(time.perf_counter() - started)
        # The warm case: a cache that saw the base before (the main branch's last run).
        warm_cache = workdir / f"s11-warm-{round_}"
        await _preview(fork, warm_cache, base, base)
        started = time.perf_counter()
        result = await _preview(fork, warm_cache, base, head)
        warm.append(time.perf_counter() - started)
    assert result is not None
    changed = sorted(a.app for a in result.apps if a.outcome is Outcome.CHANGED)
    rendered = sum(a.outcome is not Outcome.SKIPPED for a in result.apps)
    build = min(builds)
    warm_s, cold_s = min(warm), min(cold)
    env.log(f"s11: kustomize build {build:.2f}s, preview {warm_s:.2f}s warm, {cold_s:.2f}s cold")
    return {
        "apps": len(result.apps),
        "apps_rendered": rendered,
        "apps_changed": ",".join(changed),
        "kustomize_build_s": round(build, 3),
        "preview_warm_s": round(min(warm), 3),
        "preview_cold_s": round(min(cold), 3),
        "warm_vs_kustomize": round(min(warm) / build, 2),
        "cold_vs_kustomize": round(min(cold) / build, 2),
        "goal_ratio": GOAL_RATIO,
    }
