"""Preview fixtures: a Git repository made in the test, and ``tether preview`` run on it."""

from __future__ import annotations

import json
import pathlib
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from tests.support.gitservers import SeedRepo, git
from tether.adapters.devcluster import tools
from tether.cli.main import cli

REPO_URL = "https://git.example/acme/deploy.git"
"""What the test apps name as their repoURL: ``--repo-root`` stands in for it."""


def app(name: str, path: str, **source: Any) -> str:
    """An Application manifest reading ``path`` of the repository (``source``: more fields)."""
    return yaml.safe_dump(
        {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Application",
            "metadata": {"name": name, "namespace": "tether"},
            "spec": {
                "project": "default",
                "source": {"repoURL": REPO_URL, "targetRevision": "main", "path": path, **source},
                "destination": {"server": "https://kubernetes.default.svc", "namespace": name},
            },
        },
        sort_keys=False,
    )


def config_map(name: str, **data: str) -> str:
    """A ConfigMap manifest."""
    body = "".join(f"  {k}: {json.dumps(v)}\n" for k, v in data.items())
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n{body}"


@pytest.fixture
def isolated(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Caches (Git mirrors, renders) of this test only; the built tools where they are."""
    monkeypatch.setenv("TETHER_TOOLS_CACHE", str(tools.cache_dir()))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))


@pytest.fixture
def repo(tmp_path: pathlib.Path, isolated: None) -> SeedRepo:
    """An empty repository on ``main``."""
    work = tmp_path / "repo"
    work.mkdir()
    git("init", "--quiet", "-b", "main", str(work))
    return SeedRepo(work)


Preview = Callable[..., Result]


@pytest.fixture
def preview(repo: SeedRepo) -> Iterator[Preview]:
    """Run ``tether preview --base BASE --head HEAD --repo-root REPO [ARGS...]``."""

    def run(base: str, head: str, *args: str, output: str = "text") -> Result:
        argv = ["preview", "--base", base, "--head", head, "--repo-root", str(repo.work)]
        return CliRunner().invoke(cli, [*argv, "-o", output, *args], catch_exceptions=False)

    yield run


def report(result: Result) -> dict[str, Any]:
    """The JSON report of a run, by app name."""
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def outcomes(result: Result) -> Mapping[str, str]:
    """Each app's outcome in a JSON report."""
    return {a["app"]: a["outcome"] for a in report(result)["apps"]}
