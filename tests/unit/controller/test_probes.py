"""What the controller's /healthz and /readyz answer, by phase and heartbeat."""

from __future__ import annotations

import time

from tether.controller import metrics
from tether.controller.metrics import Phase


def test_a_standby_and_a_reconciling_leader_are_ready_and_the_rest_are_not():
    probes = metrics.Probes()
    for phase, ready in [
        (Phase.STARTING, False),
        (Phase.STANDBY, True),
        (Phase.SYNCING, False),
        (Phase.RECONCILING, True),
        (Phase.STOPPING, False),
    ]:
        probes.phase = phase
        assert probes.ready() == (ready, phase.value)
        assert probes.healthy() == (True, "ok")


def test_a_loop_that_stopped_beating_is_unhealthy_and_unready(monkeypatch):
    probes = metrics.Probes()
    probes.phase = Phase.RECONCILING
    later = time.monotonic() + metrics.STALE_AFTER_S + 5
    monkeypatch.setattr(metrics.time, "monotonic", lambda: later)
    healthy, why = probes.healthy()
    assert not healthy and "silent" in why
    assert probes.ready()[0] is False
