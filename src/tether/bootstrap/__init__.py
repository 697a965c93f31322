"""The composition root: builds adapters from settings and hands them to services and entry points.

Entry points never import adapters; they ask this module for wired objects.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime
import functools
import logging
import pathlib
import signal
from collections.abc import Callable, Mapping
from typing import Any

from tether import ports
from tether.adapters.httpserver import Listen, serve as serve_http
from tether.adapters.jqrunner import JqRunner
from tether.adapters.kube import execauth
from tether.adapters.kube.cache import ClusterCache
from tether.adapters.kube.client import KubeClient
from tether.adapters.kube.livestate import CacheLiveState
from tether.adapters.oidc import OidcHttp
from tether.adapters.reposerver import RepoServerClient
from tether.bootstrap import sharding, systemconfig
from tether.bootstrap.disk import DiskCaches
from tether.bootstrap.local import (
    DevCluster,
    build_tools,
    cluster_client,
    dev_cluster_down,
    dev_cluster_status,
    dev_cluster_up,
    manifest_service_for_directory,
    serve_git_folder,
    temporary_dev_cluster,
    tool_components,
    tool_locator,
)
from tether.bootstrap.remote import ApiClient, api_client, oidc_sign_in
from tether.bootstrap.rendering import (
    Rendering,
    disk_caches,
    git_repos,
    previewer,
    remote_policy,
    renderer,
    repo_server_rendering,
)
from tether.bootstrap.reposerver import MIN_TOKEN_LENGTH, read_token_file, repo_server_client
from tether.bootstrap.telemetry import Telemetry
from tether.core.cluster import versions
from tether.core.cluster.versions import ClusterVersions
from tether.core.config.system import SystemConfig
from tether.core.diff import tracking
from tether.model.application import Application
from tether.model.clusters import IN_CLUSTER, IN_CLUSTER_SERVER, ClusterEntry, ClusterRegistry
from tether.model.errors import InvalidInputError
from tether.services.appwriter import AppWriter
from tether.services.argoconfig import ArgoConfig
from tether.services.auth.oidc import RevocationCheck
from tether.services.auth.oidcconfig import SsoConfigReader
from tether.services.auth.oidcflow import Sso
from tether.services.clientside import ClientSide
from tether.services.compare import Comparer
from tether.services.credentials import RepoCredentials
from tether.services.deletion import Deleter
from tether.services.destinations import Destination, Destinations
from tether.services.dryruns import DryRuns
from tether.services.install import Installer
from tether.services.sync import waiting
from tether.services.sync.runner import SyncRunner
from tether.services.sync.writer import SyncWriter
from tether.settings import Settings

log = logging.getLogger(__name__)

__all__ = [
    # Re-exported for entry points, which take every adapter-backed object from here.
    "MIN_TOKEN_LENGTH",
    "ApiClient",
    "DevCluster",
    "DiskCaches",
    "Listen",
    "Rendering",
    "api_client",
    "build_tools",
    "cluster_client",
    "dev_cluster_down",
    "dev_cluster_status",
    "dev_cluster_up",
    "git_repos",
    "manifest_service_for_directory",
    "oidc_sign_in",
    "previewer",
    "read_token_file",
    "remote_policy",
    "renderer",
    "repo_server_client",
    "repo_server_rendering",
    "serve_git_folder",
    "serve_http",
    "temporary_dev_cluster",
    "tool_components",
    "tool_locator",
]


def stop_on_signals() -> asyncio.Event:
    """An event SIGTERM or SIGINT sets, in the running loop: how every process is asked to stop."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    return stop


def now() -> datetime.datetime:
    """The wall clock, in UTC: the one clock services and entry points are given."""
    return datetime.datetime.now(datetime.UTC)


