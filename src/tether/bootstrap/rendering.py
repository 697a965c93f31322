"""The rendering side, wired: Git mirrors, the renderer, their disk caches, a repo-server's service.

What they trust (SSH host keys, per-host CAs) and which plugins they may run come from functions
asked on every use: the live ConfigMaps for a controller rendering itself, the mounted files of
``settings`` (re-read when they change) for a repo-server.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable

from tether.adapters import configfiles
from tether.adapters.git import MirrorCache, checkouts
from tether.adapters.git.repos import CredentialLookup
from tether.adapters.render import renderer as render_adapter
from tether.adapters.render.helmrepos import CredentialLookup as HelmCredentialLookup
from tether.adapters.rendercache import DiskRenderCache
from tether.bootstrap.disk import DiskCaches
from tether.bootstrap.local import tool_locator
from tether.bootstrap.telemetry import Telemetry
from tether.core.sources import remote, renderconfig, rendering
from tether.services import manifests, preview
from tether.services.credentials import RequestCredentials
from tether.settings import Settings

TrustFunction = Callable[[], renderconfig.HostTrust]


def _files_trust(settings: Settings) -> TrustFunction:
    return configfiles.host_trust(settings.ssh_known_hosts_file, settings.tls_certs_dir)


def git_repos(
    settings: Settings,
    credentials: CredentialLookup | None = None,
    trust: TrustFunction | None = None,
    live: Callable[[], Settings] | None = None,
    tally: Telemetry | None = None,
) -> MirrorCache:
    """The Git mirror cache, with credentials looked up by URL (anonymous without a lookup).

    ``trust`` gives the SSH host keys and TLS CAs in force (the settings' files without it);
    ``live`` the settings now, when the resync period may change while running; ``tally``
    counts Git requests for the metrics.
    """
    return MirrorCache(
        os.path.join(settings.cache_dir, "git"),
        credentials=credentials,
        trust=trust or _files_trust(settings),
        allow_local=settings.allow_local_repos,
        resolve_ttl=(lambda: live().revision_cache_ttl) if live else settings.revision_cache_ttl,
        observe=tally.observe_git if tally is not None else None,
    )


def remote_policy(settings: Settings) -> remote.RemotePolicy:
    """Where fetches may go: the listed remote hosts; loopback only with local repositories."""
    return remote.RemotePolicy(
        hosts=settings.remote_hosts, allow_loopback=settings.allow_local_repos
    )


def renderer(
    settings: Settings,
    trust: TrustFunction | None = None,
    helm_credentials: HelmCredentialLookup | None = None,
) -> render_adapter.Renderer:
    """The renderer over the real helm, kustomize, gojsonnet and ``settings.plugin_dirs``.

    ``trust`` as for ``git_repos``; ``helm_credentials`` looks up a project's Helm repository
    credentials (anonymous without).
    """
    return render_adapter.Renderer(
        rendering.RenderSettings(
            cache_dir=os.path.join(settings.cache_dir, "render"),
            remote=remote_policy(settings),
        ),
        tool_locator(),
        helm_credentials=helm_credentials,
        plugins=configfiles.plugins(settings.plugin_dirs),
        trust=trust or _files_trust(settings),
    )


def disk_caches(
    settings: Settings,
    credentials: CredentialLookup,
    trust: TrustFunction | None = None,
    *,
    live: Callable[[], Settings] | None = None,
    helm_credentials: HelmCredentialLookup | None = None,
    tally: Telemetry | None = None,
) -> DiskCaches:
    """Git mirrors, the renderer and rendered manifests under ``settings.cache_dir``.

    Git and Helm trust what ``trust`` says.
    """
    git = git_repos(settings, credentials, trust, live, tally)
    rendered = disk_render_cache(settings)
    return DiskCaches(git, renderer(settings, trust, helm_credentials), settings, rendered)


@dataclasses.dataclass(frozen=True)
class Rendering:
    """What ``tether repo-server`` renders with; it holds no Kubernetes client at all."""

    manifests: manifests.ManifestService
    credentials: RequestCredentials
    """Each request's own credentials, for the Git adapter and for scrubbing."""
    disk: DiskCaches
    telemetry: Telemetry
    """Its Git requests by repository."""


def repo_server_rendering(settings: Settings) -> Rendering:
    """The manifest service of a repo-server: Git and render caches under ``cache_dir``.

    It trusts its own files (``--ssh-known-hosts-file``, ``--tls-certs-dir``); build options come
    with each request, from the controller's ``argocd-cm``.
    """
    credentials = RequestCredentials()
    tally = Telemetry()
    disk = disk_caches(
        settings, credentials.lookup, helm_credentials=credentials.lookup_helm, tally=tally
    )
    return Rendering(disk.manifest_service(), credentials, disk, tally)


def previewer(settings: Settings, repo_root: str) -> preview.Previewer:
    """``tether preview``'s service over the local repository ``repo_root``.

    Through the Git mirrors (local repositories allowed, for this one), the renderer and the
    render cache on disk.
    """
    git = git_repos(dataclasses.replace(settings, allow_local_repos=True))
    rendered = disk_render_cache(settings)

    async def commit_named(name: str) -> str | None:
        return await checkouts.commit_named(repo_root, name)

    return preview.Previewer(
        git, renderer(settings), repo_root, disk=rendered, commit_named=commit_named
    )


def disk_render_cache(settings: Settings) -> DiskRenderCache | None:
    """The render cache on disk under ``cache_dir`` (``None`` when sized 0)."""
    if settings.render_cache_disk_mib <= 0:
        return None
    return DiskRenderCache(
        os.path.join(settings.cache_dir, "manifests"),
        max_bytes=settings.render_cache_disk_mib << 20,
        min_idle_s=settings.disk_cache_idle.total_seconds(),
    )
