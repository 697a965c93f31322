"""A requested operation (``Application.operation``) and its recorded progress (``operationState``).

``operationState.syncResult.resources`` is the persisted state of a sync: the engine reloads it on
every pass, so these types carry everything needed to resume after a restart.
"""

from __future__ import annotations

from tether.model._base import ArgoModel
from tether.model.app_spec import Info, ManagedNamespaceMetadata, RetryStrategy
from tether.model.resources import ResourceKey
from tether.model.source import ApplicationSource


class SyncStrategyApply(ArgoModel):
    """Sync with ``kubectl apply``; ``force`` deletes and re-creates on conflict."""

    force: bool | None = None


class SyncStrategyHook(ArgoModel):
    """Sync with hooks (the default); ``force`` as for apply."""

    force: bool | None = None


class SyncStrategy(ArgoModel):
    """Which sync strategy an operation uses (at most one is set)."""

    apply: SyncStrategyApply | None = None
    hook: SyncStrategyHook | None = None


class SyncOperationResource(ArgoModel):
    """A resource selected for a partial sync."""

    group: str | None = None
    kind: str
    name: str
    namespace: str | None = None

    def selects(self, key: ResourceKey) -> bool:
        """Whether this selection names the resource (an unset namespace matches any)."""
        return (
            (self.group or "") == key.group
            and self.kind == key.kind
            and self.name == key.name
            and (not self.namespace or self.namespace == key.namespace)
        )


class SyncOperation(ArgoModel):
    """A sync request: what revision(s), which resources, with which options."""

    revision: str | None = None
    revisions: list[str] | None = None
    prune: bool | None = None
    dry_run: bool | None = None
    sync_strategy: SyncStrategy | None = None
    resources: list[SyncOperationResource] | None = None
    source: ApplicationSource | None = None
    sources: list[ApplicationSource] | None = None
    manifests: list[str] | None = None
    sync_options: list[str] | None = None
    auto_heal_attempts_count: int | None = None

    @property
    def is_partial(self) -> bool:
        """Whether only selected resources are synced (then no hooks run and no history is kept)."""
        return bool(self.resources)


class OperationInitiator(ArgoModel):
    """Who started an operation: a user, or the controller (``automated``)."""

    username: str | None = None
    automated: bool | None = None


class Operation(ArgoModel):
    """A requested operation; cleared by the controller when it completes."""

    sync: SyncOperation | None = None
    initiated_by: OperationInitiator | None = None
    info: list[Info] | None = None
    retry: RetryStrategy | None = None


class ResourceResult(ArgoModel):
    """The outcome of one resource or hook in one sync phase."""

    group: str | None = None
    version: str | None = None
    kind: str | None = None
    namespace: str | None = None
    name: str | None = None
    status: str | None = None
    message: str | None = None
    hook_type: str | None = None
    hook_phase: str | None = None
    sync_phase: str | None = None
    images: list[str] | None = None

    @property
    def key(self) -> ResourceKey:
        """The resource's key (group, kind, namespace, name)."""
        return ResourceKey(self.group or "", self.kind or "", self.namespace or "", self.name or "")

    @property
    def result_key(self) -> str:
        """The key the engine reloads results by: ``group/kind/namespace/name:syncPhase``."""
        where = f"{self.group or ''}/{self.kind or ''}/{self.namespace or ''}/{self.name or ''}"
        return f"{where}:{self.sync_phase or ''}"


class SyncOperationResult(ArgoModel):
    """What a sync did: the resolved revision(s) it pinned and one result per task."""

    revision: str | None = None
    revisions: list[str] | None = None
    source: ApplicationSource | None = None
    sources: list[ApplicationSource] | None = None
    managed_namespace_metadata: ManagedNamespaceMetadata | None = None
    resources: list[ResourceResult] | None = None


class OperationState(ArgoModel):
    """The progress of the current or last operation (``status.operationState``)."""

    operation: Operation | None = None
    phase: str | None = None
    message: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    retry_count: int | None = None
    sync_result: SyncOperationResult | None = None
