"""Prometheus metrics on ``/metrics``: app info, sync and health, reconciles, syncs, requests.

Per-app gauges are computed at scrape time from the cache (as Argo CD does), so they cost
nothing between scrapes and never go stale for deleted apps.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from tether import bootstrap
from tether.controller.counters import RECONCILE_BUCKETS
from tether.controller.loop import APPLICATION, Controller
from tether.model.application import parse_application
from tether.model.errors import TetherError

SYNC_STATES = ("Synced", "OutOfSync", "Unknown")
HEALTH_STATES = ("Healthy", "Progressing", "Degraded", "Suspended", "Missing", "Unknown")


class Server(Protocol):
    """A running metrics endpoint."""

    def close(self) -> None:
        """Stop serving."""
        ...


class TetherCollector(Collector):
    """Reads the controller's counters and the cache at scrape time."""

    def __init__(self, controller: Controller, rt: bootstrap.Runtime) -> None:
        self._controller = controller
        self._rt = rt

    def collect(self) -> Iterator[Metric]:
        """Yield every metric family."""
        yield from self._apps()
        m = self._controller.metrics
        hist = HistogramMetricFamily(
            "tether_app_reconcile",
            "Time to reconcile one Application (seconds).",
            buckets=[
                (str(b), float(c))
                for b, c in zip(RECONCILE_BUCKETS, m.reconcile_buckets, strict=True)
            ]
            + [("+Inf", float(m.reconciles))],
            sum_value=m.reconcile_sum,
        )
        yield hist
        syncs = CounterMetricFamily(
            "tether_app_sync", "Completed sync operations by phase.", labels=["phase"]
        )
        for phase, count in sorted(m.syncs.items()):
            syncs.add_metric([phase], count)
        yield syncs
        errors = CounterMetricFamily("tether_reconcile_errors", "Reconciles that failed.")
        errors.add_metric([], m.errors)
        yield errors
        requests = CounterMetricFamily(
            "tether_kubectl_requests", "Kubernetes API requests by verb.", labels=["verb"]
        )
        for verb, count in sorted(self._rt.requests().items()):
            requests.add_metric([verb], count)
        yield requests
        cached = GaugeMetricFamily("tether_cluster_cache_objects", "Objects in the live cache.")
        cached.add_metric([], self._rt.cached_objects())
        yield cached
        queue = GaugeMetricFamily("tether_work_queue_depth", "Applications waiting to reconcile.")
        queue.add_metric([], len(self._controller.queue))
        yield queue

    def _apps(self) -> Iterator[Metric]:
        info = GaugeMetricFamily(
            "tether_app_info",
            "Information about Applications.",
            labels=["namespace", "name", "project", "sync_status", "health_status"],
        )
        sync = GaugeMetricFamily(
            "tether_app_sync_status",
            "1 for the app's sync status.",
            labels=["namespace", "name", "sync_status"],
        )
        health = GaugeMetricFamily(
            "tether_app_health_status",
            "1 for the app's health.",
            labels=["namespace", "name", "health_status"],
        )
        for key in sorted(self._rt.live.keys_of(APPLICATION)):
            obj = self._rt.live.manifest(key)
            if obj is None:
                continue
            try:
                app = parse_application(obj)
            except TetherError:
                continue
            s = (app.status.sync.status if app.status and app.status.sync else None) or "Unknown"
            h = (app.status.health.status if app.status and app.status.health else None) or (
                "Unknown"
            )
            info.add_metric([key.namespace, key.name, app.spec.project, s, h], 1)
            for state in SYNC_STATES:
                sync.add_metric([key.namespace, key.name, state], 1 if s == state else 0)
            for state in HEALTH_STATES:
                health.add_metric([key.namespace, key.name, state], 1 if h == state else 0)
        yield info
        yield sync
        yield health


def serve(address: str, controller: Controller, rt: bootstrap.Runtime) -> Server:
    """Serve ``/metrics`` on ``host:port`` (port 0 picks a free one)."""
    host, _, port = address.rpartition(":")
    registry = CollectorRegistry()
    registry.register(TetherCollector(controller, rt))
    server, thread = start_http_server(int(port), addr=host or "127.0.0.1", registry=registry)

    class Running:
        port = server.server_port

        def close(self) -> None:
            server.shutdown()
            server.server_close()
            thread.join(5)

    return Running()
