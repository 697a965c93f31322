"""The status vocabulary Argo CD uses, shared by the core, the controller and the CLI."""

from __future__ import annotations

import dataclasses
import enum


class HealthStatus(enum.Enum):
    """How healthy a resource or an Application is."""

    HEALTHY = "Healthy"
    SUSPENDED = "Suspended"
    PROGRESSING = "Progressing"
    MISSING = "Missing"
    DEGRADED = "Degraded"
    UNKNOWN = "Unknown"


HEALTH_SEVERITY: dict[HealthStatus, int] = {
    # Argo CD's order, best to worst: an Application takes the worst of its resources.
    HealthStatus.HEALTHY: 0,
    HealthStatus.SUSPENDED: 1,
    HealthStatus.PROGRESSING: 2,
    HealthStatus.MISSING: 3,
    HealthStatus.DEGRADED: 4,
    HealthStatus.UNKNOWN: 5,
}


def is_worse(candidate: HealthStatus, than: HealthStatus) -> bool:
    """Whether ``candidate`` is strictly worse than ``than``."""
    return HEALTH_SEVERITY[candidate] > HEALTH_SEVERITY[than]


@dataclasses.dataclass(frozen=True)
class Health:
    """A health verdict with the reason a person needs to act on it."""

    status: HealthStatus
    message: str = ""


class SyncStatus(enum.Enum):
    """Whether live state matches Git."""

    SYNCED = "Synced"
    OUT_OF_SYNC = "OutOfSync"
    UNKNOWN = "Unknown"


class OperationPhase(enum.Enum):
    """Where a sync operation stands."""

    RUNNING = "Running"
    TERMINATING = "Terminating"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    ERROR = "Error"

    @property
    def completed(self) -> bool:
        """Whether the operation has ended."""
        return self in (OperationPhase.SUCCEEDED, OperationPhase.FAILED, OperationPhase.ERROR)


class ResultCode(enum.Enum):
    """The outcome of one resource in a sync (``syncResult.resources[].status``)."""

    SYNCED = "Synced"
    SYNC_FAILED = "SyncFailed"
    PRUNED = "Pruned"
    PRUNE_SKIPPED = "PruneSkipped"


class HookPhase(enum.Enum):
    """The phase of one task (``syncResult.resources[].hookPhase``)."""

    RUNNING = "Running"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    ERROR = "Error"
    TERMINATING = "Terminating"


class SyncPhase(enum.Enum):
    """The phases of a sync, in the order they run."""

    PRE_SYNC = "PreSync"
    SYNC = "Sync"
    POST_SYNC = "PostSync"
    SYNC_FAIL = "SyncFail"
    PRE_DELETE = "PreDelete"
    POST_DELETE = "PostDelete"
