"""What the controller observed about an Application (``status``), with its two pure bookkeepers.

``set_conditions`` and ``append_history`` follow Argo CD's rules so that status written by tether
reads the same to Argo CD tooling. Time comes in as ``now``.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
from collections.abc import Collection, Mapping, Sequence
from typing import Annotated, Any

import orjson
import pydantic

from tether.model._base import ArgoModel
from tether.model.app_spec import (
    DEFAULT_REVISION_HISTORY_LIMIT,
    ApplicationDestination,
    ResourceIgnoreDifferences,
)
from tether.model.operation import OperationInitiator, OperationState
from tether.model.resources import ResourceKey
from tether.model.revisions import Revisioned
from tether.model.source import ApplicationSource
from tether.model.status import Health, HealthStatus, SyncStatus
from tether.model.timestamps import format_time


class ComparedTo(ArgoModel):
    """The spec a comparison was made against; a change of it triggers a refresh."""

    source: ApplicationSource | None = None
    sources: list[ApplicationSource] | None = None
    destination: ApplicationDestination | None = None
    ignore_differences: list[ResourceIgnoreDifferences] | None = None


class SyncStatusInfo(Revisioned, ArgoModel):
    """Whether live state matches Git, and at which resolved revision(s)."""

    status: str | None = None
    revision: str | None = None
    revisions: list[str] | None = None
    compared_to: ComparedTo | None = None


class HealthInfo(ArgoModel):
    """A health code with its reason, for the Application or one resource."""

    status: str | None = None
    message: str | None = None
    last_transition_time: str | None = None


@dataclasses.dataclass(frozen=True)
class ResourceStatus:
    """One managed resource as ``status.resources[]`` lists it.

    ``status`` is ``None`` for entries Argo CD shows with an empty status (hooks, skipped objects,
    objects whose tracking id names another object).
    """

    key: ResourceKey
    version: str
    status: SyncStatus | None
    hook: bool = False
    requires_pruning: bool = False
    sync_wave: int = 0
    health: Health | None = None
    requires_deletion_confirmation: bool = False
    unknown: Mapping[str, Any] = dataclasses.field(default_factory=dict, compare=False, repr=False)
    """Fields a newer Argo CD wrote that tether does not know, kept for the round trip."""

    def to_json(self) -> dict[str, Any]:
        """The entry as Argo CD serialises it (empty fields left out)."""
        entry: dict[str, Any] = {
            "group": self.key.group,
            "version": self.version,
            "kind": self.key.kind,
            "namespace": self.key.namespace,
            "name": self.key.name,
            "status": self.status.value if self.status else "",
            "hook": self.hook,
            "requiresPruning": self.requires_pruning,
            "syncWave": self.sync_wave,
            "requiresDeletionConfirmation": self.requires_deletion_confirmation,
        }
        if self.health is not None:
            entry["health"] = {"status": self.health.status.value}
            if self.health.message:
                entry["health"]["message"] = self.health.message
        required = ("version", "kind", "name")
        return {**self.unknown, **{k: v for k, v in entry.items() if v or k in required}}


class _ResourceStatusJson(ArgoModel):
    """One managed resource as listed in ``status.resources``."""

    group: str | None = None
    version: str | None = None
    kind: str | None = None
    namespace: str | None = None
    name: str | None = None
    status: str | None = None
    health: HealthInfo | None = None
    hook: bool | None = None
    requires_pruning: bool | None = None
    sync_wave: int | None = None
    requires_deletion_confirmation: bool | None = None


def _status_from_json(value: object) -> ResourceStatus:
    if isinstance(value, ResourceStatus):
        return value
    read = _ResourceStatusJson.model_validate(value)
    health = read.health
    return ResourceStatus(
        key=ResourceKey(read.group or "", read.kind or "", read.namespace or "", read.name or ""),
        version=read.version or "",
        status=SyncStatus(read.status) if read.status else None,
        hook=bool(read.hook),
        requires_pruning=bool(read.requires_pruning),
        sync_wave=read.sync_wave or 0,
        health=(
            Health(HealthStatus(health.status), health.message or "")
            if health is not None and health.status
            else None
        ),
        requires_deletion_confirmation=bool(read.requires_deletion_confirmation),
        unknown=dict(read.model_extra or {}),
    )


ResourceStatusField = Annotated[
    ResourceStatus,
    pydantic.PlainValidator(_status_from_json, json_schema_input_type=_ResourceStatusJson),
    pydantic.PlainSerializer(ResourceStatus.to_json),
]
"""An entry as the wire carries it: validated and written in Argo CD's JSON shape."""


class ApplicationCondition(ArgoModel):
    """An error or warning about an Application (``status.conditions``)."""

    type: str
    message: str
    last_transition_time: str | None = None

    @property
    def is_error(self) -> bool:
        """Whether the condition is an error rather than a warning."""
        return CONDITION_TYPES.get(self.type, ConditionKind.ERROR) is ConditionKind.ERROR


class RevisionHistory(Revisioned, ArgoModel):
    """One successful full sync, kept for rollback."""

    id: int
    revision: str | None = None
    revisions: list[str] | None = None
    source: ApplicationSource | None = None
    sources: list[ApplicationSource] | None = None
    deployed_at: str | None = None
    deploy_started_at: str | None = None
    initiated_by: OperationInitiator | None = None


class ApplicationSummary(ArgoModel):
    """URLs and images found in the resource tree."""

    external_urls: list[str] | None = None
    images: list[str] | None = None


