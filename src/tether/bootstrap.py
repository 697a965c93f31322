"""The composition root: builds adapters from settings and hands them to services and entry points.

Entry points never import adapters; they ask this module for wired objects.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime
import os
import pathlib
import shutil
import tempfile
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from typing import Any

from tether import ports
from tether.adapters.devcluster import cluster, gitserver, tools
from tether.adapters.git import MirrorCache
from tether.adapters.jqrunner import JqRunner
from tether.adapters.kube.cache import ClusterCache
from tether.adapters.kube.client import KubeClient
from tether.adapters.kube.lease import LeaderElector
from tether.adapters.kube.livestate import CacheLiveState
from tether.adapters.render import renderer as render_adapter
from tether.core import health
from tether.core.app import crds
from tether.core.sources import rendering, repocreds
from tether.model.errors import TetherError
from tether.model.project import default_project
from tether.services import manifests
from tether.services.compare import Comparer
from tether.services.sync import SyncRunner
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
        local, render_adapter.Renderer(rendering.RenderSettings(), tool_locator()), cache_size=64
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


@contextlib.contextmanager
def temporary_dev_cluster(tier: str, *, prefix: str) -> Iterator[DevCluster]:
    """A local control plane in a fresh temporary directory, for tests and benchmarks.

    On tmpfs when there is one (etcd's writes are then free); its processes die with this one,
    and the directory is removed afterwards.
    """
    root = "/dev/shm" if os.path.isdir("/dev/shm") else None
    directory = pathlib.Path(tempfile.mkdtemp(prefix=prefix, dir=root))
    started = dev_cluster_up(directory, tier, die_with_parent=True)
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


@dataclasses.dataclass
class Runtime:
    """Everything wired for one cluster: the client, the live cache and the services over them.

    Use ``async with await bootstrap.runtime(settings) as rt:``; closing stops every watch,
    worker and connection it started.
    """

    settings: Settings
    cluster: ports.Cluster
    live: ports.LiveState
    manifests: manifests.ManifestService
    comparer: Comparer
    syncer: SyncRunner
    requests: Callable[[], dict[str, int]]
    """Kubernetes requests sent so far, by verb (for metrics and benchmarks)."""
    _close: Callable[[], Awaitable[None]]
    _client: KubeClient
    _start: Callable[[], Awaitable[None]]

    async def live_start(self) -> None:
        """Start the watch-fed cache (when ``runtime(start_cache=False)`` left it idle)."""
        await self._start()

    def cached_objects(self) -> int:
        """How many objects the live cache holds."""
        return self._cached()

    _cached: Callable[[], int] = lambda: 0
    _credentials: RepoCredentialSource = dataclasses.field(
        default_factory=lambda: RepoCredentialSource()
    )

    async def reload_credentials(self) -> list[str]:
        """Read the repository Secrets of the control-plane namespace; returns problems found."""
        secrets, _ = await self._client.list("v1", "Secret", self.settings.control_plane_namespace)
        wanted = [
            s
            for s in secrets
            if ((s.get("metadata") or {}).get("labels") or {}).get(repocreds.SECRET_TYPE_LABEL)
            in ("repository", "repo-creds")
        ]
        self._credentials.load(wanted)
        return list(self._credentials.problems)

    def leader_election(self, identity: str) -> ports.LeaderElection:
        """A candidate for the controller's Lease in the control-plane namespace."""
        return LeaderElector(
            self._client, self.settings.lease_name, self.settings.control_plane_namespace, identity
        )

    async def install_crds(self) -> list[str]:
        """Apply the Application and AppProject CRDs, the namespace and the default project."""
        done = []
        for crd in crds.manifests().values():
            await self._client.apply(crd, field_manager=self.settings.field_manager, force=True)
            done.append(f"customresourcedefinition/{crd['metadata']['name']}")
        await self._wait_established()
        namespace = self.settings.control_plane_namespace
        await self._client.apply(
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}},
            field_manager=self.settings.field_manager,
        )
        done.append(f"namespace/{namespace}")
        await self._client.discovery.refresh()
        await self._client.apply(
            default_project(namespace), field_manager=self.settings.field_manager
        )
        done.append(f"appproject/{namespace}/default")
        return done

    async def crd_problems(self) -> list[str]:
        """Why the installed CRDs cannot serve tether (empty when they can)."""
        problems = []
        for crd in crds.manifests().values():
            name = str(crd["metadata"]["name"])
            live = await self._client.get(
                "apiextensions.k8s.io/v1", "CustomResourceDefinition", name
            )
            if live is None:
                problems.append(f"CRD {name} is not installed (run `tether install-crds`)")
                continue
            problems.extend(f"CRD {name}: {p}" for p in crds.check_installed(live))
        return problems

    async def _wait_established(self, timeout_s: float = 30.0) -> None:
        deadline = asyncio.get_running_loop().time() + timeout_s
        while asyncio.get_running_loop().time() < deadline:
            if not await self.crd_problems():
                return
            await asyncio.sleep(0.2)

    async def close(self) -> None:
        """Stop the cache and close connections and workers."""
        await self._close()

    async def __aenter__(self) -> Runtime:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


