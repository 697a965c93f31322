"""What the settings pages show of repositories, clusters, projects and accounts.

Read once from the API's JSON, which never carries a credential (the API leaves them out).
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar
from urllib.parse import quote


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _strings(value: Any) -> tuple[str, ...]:
    return tuple(v for v in value if isinstance(v, str)) if isinstance(value, list) else ()


def _dicts(value: Any) -> list[Mapping[str, Any]]:
    return [v for v in value if isinstance(v, Mapping)] if isinstance(value, list) else []


def when(epoch: Any) -> str:
    """A Unix time as UTC to the minute; ``""`` for none (0, absent: a token that never ends)."""
    if not isinstance(epoch, int | float) or isinstance(epoch, bool) or epoch <= 0:
        return ""
    moment = datetime.datetime.fromtimestamp(epoch, datetime.UTC)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


@dataclasses.dataclass(frozen=True)
class RepoView:
    """A repository as the API lists it (credentials are write-only there)."""

    url: str
    type: str
    name: str
    project: str
    username: str
    insecure: bool


def repo_view(item: Mapping[str, Any]) -> RepoView:
    """The view of one item of ``GET /api/v1/repositories``."""
    return RepoView(
        url=_str(item.get("repo")),
        type=_str(item.get("type")) or "git",
        name=_str(item.get("name")),
        project=_str(item.get("project")),
        username=_str(item.get("username")),
        insecure=bool(item.get("insecure") or item.get("insecureIgnoreHostKey")),
    )


@dataclasses.dataclass(frozen=True)
class ClusterView:
    """A cluster as the API lists it: where it is and what it is scoped to, no credential."""

    name: str
    server: str
    namespaces: tuple[str, ...]
    cluster_resources: bool
    project: str
    labels: Mapping[str, str]
    insecure: bool


def cluster_view(item: Mapping[str, Any]) -> ClusterView:
    """The view of one item of ``GET /api/v1/clusters``."""
    tls = (item.get("config") or {}).get("tlsClientConfig") or {}
    labels = item.get("labels") or {}
    return ClusterView(
        name=_str(item.get("name")),
        server=_str(item.get("server")),
        namespaces=_strings(item.get("namespaces")),
        cluster_resources=item.get("clusterResources") is True,
        project=_str(item.get("project")),
        labels={str(k): str(v) for k, v in labels.items()} if isinstance(labels, Mapping) else {},
        insecure=tls.get("insecure") is True,
    )


@dataclasses.dataclass(frozen=True)
class Destination:
    """Where a project's apps may deploy (``*`` globs allowed)."""

    server: str
    name: str
    namespace: str


@dataclasses.dataclass(frozen=True)
class Kind:
    """A ``group``/``kind`` entry of a project's resource allow or deny list."""

    group: str
    kind: str

    @property
    def text(self) -> str:
        """``kind.group``, or ``kind`` for the core group."""
        return f"{self.kind}.{self.group}" if self.group else self.kind


@dataclasses.dataclass(frozen=True)
class Token:
    """An issued token: its id and lifetime, never the token itself."""

    id: str
    issued: str
    expires: str


@dataclasses.dataclass(frozen=True)
class Role:
    """A project role: its policies, the groups that hold it, its tokens."""

    name: str
    description: str
    policies: tuple[str, ...]
    groups: tuple[str, ...]
    tokens: tuple[Token, ...]


@dataclasses.dataclass(frozen=True)
class Window:
    """A sync window."""

    kind: str
    schedule: str
    duration: str
    time_zone: str
    applications: tuple[str, ...]
    namespaces: tuple[str, ...]
    clusters: tuple[str, ...]
    manual_sync: bool
    description: str


@dataclasses.dataclass(frozen=True)
class ProjectView:
    """An AppProject's rules as the settings pages show them."""

    name: str
    description: str
    source_repos: tuple[str, ...]
    source_namespaces: tuple[str, ...]
    destinations: tuple[Destination, ...]
    cluster_allow: tuple[Kind, ...]
    cluster_deny: tuple[Kind, ...]
    namespace_allow: tuple[Kind, ...]
    namespace_deny: tuple[Kind, ...]
    roles: tuple[Role, ...]
    windows: tuple[Window, ...]
    orphaned_warn: bool | None
    """``None`` when orphaned resources are not watched; else whether they raise a warning."""

    @property
    def href(self) -> str:
        """The project's page."""
        return "/settings/projects/" + quote(self.name, safe="")