class ApplicationStatus(ArgoModel):
    """Everything the controller reports about an Application."""

    sync: SyncStatusInfo | None = None
    health: HealthInfo | None = None
    resources: list[ResourceStatusField] | None = None
    conditions: list[ApplicationCondition] | None = None
    reconciled_at: str | None = None
    operation_state: OperationState | None = None
    history: list[RevisionHistory] | None = None
    summary: ApplicationSummary | None = None
    source_type: str | None = None
    source_types: list[str] | None = None
    resource_health_source: str | None = None
    controller_namespace: str | None = None
    observed_at: str | None = None

    def recorded_revisions(self) -> frozenset[str]:
        """Every revision the controller recorded: compared, synced, in the history.

        The commits a caller may ask about through the app (its revision metadata): what the
        app's own repository served, never a name a caller makes up.
        """
        state = self.operation_state
        recorded = [
            self.sync,
            state.sync_result if state is not None else None,
            *(self.history or ()),
        ]
        return frozenset(
            r for entry in recorded if entry is not None for r in entry.all_revisions()
        )


# ---- conditions ---------------------------------------------------------------------------------


class ConditionKind(enum.Enum):
    """Whether a condition type reports an error or a warning."""

    ERROR = "error"
    WARNING = "warning"


CONDITION_TYPES: dict[str, ConditionKind] = {
    # Argo CD's condition types. Errors block sync (ComparisonError, InvalidSpecError) or report a
    # failure; warnings are shown but do not stop anything.
    "ComparisonError": ConditionKind.ERROR,  # manifests could not be generated or compared
    "InvalidSpecError": ConditionKind.ERROR,  # spec invalid or not permitted by its project
    "SyncError": ConditionKind.ERROR,  # an automated sync was refused or failed
    "UnknownError": ConditionKind.ERROR,  # anything else that went wrong
    "DeletionError": ConditionKind.ERROR,  # deletion stuck: a deletion hook or a delete failed
    "SharedResourceWarning": ConditionKind.WARNING,  # a resource is also managed by another app
    "RepeatedResourceWarning": ConditionKind.WARNING,  # the same resource is rendered twice
    "ExcludedResourceWarning": ConditionKind.WARNING,  # a rendered kind is excluded by settings
    "OrphanedResourceWarning": ConditionKind.WARNING,  # unmanaged objects in the namespace
    "AutoSyncDisabled": ConditionKind.WARNING,  # a rollback turned automated sync off
    # tether's own: status.resources lists fewer than all, to stay under etcd's size limit.
    "StatusTruncatedWarning": ConditionKind.WARNING,
    # tether's own: the app or its project sets a field tether does not honour, one that
    # cannot change what is deployed (those are an InvalidSpecError: core/app/compatibility.py).
    "UnsupportedFieldWarning": ConditionKind.WARNING,
    # tether's own: sync windows hold an automated sync that would start (Argo CD only logs it).
    "SyncWindowWarning": ConditionKind.WARNING,
    # tether's own: an operation waits for the apps its tether.dev/depends-on annotation names.
    "DependencyWarning": ConditionKind.WARNING,
    # tether's own: a dependency cycle or a bad tether.dev/depends-on refused an operation.
    "DependencyError": ConditionKind.ERROR,
}

SYNC_WINDOW_WARNING = "SyncWindowWarning"
"""The condition saying which sync windows hold an automated sync; gone once none does."""


def set_conditions(
    existing: Sequence[ApplicationCondition],
    new: Sequence[ApplicationCondition],
    evaluated_types: Collection[str],
    now: datetime.datetime,
) -> list[ApplicationCondition]:
    """Replace the conditions of the evaluated types by ``new``, keeping unchanged timestamps.

    Conditions of types that were not evaluated this time are kept as they are. A new condition
    whose type and message match an existing one keeps the existing entry, so its
    ``lastTransitionTime`` only moves when something changed. Missing timestamps get ``now``. The
    result is sorted by type, message and time so that equal inputs give an equal status.
    """
    stamp = format_time(now)

    def stamped(cond: ApplicationCondition) -> ApplicationCondition:
        if cond.last_transition_time:
            return cond
        return cond.model_copy(update={"last_transition_time": stamp})

    kept = [stamped(c) for c in existing if c.type not in evaluated_types]
    first_of_type: dict[str, ApplicationCondition] = {}
    for cond in existing:
        first_of_type.setdefault(cond.type, cond)
    for cond in new:
        previous = first_of_type.get(cond.type)
        same = previous is not None and previous.message == cond.message
        kept.append(stamped(previous) if same and previous is not None else stamped(cond))
    return sorted(kept, key=lambda c: (c.type, c.message, c.last_transition_time or ""))


# ---- history ------------------------------------------------------------------------------------


def next_history_id(history: Sequence[RevisionHistory]) -> int:
    """The id of the next history entry: one more than the last, 0 for the first."""
    return history[-1].id + 1 if history else 0


HISTORY_BUDGET_BYTES = 128 * 1024
"""``status.history`` as JSON: entries embed their source (Helm values too), and a long history
of big sources alone pushed Argo CD apps past etcd's limit (deployKF#224)."""


def append_history(
    history: Sequence[RevisionHistory],
    entry: RevisionHistory,
    limit: int | None = DEFAULT_REVISION_HISTORY_LIMIT,
) -> list[RevisionHistory]:
    """Append ``entry``, keeping the newest ``limit`` entries (``None``: the default 10).

    Older entries also go while the history is over ``HISTORY_BUDGET_BYTES``; the newest stays.
    """
    keep = DEFAULT_REVISION_HISTORY_LIMIT if limit is None else max(limit, 0)
    combined = [*history, entry]
    kept = combined[len(combined) - keep :] if len(combined) > keep else combined
    sizes = [len(orjson.dumps(e.to_manifest())) for e in kept]
    while len(kept) > 1 and sum(sizes) > HISTORY_BUDGET_BYTES:
        kept, sizes = kept[1:], sizes[1:]
    return kept
