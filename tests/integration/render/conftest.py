"""Render test fixtures: the real renderer over the built helm and kustomize, repo helpers."""

from __future__ import annotations

import os
import pathlib
import textwrap
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from tether.adapters.devcluster import tools
from tether.adapters.render.renderer import Plugins, Renderer, Trust
from tether.core.sources import kubeyaml, renderconfig, rendering
from tether.model.application import API_VERSION, Application, parse_application
from tether.services import manifests as service

CORPUS = pathlib.Path(__file__).resolve().parents[4] / "shared" / "corpus"
KUBEFLOW = CORPUS / "kubeflow-manifests"

CANARY = "tether-canary-7f3a9c"
"""Content of files outside the repository; no error or output may ever contain it."""


def make_renderer(
    tmp: pathlib.Path,
    limits: kubeyaml.Limits = kubeyaml.DEFAULT_LIMITS,
    *,
    plugins: Plugins = (),
    trust: Trust = renderconfig.NO_TRUST,
    **settings: Any,
) -> Renderer:
    """The real renderer with scratch and chart caches under ``tmp``."""
    return Renderer(
        rendering.RenderSettings(cache_dir=str(tmp / "render-cache"), **settings),
        tools.ToolLocator(),
        limits,
        plugins=plugins,
        trust=trust,
    )


@pytest.fixture
def renderer(tmp_path: pathlib.Path) -> Renderer:
    return make_renderer(tmp_path)


@pytest.fixture
def workspace(tmp_path: pathlib.Path) -> pathlib.Path:
    """A directory holding ``repo/`` (the repository) and, beside it, a canary secret."""
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret.yaml").write_text(f"token: {CANARY}\n")
    (tmp_path / "repo").mkdir()
    return tmp_path


@pytest.fixture
def repo(workspace: pathlib.Path) -> pathlib.Path:
    return workspace / "repo"


def write(root: pathlib.Path, files: Mapping[str, str]) -> None:
    """Write dedented files under ``root``, creating directories."""
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"))


def application(
    source: Mapping[str, Any] | None = None,
    *,
    sources_: list[Mapping[str, Any]] | None = None,
    name: str = "demo",
    namespace: str = "apps",
    annotations: Mapping[str, str] | None = None,
) -> Application:
    """An Application as the controller reads it from the cluster."""
    spec: dict[str, Any] = {"project": "default", "destination": {"namespace": namespace}}
    if sources_ is not None:
        spec["sources"] = sources_
    else:
        spec["source"] = {"repoURL": "https://git.example/repo.git", **(source or {})}
    meta: dict[str, Any] = {"name": name, "namespace": "tether"}
    if annotations:
        meta["annotations"] = dict(annotations)
    return parse_application(
        {"apiVersion": API_VERSION, "kind": "Application", "metadata": meta, "spec": spec}
    )


def edited(app: Application, change: Callable[[dict[str, Any]], object]) -> Application:
    """``app`` after ``change`` edits its manifest in place (parsed again, as from the cluster)."""
    manifest = app.to_manifest()
    change(manifest)
    return parse_application(manifest)


RenderFn = Callable[..., Any]


@pytest.fixture
def render(renderer: Renderer, repo: pathlib.Path) -> RenderFn:
    """Render an Application over ``repo`` through the service the controller uses."""

    async def run(app: Application, root: pathlib.Path | None = None, **kwargs: Any) -> Any:
        use_case = service.ManifestService(service.DirectoryRepos(str(root or repo)), renderer)
        return await use_case.render_application(app, **kwargs)

    return run


def ok(result: service.RenderResult) -> list[dict[str, Any]]:
    """The objects of a successful render, or a failure with the render's message."""
    if isinstance(result, service.RenderFailed):
        pytest.fail(result.message)
    return list(result.manifests)


def failed(result: service.RenderResult) -> str:
    """The message of a failed render; also checks that no outside content leaked."""
    assert isinstance(result, service.RenderFailed), "expected the render to fail"
    assert CANARY not in result.message
    return result.message


def names(objects: list[dict[str, Any]]) -> list[str]:
    return [o["metadata"]["name"] for o in objects]


def by_kind(objects: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [o for o in objects if o.get("kind") == kind]


def tool_available(tool: str) -> bool:
    try:
        return os.path.exists(tools.path_of(tool))
    except Exception:
        return False
