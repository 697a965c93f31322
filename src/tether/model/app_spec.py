"""The desired state of an Application: ``ApplicationSpec`` and the types it shares with status.

Names and shapes follow Argo CD's ``v1alpha1`` types; unknown fields are kept (see ``ArgoModel``).
"""

from __future__ import annotations

from tether.model._base import ArgoModel
from tether.model.source import ApplicationSource

DEFAULT_REVISION_HISTORY_LIMIT = 10
"""History entries kept when ``spec.revisionHistoryLimit`` is unset (Argo CD's default)."""

DEFAULT_PROJECT = "default"


class ApplicationDestination(ArgoModel):
    """The cluster (by API server URL or by name) and namespace an Application deploys to."""

    server: str | None = None
    name: str | None = None
    namespace: str | None = None


class Info(ArgoModel):
    """A free-form name/value pair shown to people (``spec.info``, ``operation.info``)."""

    name: str
    value: str


class Backoff(ArgoModel):
    """How long to wait between sync retries: ``duration * factor^attempt``, capped."""

    duration: str | None = None
    factor: int | None = None
    max_duration: str | None = None


class RetryStrategy(ArgoModel):
    """How a failed sync is retried; ``limit < 0`` retries forever."""

    limit: int | None = None
    backoff: Backoff | None = None
    # Retry against the newest revision rather than the one the failed attempt pinned.
    refresh: bool | None = None


class SyncPolicyAutomated(ArgoModel):
    """Automated sync: ``enabled`` unset means enabled, as in Argo CD."""

    prune: bool | None = None
    self_heal: bool | None = None
    allow_empty: bool | None = None
    enabled: bool | None = None


class ManagedNamespaceMetadata(ArgoModel):
    """Labels and annotations put on the namespace that ``CreateNamespace=true`` creates."""

    labels: dict[str, str] | None = None
    annotations: dict[str, str] | None = None

    def same_as(self, other: ManagedNamespaceMetadata | None) -> bool:
        """Whether ``other`` asks for the same metadata (unset and empty maps are alike)."""
        if other is None:
            return False
        return (self.labels or {}, self.annotations or {}) == (
            other.labels or {},
            other.annotations or {},
        )


class SyncPolicy(ArgoModel):
    """When and how an Application syncs."""

    automated: SyncPolicyAutomated | None = None
    sync_options: list[str] | None = None
    retry: RetryStrategy | None = None
    managed_namespace_metadata: ManagedNamespaceMetadata | None = None
    """Set (even empty): a ``CreateNamespace=true`` sync keeps the destination namespace's
    labels and annotations in step with it, also when the namespace already exists."""

    @property
    def is_automated(self) -> bool:
        """Whether automated sync is on (``automated`` present and not ``enabled: false``)."""
        return self.automated is not None and self.automated.enabled is not False


class ResourceIgnoreDifferences(ArgoModel):
    """Fields of matching resources that comparison ignores."""

    group: str | None = None
    kind: str
    name: str | None = None
    namespace: str | None = None
    json_pointers: list[str] | None = None
    jq_path_expressions: list[str] | None = None
    managed_fields_managers: list[str] | None = None


class ApplicationSpec(ArgoModel):
    """What an Application deploys, where, under which project and policy."""

    source: ApplicationSource | None = None
    sources: list[ApplicationSource] | None = None
    destination: ApplicationDestination
    project: str
    sync_policy: SyncPolicy | None = None
    ignore_differences: list[ResourceIgnoreDifferences] | None = None
    info: list[Info] | None = None
    revision_history_limit: int | None = None

    @property
    def is_automated(self) -> bool:
        """Whether automated sync is on (see ``SyncPolicy.is_automated``)."""
        return self.sync_policy is not None and self.sync_policy.is_automated

    @property
    def has_multiple_sources(self) -> bool:
        """Whether ``sources`` is used; Argo CD then ignores ``source``."""
        return bool(self.sources)

    def effective_sources(self) -> list[ApplicationSource]:
        """The sources that count: ``sources`` if non-empty, else ``source`` if set."""
        if self.sources:
            return list(self.sources)
        return [self.source] if self.source is not None else []

    @property
    def project_name(self) -> str:
        """The project, with Argo CD's fallback to ``default`` when empty."""
        return self.project or DEFAULT_PROJECT

    @property
    def history_limit(self) -> int:
        """How many history entries to keep."""
        if self.revision_history_limit is None:
            return DEFAULT_REVISION_HISTORY_LIMIT
        return self.revision_history_limit

    def sync_options(self) -> list[str]:
        """The Application-level sync options, ``Key=value`` strings."""
        if self.sync_policy is None or self.sync_policy.sync_options is None:
            return []
        return list(self.sync_policy.sync_options)
