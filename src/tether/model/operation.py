"""A requested operation (``Application.operation``) and its recorded progress (``operationState``).

``operationState.syncResult.resources`` is the persisted state of a sync: the engine reloads it on
every pass, so these types carry everything needed to resume after a restart.
"""

from __future__ import annotations

import datetime
import re

from tether.model._base import ArgoModel
from tether.model.app_spec import Info, ManagedNamespaceMetadata, RetryStrategy
from tether.model.errors import InvalidInputError
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


# ---- retry timing -------------------------------------------------------------------------------

DEFAULT_RETRY_DURATION = datetime.timedelta(seconds=5)
DEFAULT_RETRY_FACTOR = 2
DEFAULT_RETRY_MAX_DURATION = datetime.timedelta(minutes=3)
DEFAULT_AUTO_SYNC_RETRY_LIMIT = 5
"""Retries an automated sync gets when ``spec.syncPolicy.retry`` is unset."""

_GO_DURATION_UNITS: dict[str, float] = {
    # Go's time.ParseDuration units, in seconds; Argo CD parses backoff durations with it.
    "ns": 1e-9,
    "us": 1e-6,
    "\u00b5s": 1e-6,  # micro sign
    "\u03bcs": 1e-6,  # Greek mu
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}
_GO_DURATION_PART = re.compile(r"(\d+\.?\d*|\.\d+)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)")


def parse_duration(text: str) -> datetime.timedelta:
    """Parse a backoff duration as Argo CD does: a bare integer is seconds, else a Go duration.

    Raises:
        InvalidInputError: ``text`` is neither (``"5s"``, ``"1m30s"``, ``"10"`` are valid).
    """
    stripped = text.strip()
    if re.fullmatch(r"[+-]?\d+", stripped):
        return datetime.timedelta(seconds=int(stripped))
    sign = -1.0 if stripped.startswith("-") else 1.0
    body = stripped.lstrip("+-")
    if body == "0":
        return datetime.timedelta(0)
    parts = list(_GO_DURATION_PART.finditer(body))
    if not parts or "".join(p.group(0) for p in parts) != body:
        raise InvalidInputError(f"invalid duration {text!r}: expected seconds or e.g. '5s', '3m'")
    seconds = sum(float(p.group(1)) * _GO_DURATION_UNITS[p.group(2)] for p in parts)
    return datetime.timedelta(seconds=sign * seconds)


def retry_wait(retry: RetryStrategy | None, retry_count: int) -> datetime.timedelta:
    """How long after the last attempt retry number ``retry_count`` waits.

    ``duration * factor^retry_count``, capped at ``maxDuration`` (no cap when it is zero), with
    Argo CD's defaults (5 s, 2, 3 min) for unset parts.

    Raises:
        InvalidInputError: A backoff duration cannot be parsed.
    """
    backoff = retry.backoff if retry is not None else None
    duration, factor, cap = DEFAULT_RETRY_DURATION, DEFAULT_RETRY_FACTOR, DEFAULT_RETRY_MAX_DURATION
    if backoff is not None:
        if backoff.duration:
            duration = parse_duration(backoff.duration)
        if backoff.max_duration:
            cap = parse_duration(backoff.max_duration)
        if backoff.factor is not None:
            factor = backoff.factor
    wait = duration.total_seconds() * float(factor) ** retry_count
    if cap > datetime.timedelta(0):
        wait = min(wait, cap.total_seconds())
    return datetime.timedelta(seconds=wait)


def may_retry(retry: RetryStrategy | None, retry_count: int) -> bool:
    """Whether another attempt is allowed after ``retry_count`` retries (``limit < 0``: always)."""
    if retry is None or retry.limit is None:
        return False
    return retry.limit < 0 or retry_count < retry.limit