def _health_fingerprint(obj: Mapping[str, Any]) -> object:
    """What of an object's status matters: its health verdict. Other status churn is dropped."""
    verdict = health.assess(obj)
    return None if verdict is None else (verdict.status, verdict.message)


def now() -> datetime.datetime:
    """The wall clock, in UTC: the one place services and entry points get the time from."""
    return datetime.datetime.now(datetime.UTC)


class RepoCredentialSource:
    """Repository credentials from Argo CD-format Secrets, swapped whole on every reload."""

    def __init__(self) -> None:
        self.store = repocreds.CredentialStore()
        self.problems: list[str] = []

    def lookup(self, url: str) -> repocreds.RepoCredentials | None:
        """The credentials for a Git repository URL, if any Secret provides them."""
        return self.store.lookup(url, "git")

    def load(self, secrets: Sequence[Mapping[str, Any]]) -> None:
        """Rebuild from Secrets; a malformed one is skipped and named, never quoted."""
        good: list[Mapping[str, Any]] = []
        self.problems = []
        for secret in secrets:
            try:
                repocreds.CredentialStore.from_secrets([secret])
            except TetherError as err:
                name = (secret.get("metadata") or {}).get("name", "?")
                self.problems.append(f"repository Secret {name}: {err}")
                continue
            good.append(secret)
        self.store = repocreds.CredentialStore.from_secrets(good)


def git_repos(
    settings: Settings, credentials: RepoCredentialSource | None = None
) -> ports.GitRepos:
    """The Git mirror cache, with credentials from Argo CD-format Secrets."""
    return MirrorCache(
        os.path.join(settings.cache_dir, "git"),
        credentials=credentials.lookup if credentials else None,
        known_hosts=settings.known_hosts,
        allow_local=settings.allow_local_repos,
        resolve_ttl=settings.revision_cache_ttl,
    )


def renderer(settings: Settings) -> ports.Renderer:
    """The renderer over the real helm, kustomize, gojsonnet and configured plugins."""
    return render_adapter.Renderer(
        rendering.RenderSettings(cache_dir=os.path.join(settings.cache_dir, "render")),
        tools.ToolLocator(),
    )


async def runtime(
    settings: Settings | None = None,
    *,
    kubeconfig: pathlib.Path | str | None = None,
    start_cache: bool = True,
) -> Runtime:
    """Wire a runtime for the cluster of ``kubeconfig`` (or the environment's)."""
    settings = settings or Settings()
    client = KubeClient.from_kubeconfig(kubeconfig)
    cache = ClusterCache(client, health=_health_fingerprint, freeze_gc=settings.freeze_gc)
    live = CacheLiveState(cache, client)
    jq = JqRunner()
    credentials = RepoCredentialSource()
    service = manifests.ManifestService(git_repos(settings, credentials), renderer(settings))
    comparer = Comparer(
        service,
        client,
        live,
        field_manager=settings.field_manager,
        control_plane_namespace=settings.control_plane_namespace,
        jq=jq,
    )
    syncer = SyncRunner(
        client,
        live,
        comparer,
        field_manager=settings.field_manager,
        clock=now,
        sync_timeout=settings.sync_timeout,
        status_field_manager=settings.status_field_manager,
    )

    async def close() -> None:
        await cache.stop()
        jq.close()
        await client.aclose()

    if start_cache:
        await cache.start()
    return Runtime(
        settings,
        client,
        live,
        service,
        comparer,
        syncer,
        lambda: dict(client.counter.snapshot()),
        close,
        client,
        cache.start,
        lambda: len(cache),
        credentials,
    )


def serve_git_folder(
    content: pathlib.Path, cluster_dir: pathlib.Path, name: str, *, replace: dict[str, str]
) -> gitserver.ServedRepo:
    """Commit a folder into a Git repository served on 127.0.0.1, stopped with the dev cluster."""
    served = gitserver.serve_folder(content, cluster_dir / "git", name, replace=replace)
    cluster.adopt(cluster_dir, f"git-daemon-{name}", served.pid)
    return served
