"""Health of PersistentVolumeClaim (Argo CD's Go check): by claim phase."""

from __future__ import annotations

from tether.core.health import _read
from tether.core.health._rule import V1, Rule
from tether.model import resources
from tether.model.resources import GroupKind
from tether.model.status import Health, HealthStatus

CLAIM_PHASES: dict[str, HealthStatus] = {
    "Bound": HealthStatus.HEALTHY,  # the claim has its volume
    "Pending": HealthStatus.PROGRESSING,  # waiting for provisioning or a matching volume
    "Lost": HealthStatus.DEGRADED,  # the bound volume is gone; data may be lost
}


def persistent_volume_claim(obj: resources.Manifest) -> Health:
    """A claim's health follows its phase; an unknown or empty phase is Unknown."""
    phase = _read.text(resources.status_of(obj), "phase")
    return Health(CLAIM_PHASES.get(phase, HealthStatus.UNKNOWN))


CHECKS: dict[GroupKind, Rule] = {
    GroupKind("", "PersistentVolumeClaim"): Rule(persistent_volume_claim, "Argo CD Go check", V1),
}
