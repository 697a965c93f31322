"""The counters the reconcile loop keeps; ``tether.controller.metrics`` exposes them."""

from __future__ import annotations

import collections
import dataclasses
import threading

from tether.bootstrap.telemetry import Histogram
from tether.model.application import Application
from tether.services.notifications import Counts

RECONCILE_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
"""tether's own histogram buckets (seconds): a cached no-op compare takes milliseconds, a big
sync seconds."""

ARGO_RECONCILE_BUCKETS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0)
"""Argo CD's buckets for ``argocd_app_reconcile``, so its dashboards' quantiles read the same."""

SyncKey = tuple[str, str, str, str, str, str]
"""namespace, name, project, dest_server, phase, dry_run: ``argocd_app_sync_total``'s labels."""


def dest_server(app: Application) -> str:
    """The destination as Argo CD's metrics label it: the server URL, else the cluster name."""
    return app.spec.destination.server or app.spec.destination.name or ""


@dataclasses.dataclass
class Metrics:
    """Counters the loop keeps; ``tether.controller.metrics`` exposes them to Prometheus.

    Written by the event loop, read by the metrics server's thread under ``lock``.
    """

    reconciles: int = 0
    reconcile_sum: float = 0.0
    reconcile_buckets: list[int] = dataclasses.field(
        default_factory=lambda: [0] * len(RECONCILE_BUCKETS)
    )
    by_destination: dict[tuple[str, str], Histogram] = dataclasses.field(default_factory=dict)
    """Reconcile durations by (app namespace, dest_server), in Argo CD's buckets."""
    syncs: collections.Counter[SyncKey] = dataclasses.field(default_factory=collections.Counter)
    errors: int = 0
    notifications: Counts = dataclasses.field(default_factory=Counts)
    """What the notifier (``controller.notifying``) did; it has its own lock."""
    lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)

    def observe(self, seconds: float, namespace: str = "", server: str = "") -> None:
        """Count one reconcile that took ``seconds``, of an app in ``namespace`` to ``server``."""
        with self.lock:
            self.reconciles += 1
            self.reconcile_sum += seconds
            for index, bound in enumerate(RECONCILE_BUCKETS):
                if seconds <= bound:
                    self.reconcile_buckets[index] += 1
            histogram = self.by_destination.setdefault(
                (namespace, server), Histogram(ARGO_RECONCILE_BUCKETS)
            )
            histogram.observe(seconds)

    def synced(self, app: Application, phase: str) -> None:
        """Count one completed sync operation of ``app``."""
        sync = app.operation.sync if app.operation else None
        dry_run = bool(sync and sync.dry_run)
        key = (app.namespace, app.name, app.spec.project, dest_server(app), phase)
        with self.lock:
            self.syncs[(*key, str(dry_run).lower())] += 1