@dataclasses.dataclass(kw_only=True)
class Runtime:
    """Everything wired for one cluster: the client, the live cache and the services over them.

    Use ``async with await bootstrap.runtime(settings) as rt:``; closing stops every watch,
    worker and connection it started.
    """

    settings: Settings
    clock: Callable[[], datetime.datetime]
    """The wall clock every service and entry point reads (``now`` unless a test gives another)."""
    cluster: ports.Cluster
    live: ports.LiveState
    manifests: ports.ManifestSource
    """Renders Applications: the in-process manifest service, or a repo-server's client."""
    comparer: Comparer
    syncer: SyncRunner
    apps: AppWriter
    """Writes Applications as the controller (``settings.status_field_manager``)."""
    installer: Installer
    credentials: RepoCredentials
    destinations: Destinations
    """Every destination cluster: this one, and the others of the cluster Secrets."""
    disk: DiskCaches | None
    """The render caches on this process's disk; none when a repo-server renders."""
    telemetry: Telemetry
    """Kubernetes requests by app and cluster, Git requests by repository (for metrics)."""
    config: ArgoConfig
    """Argo CD's ConfigMaps in the control-plane namespace: the configuration in force."""
    tracking: tracking.Tracking
    """How objects are marked as an app's: from argocd-cm at start, fixed until a restart."""
    _base_settings: Settings
    """The settings as given, before the ConfigMaps (``settings`` is after them, at start)."""
    _client: KubeClient
    _cache: ClusterCache
    _jq: JqRunner
    _remote: RepoServerClient | None = None
    _live_settings: tuple[SystemConfig, Settings] | None = None
    _may_write: Callable[[], bool] | None = None

    async def live_start(self) -> None:
        """Start the watch-fed cache (when ``runtime(start_cache=False)`` left it idle)."""
        await self._cache.start()

    def live_settings(self) -> Settings:
        """The settings now: ``settings`` with what the ConfigMaps say now (flags still win).

        Only some fields can change while running (the resync periods, the sync timeout); the
        others were taken at start (docs/configuration.md says which).
        """
        current = self.config.current
        cached = self._live_settings
        if cached is None or cached[0] is not current:
            # Once per change of the configuration: the controller asks on every event.
            cached = self._live_settings = (current, self._base_settings.configured(current))
        return cached[1]

    async def versions_for(self, app: Application) -> ClusterVersions:
        """What ``app``'s cluster renders for (``LiveState.versions``), without a watch cache.

        This cluster's, discovered if need be; another's only when it is connected already.
        """
        try:
            entry = self.destinations.resolve(app)
        except InvalidInputError:
            return versions.UNKNOWN  # its comparison says why; nothing to render for
        if entry.is_in_cluster:
            await self._client.discovery.ensure()
            return self.live.versions()
        for destination in self.destinations.every():
            if destination.entry.server == entry.server:
                return destination.live.versions()
        return versions.UNKNOWN  # connecting (a full watch cache) costs more than it saves

    def cached_objects(self) -> int:
        """How many objects the live cache holds."""
        return len(self._cache)

    def requests(self) -> dict[str, int]:
        """Kubernetes requests sent so far, by verb (for metrics and benchmarks)."""
        return dict(self._client.counter.snapshot())

    def for_callers(self) -> Runtime:
        """This runtime for the API server, its writes unfenced by the controller's Lease.

        (Its callers' requests, which a standby replica serves too; all else is shared.)
        """
        client = self._client.unfenced()
        apps = AppWriter(client, self.settings.status_field_manager)
        return dataclasses.replace(self, cluster=client, apps=apps, _client=client)

    async def reload_credentials(self) -> list[str]:
        """Read the repository and cluster Secrets of the control-plane namespace again.

        Returns why Secrets were skipped, one message each.
        """
        namespace = self.settings.control_plane_namespace
        secrets, _ = await self.cluster.list("v1", "Secret", namespace)
        return self.credentials.load_labelled(secrets) + await self.destinations.load(
            secrets, exec_commands=self.settings.cluster_exec_commands
        )

    async def _connect(self, entry: ClusterEntry) -> Destination:
        """Connect to another cluster as its Secret says, with services like this cluster's."""
        resolved = await execauth.resolve(entry)
        client = KubeClient.for_cluster(resolved.entry)
        client.counter.observer = self.telemetry.kube_observer(entry.server)
        if self._may_write is not None:
            client.fence(self._may_write)  # a replica that lost the Lease writes nowhere
        sharding.identify(client, self.settings)
        cache = ClusterCache(
            client, health=self._fingerprint, freeze_gc=False, tracking_config=self.tracking
        )
        live = CacheLiveState(cache, client)
        unfollow = systemconfig.follow_filters(cache, self.config, entry.server)

        async def close() -> None:
            unfollow()
            await cache.stop()
            await client.aclose()

        try:
            await cache.start()
            await cache.wait_synced(CLUSTER_SYNC_TIMEOUT_S)
        except BaseException:
            await close()
            raise
        comparer, syncer, deleter = _cluster_services(
            self.settings,
            self.manifests,
            client,
            live,
            self.apps,
            jq=self._jq,
            clock=self.clock,
            server=entry.server,
            clusters=self.destinations.registry,
            config=self.config,
            sync_timeout=lambda: self.live_settings().sync_timeout,
            tracked_by=self.tracking,
            applications=self.live,
        )
        renew_at = resolved.renew_at(self.clock())
        return Destination(entry, client, live, comparer, syncer, deleter, close, renew_at)

    def leader_election(self, identity: str) -> ports.LeaderElection:
        """A candidate for the controller's Lease; this runtime then writes only while it leads."""
        elector = sharding.leader_elector(self._client, self.settings, identity)
        self._client.fence(elector.may_write)
        self._may_write = elector.may_write
        return elector

    def sharding(self, identity: str, owns: Callable[[str, str], bool]) -> ports.Membership:
        """This replica's membership; from now on it writes for an app only while it owns it."""
        sharding.identify(self._client, self.settings)
        member, self._may_write = sharding.membership(self._client, self.settings, identity, owns)
        self._client.fence(self._may_write)
        return member

    def _fingerprint(self, obj: Mapping[str, Any]) -> object:
        return systemconfig.health_fingerprint(obj, self.config.current)

    async def close(self) -> None:
        """Stop the caches and close connections and workers."""
        await self.config.stop()
        await self.destinations.close()
        await self._cache.stop()
        self._jq.close()
        if self._remote is not None:
            await self._remote.aclose()
        await self._client.aclose()

    async def __aenter__(self) -> Runtime:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


