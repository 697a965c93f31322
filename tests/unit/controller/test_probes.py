"""What the controller's /healthz and /readyz answer, by phase and heartbeat."""

from __future__ import annotations

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


def test_a_loop_that_stopped_beating_is_unhealthy_and_unready():
    now = [100.0]
    probes = metrics.Probes(clock=lambda: now[0])
    probes.phase = Phase.RECONCILING
    probes.beat()
    now[0] += metrics.STALE_AFTER_S + 5
    healthy, why = probes.healthy()
    assert not healthy and "silent" in why
    assert probes.ready()[0] is False
