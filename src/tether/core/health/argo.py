"""Health of argoproj.io kinds: Workflow (Argo CD's Go check) and Application (tether's own).

Argo CD dropped its Application check in 1.8; tether keeps one so an app of apps waits for children.
"""

from __future__ import annotations

from tether.core.health import _read
from tether.core.health._rule import Rule, degraded, healthy, progressing, suspended, unknown
from tether.model import application as app_model, resources
from tether.model.resources import GroupKind
from tether.model.status import Health, HealthStatus, OperationPhase, SyncStatus

WORKFLOW_PHASES: dict[str, HealthStatus] = {
    "": HealthStatus.PROGRESSING,  # not picked up by the workflow controller yet
    "Pending": HealthStatus.PROGRESSING,
    "Running": HealthStatus.PROGRESSING,
    "Succeeded": HealthStatus.HEALTHY,
    "Failed": HealthStatus.DEGRADED,
    "Error": HealthStatus.DEGRADED,  # the controller itself hit an error
}

FAILED_OPERATIONS = frozenset({OperationPhase.FAILED.value, OperationPhase.ERROR.value})
RUNNING_OPERATIONS = frozenset({OperationPhase.RUNNING.value, OperationPhase.TERMINATING.value})


def workflow(obj: resources.Manifest) -> Health:
    """A Workflow's health follows its phase; unknown phases are Unknown."""
    status = resources.status_of(obj)
    phase_health = WORKFLOW_PHASES.get(_read.text(status, "phase"), HealthStatus.UNKNOWN)
    return Health(phase_health, _read.text(status, "message"))


def _reported(health: str, message: str) -> Health:
    """The child's own health, once it is Synced and no operation runs."""
    if health == HealthStatus.HEALTHY.value:
        return healthy(message)
    if health == HealthStatus.SUSPENDED.value:
        return suspended(message)
    if health == HealthStatus.UNKNOWN.value:
        return unknown(message)
    # Progressing, and Missing while Synced (its resources are being created): not there yet.
    return progressing(message or f"Application is {health}")


def application(obj: resources.Manifest) -> Health:
    """A child Application is Healthy only when its own health is Healthy and it is Synced."""
    status = resources.status_of(obj)
    health = _read.text(status, "health", "status")
    message = _read.text(status, "health", "message")
    sync = _read.text(status, "sync", "status")
    phase = _read.text(status, "operationState", "phase")
    if health == HealthStatus.DEGRADED.value:
        return degraded(message or "Application is Degraded")
    if phase in RUNNING_OPERATIONS:
        return progressing(_read.text(status, "operationState", "message") or "Sync is running")
    if not health:
        return progressing("Waiting for the Application to report its health")
    if sync != SyncStatus.SYNCED.value:
        if phase in FAILED_OPERATIONS:
            # Argo CD does not retry a failed sync of the same revision by itself, so waiting
            # would never end: say the child is broken.
            detail = _read.text(status, "operationState", "message")
            return degraded(f"Last sync {phase.lower()}: {detail}" if detail else f"Sync {phase}")
        return progressing(f"Application is {sync or 'not yet compared'}")
    return _reported(health, message)


CHECKS: dict[GroupKind, Rule] = {
    GroupKind("argoproj.io", "Workflow"): Rule(workflow, "Argo CD Go check"),
    app_model.GROUP_KIND: Rule(
        application, "tether: an app of apps waits for its children without user Lua"
    ),
}