async def runtime(
    settings: Settings | None = None,
    *,
    kubeconfig: pathlib.Path | str | None = None,
    start_cache: bool = True,
    clock: Callable[[], datetime.datetime] = now,
    system_config: bool = False,
    manifests_from: ports.ManifestSource | None = None,
) -> Runtime:
    """Wire a runtime for the cluster of ``kubeconfig`` (or the environment's).

    ``manifests_from``: where comparisons get desired state instead of the Git mirrors or a
    repo-server (``tether preview --cluster``: a local commit).

    With ``system_config`` (the controller), Argo CD's ConfigMaps in the control-plane namespace
    are read first: what they set (flags given explicitly aside) is in ``settings``, and
    ``config`` keeps them up to date once started (``Runtime.config.start()``).
    """
    base = settings or Settings()
    settings = base
    credentials = RepoCredentials()
    client = KubeClient.from_kubeconfig(kubeconfig)
    tally = Telemetry()
    client.counter.observer = tally.kube_observer(IN_CLUSTER_SERVER)
    config = ArgoConfig(client, settings.control_plane_namespace)
    try:
        if system_config:
            settings = base.configured(await config.load())
        # A bad repo-server setting stops start-up before anything else is started.
        remote_client = (
            repo_server_client(settings, credentials, lambda: config.current.build_options)
            if settings.repo_server
            else None
        )
    except BaseException:
        await client.aclose()
        raise

    def fingerprint(obj: Mapping[str, Any]) -> object:
        return systemconfig.health_fingerprint(obj, config.current)

    tracked_by = config.current.tracking
    config.subscribe(functools.partial(systemconfig.warn_tracking_change, tracked_by))
    cache = ClusterCache(
        client,
        health=fingerprint,
        freeze_gc=settings.freeze_gc,
        tracking_config=tracked_by,
        fallback_namespace=settings.control_plane_namespace,  # a namespaced install's Role
    )
    systemconfig.follow_filters(cache, config, IN_CLUSTER_SERVER)
    live = CacheLiveState(cache, client)
    jq = JqRunner()
    disk: DiskCaches | None = None
    service: ports.ManifestSource
    if manifests_from is not None:
        service = manifests_from
    elif remote_client is not None:
        service = remote_client
    else:  # rendering here: Git and Helm trust what the live ConfigMaps say now
        disk = disk_caches(
            settings,
            credentials.lookup,
            lambda: config.current.host_trust,
            live=lambda: base.configured(config.current),
            helm_credentials=credentials.lookup_helm,
            tally=tally,
        )
        service = disk.manifest_service(lambda: config.current.build_options)
    apps = AppWriter(client, settings.status_field_manager)
    destinations = Destinations()
    comparer, syncer, deleter = _cluster_services(
        settings,
        service,
        client,
        live,
        apps,
        jq=jq,
        clock=clock,
        server=IN_CLUSTER_SERVER,
        clusters=destinations.registry,
        config=config,
        sync_timeout=lambda: base.configured(config.current).sync_timeout,
        tracked_by=tracked_by,
        applications=live,
    )
    installer = Installer(
        client,
        field_manager=settings.field_manager,
        namespace=settings.control_plane_namespace,
        rediscover=client.discovery.refresh,
    )
    if start_cache:
        await cache.start()
    rt = Runtime(
        settings=settings,
        clock=clock,
        cluster=client,
        live=live,
        manifests=service,
        comparer=comparer,
        syncer=syncer,
        apps=apps,
        installer=installer,
        credentials=credentials,
        destinations=destinations,
        disk=disk,
        telemetry=tally,
        config=config,
        tracking=tracked_by,
        _base_settings=base,
        _client=client,
        _cache=cache,
        _jq=jq,
        _remote=remote_client,
    )
    # The runtime closes its own client and cache: nothing to do when its destination goes.
    local = Destination(IN_CLUSTER, client, live, comparer, syncer, deleter, close=_nothing)
    destinations.wire(local, rt._connect)
    return rt


