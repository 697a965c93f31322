"""The counters the reconcile loop keeps; ``tether.controller.metrics`` exposes them."""

from __future__ import annotations

import dataclasses

RECONCILE_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
"""Histogram buckets (seconds): a cached no-op compare takes milliseconds, a big sync seconds."""


@dataclasses.dataclass
class Metrics:
    """Counters the loop keeps; ``tether.controller.metrics`` exposes them to Prometheus."""

    reconciles: int = 0
    reconcile_sum: float = 0.0
    reconcile_buckets: list[int] = dataclasses.field(
        default_factory=lambda: [0] * len(RECONCILE_BUCKETS)
    )
    syncs: dict[str, int] = dataclasses.field(default_factory=dict)
    errors: int = 0

    def observe(self, seconds: float) -> None:
        """Count one reconcile that took ``seconds``."""
        self.reconciles += 1
        self.reconcile_sum += seconds
        for index, bound in enumerate(RECONCILE_BUCKETS):
            if seconds <= bound:
                self.reconcile_buckets[index] += 1
