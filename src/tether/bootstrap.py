"""The composition root: builds adapters from settings and hands them to services and entry points.

Entry points never import adapters; they ask this module for wired objects.
"""

from __future__ import annotations

import dataclasses
import os
import pathlib
from collections.abc import Callable, Mapping
from typing import Any

from tether import ports
from tether.adapters.devcluster import cluster, tools
from tether.adapters.render import renderer
from tether.core import sources
from tether.services import manifests
from tether.settings import Settings


def tool_locator(settings: Settings | None = None) -> ports.ToolLocator:
    """The locator for helm, kustomize and the control-plane binaries."""
    del settings
    return tools.ToolLocator()


def manifest_service_for_directory(
    root: str | os.PathLike[str], by_url: Mapping[str, str] | None = None
) -> manifests.ManifestService:
    """A manifest service rendering every repoURL from a local directory (``by_url`` overrides).

    For checks of a working tree without Git (``tether kubeflow init``), with the real tools.
    """
    local = manifests.DirectoryRepos(os.fspath(root), by_url)
    return manifests.ManifestService(
        local, renderer.Renderer(sources.RenderSettings(), tool_locator()), cache_size=64
    )


def build_tools(*components: str) -> dict[str, str]:
    """Build (or find cached) tool components; returns each one's binary directory."""
    return {name: str(path) for name, path in tools.build(*components).items()}


def dev_cluster_up(
    directory: pathlib.Path,
    tier: str,
    *,
    die_with_parent: bool = False,
    progress: Callable[[str], None] = lambda _msg: None,
) -> DevCluster:
    """Start a local control plane (see ``tether.adapters.devcluster.cluster``)."""
    state = cluster.up(directory, tier, die_with_parent=die_with_parent, progress=progress)
    return DevCluster(
        directory=pathlib.Path(state.directory),
        tier=state.tier,
        server=state.server,
        kubeconfig=state.kubeconfig,
        etcd_url=state.etcd_url,
    )


def dev_cluster_down(directory: pathlib.Path) -> list[str]:
    """Stop the local control plane started from ``directory``."""
    return cluster.down(directory)


def dev_cluster_status(directory: pathlib.Path) -> dict[str, Any]:
    """Describe the local control plane started from ``directory``."""
    return cluster.status(directory)


@dataclasses.dataclass(frozen=True)
class DevCluster:
    """A running local control plane, as entry points and tests see it."""

    directory: pathlib.Path
    tier: str
    server: str
    kubeconfig: pathlib.Path
    etcd_url: str
