"""The Argo CD ``AppProject`` resource: what an Application in a project may deploy, and where.

``default_project`` is the project Argo CD creates on first start; it allows everything.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pydantic

from tether.model._base import ArgoModel, ObjectMeta
from tether.model.application import (
    API_VERSION,
    GROUP as APPLICATION_GROUP,
    format_validation_error,
)
from tether.model.errors import InvalidInputError
from tether.model.resources import GroupKind

KIND = "AppProject"
GROUP_KIND = GroupKind(APPLICATION_GROUP, KIND)
DEFAULT_PROJECT_NAME = "default"


class ProjectDestination(ArgoModel):
    """A permitted destination; every field is a glob and may be negated with a leading ``!``."""

    server: str | None = None
    name: str | None = None
    namespace: str | None = None


class GroupKindPattern(ArgoModel):
    """A group/kind pair of globs (Go ``filepath.Match`` syntax), as in the namespaced lists."""

    group: str
    kind: str


class ClusterResourceRestriction(ArgoModel):
    """A cluster-scoped group/kind pair of globs, optionally limited to names matching ``name``."""

    group: str
    kind: str
    name: str | None = None


class OrphanedResourceKey(ArgoModel):
    """Objects that orphaned-resource monitoring ignores."""

    group: str | None = None
    kind: str | None = None
    name: str | None = None


class OrphanedResourcesMonitorSettings(ArgoModel):
    """Orphaned-resource monitoring; present (even empty) means enabled."""

    warn: bool | None = None
    ignore: list[OrphanedResourceKey] | None = None


class SyncWindow(ArgoModel):
    """A cron-scheduled window that allows or denies syncs for matching apps."""

    kind: str | None = None
    schedule: str | None = None
    duration: str | None = None
    applications: list[str] | None = None
    namespaces: list[str] | None = None
    clusters: list[str] | None = None
    manual_sync: bool | None = None
    time_zone: str | None = None
    and_operator: bool | None = None
    description: str | None = None
    sync_overrun: bool | None = None


class JWTToken(ArgoModel):
    """A token issued for a project role (only ids and times; the token itself is never stored)."""

    iat: int
    exp: int | None = None
    id: str | None = None


class ProjectRole(ArgoModel):
    """A project role: Casbin policies, SSO groups and issued tokens."""

    name: str
    description: str | None = None
    policies: list[str] | None = None
    groups: list[str] | None = None
    jwt_tokens: list[JWTToken] | None = None


class SignatureKey(ArgoModel):
    """A GnuPG key id whose commit signatures the project accepts."""

    key_id: str


class DestinationServiceAccount(ArgoModel):
    """The service account to impersonate when syncing to a destination."""

    server: str
    namespace: str | None = None
    default_service_account: str


class AppProjectSpec(ArgoModel):
    """The rules of a project. Unset and empty lists differ: see ``tether.core.app.policy``."""

    source_repos: list[str] | None = None
    source_namespaces: list[str] | None = None
    destinations: list[ProjectDestination] | None = None
    cluster_resource_whitelist: list[ClusterResourceRestriction] | None = None
    cluster_resource_blacklist: list[ClusterResourceRestriction] | None = None
    namespace_resource_whitelist: list[GroupKindPattern] | None = None
    namespace_resource_blacklist: list[GroupKindPattern] | None = None
    orphaned_resources: OrphanedResourcesMonitorSettings | None = None
    sync_windows: list[SyncWindow] | None = None
    roles: list[ProjectRole] | None = None
    description: str | None = None
    signature_keys: list[SignatureKey] | None = None
    destination_service_accounts: list[DestinationServiceAccount] | None = None
    permit_only_project_scoped_clusters: bool | None = None


class AppProjectStatus(ArgoModel):
    """Status Argo CD keeps for a project (issued tokens by role); carried through unchanged."""

    jwt_tokens_by_role: dict[str, Any] | None = None


class AppProject(ArgoModel):
    """An Argo CD AppProject."""

    api_version: str | None = None
    kind: str | None = None
    metadata: ObjectMeta
    spec: AppProjectSpec
    status: AppProjectStatus | None = None

    @property
    def name(self) -> str:
        """The project's name."""
        return self.metadata.name or ""


def default_project(namespace: str) -> dict[str, Any]:
    """The manifest of the built-in ``default`` project, which allows every source and target.

    The same content Argo CD creates on first start, so a cluster moving between the two keeps
    its meaning: any repository, any destination, and every cluster-scoped kind.
    """
    return {
        "apiVersion": API_VERSION,
        "kind": KIND,
        "metadata": {"name": DEFAULT_PROJECT_NAME, "namespace": namespace},
        "spec": {
            "sourceRepos": ["*"],
            "destinations": [{"server": "*", "namespace": "*"}],
            "clusterResourceWhitelist": [{"group": "*", "kind": "*"}],
        },
    }


def parse_project(obj: object) -> AppProject:
    """Validate a decoded AppProject manifest.

    Raises:
        InvalidInputError: The object is not a valid AppProject; the message names it and every
            offending field.
    """
    if not isinstance(obj, Mapping):
        raise InvalidInputError(f"{KIND}: expected a mapping, got {type(obj).__name__}")
    meta = obj.get("metadata")
    name = meta.get("name") if isinstance(meta, Mapping) else None
    what = f"{KIND} {name if isinstance(name, str) else '<unnamed>'}"
    api_version, kind = obj.get("apiVersion"), obj.get("kind")
    if api_version is not None and api_version != API_VERSION:
        raise InvalidInputError(f"{what}: apiVersion: expected {API_VERSION}, got {api_version!r}")
    if kind is not None and kind != KIND:
        raise InvalidInputError(f"{what}: kind: expected {KIND}, got {kind!r}")
    try:
        return AppProject.model_validate(dict(obj))
    except pydantic.ValidationError as error:
        raise InvalidInputError(format_validation_error(what, error)) from None
