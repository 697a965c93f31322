"""Composition for this machine: the real tools, the local control plane and local Git servers.

For ``tether dev-cluster``, ``tether demo``, ``tether kubeflow init``, tests and benchmarks;
re-exported by :mod:`tether.bootstrap`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import pathlib
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from tether import ports
from tether.adapters.devcluster import cluster, gitserver, tools
from tether.adapters.kube.client import open_context
from tether.adapters.render import renderer as render_adapter
from tether.core.sources import rendering
from tether.services import manifests


def tool_locator() -> ports.ToolLocator:
    """The locator for helm, kustomize and the control-plane binaries."""
    return tools.ToolLocator()


def manifest_service_for_directory(
    root: str | os.PathLike[str], by_url: Mapping[str, str] | None = None
) -> manifests.ManifestService:
    """A manifest service rendering every repoURL from a local directory (``by_url`` overrides).

    For checks of a working tree without Git (``tether kubeflow init``), with the real tools.
    """
    local = manifests.DirectoryRepos(os.fspath(root), by_url)
    return manifests.ManifestService(
        local,
        render_adapter.Renderer(rendering.RenderSettings(), tool_locator()),
        cache_bytes=64 << 20,
    )


def tool_components() -> tuple[str, ...]:
    """Every tool build there is, in build order (``apiserver`` gives the three kube-*)."""
    return tuple(dict.fromkeys(tools.COMPONENT_OF_TOOL.values()))


def build_tools(*components: str, progress: Callable[[str], None] | None = None) -> dict[str, str]:
    """Build (or find cached) tool components; returns each one's binary directory.

    ``progress`` hears what the build is doing, line by line.
    """
    built = tools.build(*components, progress=progress)
    return {name: str(path) for name, path in built.items()}


def dev_cluster_up(
    directory: pathlib.Path,
    tier: str,
    *,
    die_with_parent: bool = False,
    audit: bool = False,
    progress: Callable[[str], None] = lambda _msg: None,
) -> DevCluster:
    """Start a local control plane (see ``tether.adapters.devcluster.cluster``)."""
    state = cluster.up(
        directory, tier, die_with_parent=die_with_parent, audit=audit, progress=progress
    )
    return DevCluster(
        directory=pathlib.Path(state.directory),
        tier=state.tier,
        server=state.server,
        kubeconfig=state.kubeconfig,
        etcd_url=state.etcd_url,
        audit_log=pathlib.Path(state.audit_log) if state.audit_log else None,
    )


def dev_cluster_down(directory: pathlib.Path) -> list[str]:
    """Stop the local control plane started from ``directory``."""
    return cluster.down(directory)


@contextlib.contextmanager
def temporary_dev_cluster(tier: str, *, prefix: str, audit: bool = False) -> Iterator[DevCluster]:
    """A local control plane in a fresh temporary directory, for tests and benchmarks.

    On tmpfs when there is one (etcd's writes are then free); its processes die with this one,
    and the directory is removed afterwards.
    """
    root = "/dev/shm" if os.path.isdir("/dev/shm") else None
    directory = pathlib.Path(tempfile.mkdtemp(prefix=prefix, dir=root))
    started = dev_cluster_up(directory, tier, die_with_parent=True, audit=audit)
    try:
        yield started
    finally:
        dev_cluster_down(directory)
        shutil.rmtree(directory, ignore_errors=True)


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
    audit_log: pathlib.Path | None = None
    """The API server's audit log of writes (``audit=True``), else ``None``."""


cluster_client = open_context
"""A client for a kubeconfig context, with its server URL, CA and insecure flag (for
``tether cluster``, which may not import adapters itself)."""


def serve_git_folder(
    content: pathlib.Path, cluster_dir: pathlib.Path, name: str, *, replace: dict[str, str]
) -> gitserver.ServedRepo:
    """Commit a folder into a Git repository served on 127.0.0.1, stopped with the dev cluster."""
    served = gitserver.serve_folder(content, cluster_dir / "git", name, replace=replace)
    cluster.adopt(cluster_dir, f"git-daemon-{name}", served.pid)
    return served
