"""The controller's HTTP endpoint: ``/metrics`` (Prometheus), ``/healthz`` and ``/readyz``.

Served from a thread of its own (``adapters/metricsserver.py``), so a probe is answered even
while the event loop is busy; ``/healthz`` fails when the loop has not beaten for
``STALE_AFTER_S`` (stuck, not slow).
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable

from prometheus_client import CollectorRegistry

from tether import bootstrap
from tether.bootstrap import telemetry
from tether.controller.collector import ArgoCollector
from tether.controller.loop import Controller

STALE_AFTER_S = 30.0
"""A loop silent this long is stuck: the heartbeat comes every second, a reconcile awaits I/O."""

BEAT_EVERY_S = 1.0


class Phase(enum.Enum):
    """Where the process stands, as ``/readyz`` reads it."""

    STARTING = "starting"
    """Checking the CRDs; not ready."""
    STANDBY = "standby"
    """Waiting for the Lease: ready (a standby replica is what it should be)."""
    SYNCING = "syncing"
    """Leading, listing every type into the cache: not ready yet."""
    RECONCILING = "reconciling"
    """Leading, cache synced, workers running: ready."""
    STOPPING = "stopping"


READY = {Phase.STANDBY, Phase.RECONCILING}


class Probes:
    """The heartbeat and phase the probes answer from; the event loop writes, the server reads."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._beat = clock()
        self.phase = Phase.STARTING

    def beat(self) -> None:
        """The event loop is alive now."""
        self._beat = self._clock()

    def healthy(self) -> tuple[bool, str]:
        """Whether the loop beat lately, and what to say."""
        silent = self._clock() - self._beat
        if silent > STALE_AFTER_S:
            return False, f"event loop silent for {silent:.0f}s"
        return True, "ok"

    def ready(self) -> tuple[bool, str]:
        """Whether this replica is ready, and its phase."""
        healthy, why = self.healthy()
        if not healthy:
            return False, why
        return self.phase in READY, self.phase.value


def serve(
    address: str, controller: Controller, rt: bootstrap.Runtime, probes: Probes | None = None
) -> telemetry.Running:
    """Serve ``/metrics``, ``/healthz`` and ``/readyz`` on ``host:port`` (port 0: a free one)."""
    registry = CollectorRegistry()
    registry.register(ArgoCollector(controller, rt))
    probes = probes or Probes()
    return telemetry.serve_metrics(
        address, registry, {"/healthz": probes.healthy, "/readyz": probes.ready}
    )
