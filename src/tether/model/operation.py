"""A requested operation (``Application.operation``) and its recorded progress (``operationState``).

``operationState.syncResult.resources`` is the persisted state of a sync: the engine reloads it on
every pass, so these types carry everything needed to resume after a restart.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Annotated, Any

import pydantic

from tether.model._base import ArgoModel
from tether.model.app_spec import Info, ManagedNamespaceMetadata, RetryStrategy
from tether.model.resources import ResourceKey
from tether.model.revisions import Revisioned
from tether.model.source import ApplicationSource
from tether.model.status import HookPhase, OperationPhase, ResultCode, SyncPhase


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


class SyncOperation(Revisioned, ArgoModel):
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

    @property
    def uses_apply_strategy(self) -> bool:
        """Whether ``syncStrategy.apply`` asks for a plain apply (no hooks) instead of hooks."""
        return bool(self.sync_strategy and self.sync_strategy.apply is not None)

    @property
    def forced(self) -> bool:
        """Whether the chosen strategy says ``force`` (delete and re-create on conflict)."""
        strategy = self.sync_strategy
        chosen = (strategy.apply or strategy.hook) if strategy else None
        return bool(chosen and chosen.force)


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


@dataclasses.dataclass(frozen=True)
class ResourceResult:
    """One task's result (``syncResult.resources[]``); with no ``hook_phase`` it has not run yet.

    The only memory a sync has: the engine reloads these on every pass.
    """

    key: ResourceKey
    sync_phase: SyncPhase
    status: ResultCode | None = None
    hook_phase: HookPhase | None = None
    message: str = ""
    hook_type: SyncPhase | None = None
    """The hook type for hooks (Argo's ``hookType``), ``None`` for plain resources."""
    version: str = ""
    images: tuple[str, ...] = ()
    """Images Argo CD found in the object; tether keeps them, it does not compute them."""
    unknown: Mapping[str, Any] = dataclasses.field(default_factory=dict, compare=False, repr=False)
    """Fields a newer Argo CD wrote that tether does not know, kept for the round trip."""

    @property
    def result_key(self) -> str:
        """Argo's key: ``group/kind/namespace/name:syncPhase``."""
        return result_key(self.key, self.sync_phase)

    @property
    def failed_validation(self) -> bool:
        """Refused before anything was applied (dry run or discovery): no hook phase yet."""
        return self.status is ResultCode.SYNC_FAILED and self.hook_phase is None

    def to_json(self) -> dict[str, Any]:
        """The result as Argo CD serialises it (unset fields left out)."""
        entry: dict[str, Any] = {
            "group": self.key.group,
            "version": self.version,
            "kind": self.key.kind,
            "namespace": self.key.namespace,
            "name": self.key.name,
            "status": self.status.value if self.status else None,
            "message": self.message or None,
            "hookType": self.hook_type.value if self.hook_type else None,
            "hookPhase": self.hook_phase.value if self.hook_phase else None,
            "syncPhase": self.sync_phase.value,
            "images": list(self.images) or None,
        }
        return {**self.unknown, **{k: v for k, v in entry.items() if v is not None}}


def result_key(key: ResourceKey, phase: SyncPhase) -> str:
    """Argo's result key for one task."""
    return f"{key.group}/{key.kind}/{key.namespace}/{key.name}:{phase.value}"


class _ResourceResultJson(ArgoModel):
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


def _result_from_json(value: object) -> ResourceResult:
    if isinstance(value, ResourceResult):
        return value
    read = _ResourceResultJson.model_validate(value)
    return ResourceResult(
        key=ResourceKey(read.group or "", read.kind or "", read.namespace or "", read.name or ""),
        sync_phase=SyncPhase(read.sync_phase or SyncPhase.SYNC.value),
        status=ResultCode(read.status) if read.status else None,
        hook_phase=HookPhase(read.hook_phase) if read.hook_phase else None,
        message=read.message or "",
        hook_type=SyncPhase(read.hook_type) if read.hook_type else None,
        version=read.version or "",
        images=tuple(read.images or ()),
        unknown=dict(read.model_extra or {}),
    )


ResourceResultField = Annotated[
    ResourceResult,
    pydantic.PlainValidator(_result_from_json, json_schema_input_type=_ResourceResultJson),
    pydantic.PlainSerializer(ResourceResult.to_json),
]
"""A result as the wire carries it: validated and written in Argo CD's JSON shape."""


class SyncOperationResult(Revisioned, ArgoModel):
    """What a sync did: the resolved revision(s) it pinned and one result per task."""

    revision: str | None = None
    revisions: list[str] | None = None
    source: ApplicationSource | None = None
    sources: list[ApplicationSource] | None = None
    managed_namespace_metadata: ManagedNamespaceMetadata | None = None
    resources: list[ResourceResultField] | None = None


class OperationState(ArgoModel):
    """The progress of the current or last operation (``status.operationState``)."""

    operation: Operation | None = None
    phase: str | None = None
    message: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    retry_count: int | None = None
    sync_result: SyncOperationResult | None = None

    @property
    def completed(self) -> bool:
        """Whether the operation has ended (Succeeded, Failed or Error)."""
        return self.phase in _COMPLETED_PHASES

    def pinned_revisions(self) -> tuple[str, ...]:
        """The revision(s) the operation resolved and pinned at its start (none yet: empty)."""
        return self.sync_result.all_revisions() if self.sync_result else ()


_COMPLETED_PHASES = frozenset(p.value for p in OperationPhase if p.completed)
