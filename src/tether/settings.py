"""tether's settings, grouped by concern; every default says why it is what it is."""

from __future__ import annotations

import dataclasses
import datetime
import os
from typing import Any

from tether.core.config.system import SystemConfig

FIELD_MANAGER = "tether"
"""The server-side-apply field manager tether applies and dry-runs under."""


def _default_cache_dir() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "tether")


@dataclasses.dataclass(frozen=True)
class Settings:
    """Process-wide configuration, passed down from the entry point through bootstrap."""

    field_manager: str = FIELD_MANAGER
    """Owns the fields tether applies; server-side diff compares only what it owns."""

    status_field_manager: str = "tether-controller"
    """Owns what the controller writes to Applications (status, operation, annotations). Not
    the apply manager: a parent app applies its children as ``tether``, and a child's
    operation written under that same name would look like drift to the parent."""

    app_namespaces: tuple[str, ...] = ("tether",)
    """Namespaces whose Applications this controller reconciles; the first is the control-plane
    namespace (Argo CD's ``argocd``), where Applications get plain tracking names."""

    resync_period: datetime.timedelta = datetime.timedelta(seconds=180)
    """Argo CD's default reconciliation timeout: re-resolve revisions every 3 minutes."""

    resync_jitter: datetime.timedelta = datetime.timedelta(seconds=30)
    """Spreads periodic refreshes so 1,000 apps do not all resolve in the same second."""

    hard_resync_period: datetime.timedelta | None = None
    """Off by default, as in Argo CD: hard refreshes re-render everything."""

    sync_timeout: datetime.timedelta | None = None
    """No timeout by default (Argo CD's ``--sync-timeout`` 0); retries bound the work."""

    workers: int = 20
    """Concurrent app reconciles (Argo CD: 20 status processors); each is mostly waiting."""

    cache_dir: str = dataclasses.field(default_factory=_default_cache_dir)
    """Git mirrors, checked-out trees and pulled charts live under here."""

    allow_local_repos: bool = False
    """``file://`` and local paths as repoURL; off unless explicitly enabled (tests, demo)."""

    remote_hosts: tuple[str, ...] = ()
    """Hosts (globs) that remote references inside repositories may name: kustomize remote
    bases, helm value files by URL. None by default: such a reference is refused until its host
    is listed. Applications' own repoURLs are their AppProject's to allow."""

    cluster_exec_commands: tuple[str, ...] = ()
    """Credential plugins (``execProviderConfig.command``, exactly as written) that cluster
    Secrets may name; none by default, so a cluster Secret never makes tether run a program
    its administrator did not list."""

    git_trees_kept: int = 64
    """Checked-out commits kept on disk: every app's current tree and some history (a tree is
    re-made from the mirror in milliseconds, so this bounds the disk, not the speed)."""

    render_cache_mib: int = 32
    """Rendered manifests kept in memory, in MiB of JSON (least recently used leave first)."""

    render_cache_disk_mib: int = 512
    """Rendered manifests kept on disk under ``cache_dir``, compressed, so a restarted process or
    another replica does not render again what was rendered; least recently used leave first
    when pruned; 0 keeps none. The bench's 1,000 one-ConfigMap apps take 258 KiB: 512 MiB holds
    big charts' renders of many commits, and is small beside the Git trees next to it."""

    charts_kept: int = 64
    """Pulled chart versions kept on disk; others are pulled again when next needed."""

    disk_cache_idle: datetime.timedelta = datetime.timedelta(hours=1)
    """Nothing used more recently than this is pruned: no render holds a tree that long."""

    disk_prune_period: datetime.timedelta = datetime.timedelta(minutes=10)
    """How often trees and charts beyond the limits above are deleted."""

    repo_server: str = ""
    """URL of a ``tether repo-server`` that renders for this controller; empty renders in this
    process. With one, the controller runs no tool and keeps no Git checkouts of its own."""

    repo_server_token_file: str = ""
    """The file holding the bearer token the repo-server expects (required with a URL)."""

    repo_server_ca: str = ""
    """The CA that signed an https repo-server's certificate; the system's CAs when empty."""

    repo_server_timeout: datetime.timedelta = datetime.timedelta(minutes=5)
    """One render may queue behind four others, then fetch (60 s at most) and run a tool (90 s
    at most): five minutes is stuck, not slow."""

    ssh_known_hosts_file: str = ""
    """A repo-server's SSH known_hosts (a mounted ``argocd-ssh-known-hosts-cm``), re-read when
    it changes; a controller rendering itself reads that ConfigMap instead. Empty trusts no
    SSH host."""

    tls_certs_dir: str = ""
    """A repo-server's per-host TLS CAs: a directory laid out as a mounted
    ``argocd-tls-certs-cm`` (one PEM file per host name), re-read when it changes; a controller
    rendering itself reads that ConfigMap instead."""

    plugin_dirs: tuple[str, ...] = ()
    """Directories of ``ConfigManagementPlugin`` files (``*.yaml``) that renders may use, re-read
    when they change. None by default: a source asking for a plugin fails until one is declared."""

    metrics_address: str = "127.0.0.1:8082"
    """Where ``/metrics`` is served; loopback unless configured otherwise."""

    leader_election: bool = True
    """Two replicas never act at once: only the holder of the Lease reconciles."""

    lease_name: str = "tether-controller"
    """The leader's Lease; when sharding, each replica's is ``<lease_name>-shard-<replica>``."""

    sharding: bool = False
    """Replicas split the Applications between them (membership Leases, rendezvous hashing)
    instead of one leader reconciling all (``--sharding``; docs/operations.md)."""

    replica_name: str = ""
    """This replica's name among the shards (``--replica-name``, default the host name: a
    StatefulSet's Pod ``tether-controller-N``); a pin's number N names the replica ``...-N``."""

    log_format: str = "text"
    """``text`` lines for people, or ``json`` (one object per line) for a log pipeline
    (``--log-format``; argocd-cmd-params-cm ``controller.log.format``)."""

    log_level: str = "info"
    """A long-running process says what it watches and each operation at info; ``debug`` adds
    every refresh decision (``--log-level``; argocd-cmd-params-cm ``controller.log.level`` maps
    ``warn`` to ``warning``)."""

    explicit: frozenset[str] = frozenset()
    """Fields given on the command line: Argo CD's ConfigMaps never override them (defaults
    they do)."""

    freeze_gc: bool = True
    """``gc.freeze()`` after the cache's first sync, so collections skip the objects it built
    (a full collection over 50k dicts took over a second). Process-wide: tests turn it off."""

    def configured(self, config: SystemConfig) -> Settings:
        """These settings with what Argo CD's ConfigMaps set, except fields given explicitly."""
        values: dict[str, object] = {
            # None: the key is not set. Zero turns the hard resync off and means no sync
            # timeout, as in Argo CD: the field becomes None.
            "resync_period": config.resync_period,
            "resync_jitter": config.resync_jitter,
            "hard_resync_period": _OFF
            if config.hard_resync_period == _ZERO
            else config.hard_resync_period,
            "sync_timeout": _OFF if config.sync_timeout == _ZERO else config.sync_timeout,
            "workers": config.workers,
            "log_format": config.log_format or None,
            "log_level": config.log_level or None,
            "repo_server_timeout": config.repo_server_timeout,
        }
        changes: dict[str, Any] = {
            name: None if value is _OFF else value
            for name, value in values.items()
            if value is not None and name not in self.explicit
        }
        return dataclasses.replace(self, **changes) if changes else self

    @property
    def revision_cache_ttl(self) -> float:
        """Seconds a resolved branch or tag is trusted: a sixth of the resync period, at most 60.

        A pushed commit is seen within one resync, while a burst of refreshes of apps sharing a
        repository still costs one ``ls-remote``.
        """
        return min(60.0, self.resync_period.total_seconds() / 6 or 60.0)

    @property
    def control_plane_namespace(self) -> str:
        """The first application namespace."""
        return self.app_namespaces[0]


_ZERO = datetime.timedelta(0)
_OFF = object()
"""A ConfigMap value that turns a field off (``None``), unlike an absent key (no change)."""