def _kinds(value: Any) -> tuple[Kind, ...]:
    return tuple(Kind(_str(k.get("group")), _str(k.get("kind"))) for k in _dicts(value))


def _token(raw: Mapping[str, Any]) -> Token:
    return Token(_str(raw.get("id")), when(raw.get("iat")), when(raw.get("exp")))


def _role_tokens(role: Mapping[str, Any], by_role: Mapping[str, Any]) -> tuple[Token, ...]:
    """A role's tokens, ids and lifetimes only.

    Those listed in ``status.jwtTokensByRole`` (where the server lists the tokens it issues),
    then those of older Argo CD's ``spec.roles[].jwtTokens``.
    """
    listed = by_role.get(_str(role.get("name")))
    items = listed.get("items") if isinstance(listed, Mapping) else None
    return tuple(_token(t) for t in (*_dicts(items), *_dicts(role.get("jwtTokens"))))


def project_view(obj: Mapping[str, Any]) -> ProjectView:
    """The view of an AppProject as the API answers it."""
    spec = obj.get("spec") or {}
    by_role = (obj.get("status") or {}).get("jwtTokensByRole") or {}
    orphaned = spec.get("orphanedResources")
    return ProjectView(
        name=_str((obj.get("metadata") or {}).get("name")),
        description=_str(spec.get("description")),
        source_repos=_strings(spec.get("sourceRepos")),
        source_namespaces=_strings(spec.get("sourceNamespaces")),
        destinations=tuple(
            Destination(_str(d.get("server")), _str(d.get("name")), _str(d.get("namespace")))
            for d in _dicts(spec.get("destinations"))
        ),
        cluster_allow=_kinds(spec.get("clusterResourceWhitelist")),
        cluster_deny=_kinds(spec.get("clusterResourceBlacklist")),
        namespace_allow=_kinds(spec.get("namespaceResourceWhitelist")),
        namespace_deny=_kinds(spec.get("namespaceResourceBlacklist")),
        roles=tuple(
            Role(
                name=_str(r.get("name")),
                description=_str(r.get("description")),
                policies=_strings(r.get("policies")),
                groups=_strings(r.get("groups")),
                tokens=_role_tokens(r, by_role if isinstance(by_role, Mapping) else {}),
            )
            for r in _dicts(spec.get("roles"))
        ),
        windows=tuple(
            Window(
                kind=_str(w.get("kind")),
                schedule=_str(w.get("schedule")),
                duration=_str(w.get("duration")),
                time_zone=_str(w.get("timeZone")),
                applications=_strings(w.get("applications")),
                namespaces=_strings(w.get("namespaces")),
                clusters=_strings(w.get("clusters")),
                manual_sync=w.get("manualSync") is True,
                description=_str(w.get("description")),
            )
            for w in _dicts(spec.get("syncWindows"))
        ),
        orphaned_warn=(
            (orphaned.get("warn") is not False) if isinstance(orphaned, Mapping) else None
        ),
    )


@dataclasses.dataclass(frozen=True)
class AccountView:
    """A local account: whether it may sign in, what it may do, its API keys' ids and lifetimes."""

    name: str
    enabled: bool
    capabilities: tuple[str, ...]
    tokens: tuple[Token, ...]


def account_view(item: Mapping[str, Any]) -> AccountView:
    """The view of one item of ``GET /api/v1/account``."""
    return AccountView(
        name=_str(item.get("name")),
        enabled=item.get("enabled") is not False,
        capabilities=_strings(item.get("capabilities")),
        tokens=tuple(
            Token(_str(t.get("id")), when(t.get("issuedAt")), when(t.get("expiresAt")))
            for t in _dicts(item.get("tokens"))
        ),
    )


T = TypeVar("T")


def views(items: Sequence[Any], make: Callable[[Mapping[str, Any]], T]) -> list[T]:
    """``make`` applied to every object among ``items``."""
    return [make(item) for item in items if isinstance(item, Mapping)]