async def _nothing() -> None:
    return None


CLUSTER_SYNC_TIMEOUT_S = 60.0
"""How long another cluster's first list may take before its apps report it unreachable."""


def _cluster_services(
    settings: Settings,
    service: ports.ManifestSource,
    client: KubeClient,
    live: ports.LiveState,
    apps: AppWriter,
    *,
    jq: JqRunner,
    clock: Callable[[], datetime.datetime],
    server: str,
    clusters: Callable[[], ClusterRegistry],
    config: ArgoConfig,
    sync_timeout: Callable[[], datetime.timedelta | None],
    tracked_by: tracking.Tracking,
    applications: ports.LiveState,
) -> tuple[Comparer, SyncRunner, Deleter]:
    """The comparer, sync runner and deleter over one cluster's client and live state.

    Renders, jq and the Application writer are shared: Applications live in the control cluster
    whatever cluster they deploy to (``applications``: its cache, where dependencies are read).
    """
    client_side = ClientSide(client, field_manager=settings.field_manager)
    dry_runs = DryRuns(client, live, client_side, field_manager=settings.field_manager)
    comparer = Comparer(
        service,
        client,
        live,
        dry_runs,
        field_manager=settings.field_manager,
        control_plane_namespace=settings.control_plane_namespace,
        jq=jq,
        server=server,
        clusters=clusters,
        config=lambda: config.current,
        clock=clock,
        tracked_by=tracked_by,
    )
    # One writer for syncs and deletions: each trusts what the other wrote moments ago.
    writer = SyncWriter(client, live, dry_runs, client_side, field_manager=settings.field_manager)
    depends = waiting.Dependencies(applications, lambda: settings.app_namespaces)
    syncer = SyncRunner(
        live, comparer, writer, apps, clock=clock, sync_timeout=sync_timeout, depends=depends
    )
    deleter = Deleter(
        live,
        comparer,
        writer,
        apps,
        control_plane_namespace=settings.control_plane_namespace,
        clock=clock,
    )
    return comparer, syncer, deleter


def sso(rt: Runtime, *, revoked: RevocationCheck | None = None) -> Sso:
    """SSO for the API server of ``rt``'s control plane: its OIDC issuer reached over HTTPS.

    ``revoked`` is the sessions service's check of logged-out tokens. Close with ``aclose``.
    """
    reader = SsoConfigReader(rt.cluster, rt.settings.control_plane_namespace, rt.clock)

    def provider(root_ca: str, insecure_skip_verify: bool) -> ports.OidcProvider:
        return OidcHttp(root_ca=root_ca, insecure_skip_verify=insecure_skip_verify)

    return Sso(reader, provider, rt.clock, revoked=revoked)
