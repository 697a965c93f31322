"""The controller's metric families, under Argo CD's names and labels, read at scrape time.

Everything comes from memory: the watch cache (Applications, each cluster's cache), the loop's
counters and the runtime's tallies; a scrape makes no request. Labels take values from finite
sets or name an app, a cluster or a repository, never a managed object.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector

from tether import bootstrap
from tether.bootstrap import telemetry
from tether.controller.counters import RECONCILE_BUCKETS, dest_server
from tether.controller.loop import APPLICATION, Controller
from tether.core.sources import repocreds
from tether.model.application import Application, parse_application
from tether.model.errors import TetherError
from tether.model.resources import ResourceKey, resource_version

APP_LABELS = ["namespace", "name", "project"]
"""The labels every per-app family starts with, in Argo CD's order."""

FAMILIES = (
    "argocd_app_info",
    "argocd_app_sync_total",
    "argocd_app_reconcile",
    "argocd_app_k8s_request_total",
    "argocd_git_request_total",
    "argocd_git_request_duration_seconds",
    "argocd_cluster_info",
    "argocd_cluster_api_resource_objects",
    "argocd_cluster_api_resources",
    "argocd_cluster_cache_age_seconds",
    "argocd_cluster_connection_status",
    "tether_app_reconcile",
    "tether_reconcile_errors",
    "tether_kubectl_requests",
    "tether_cluster_cache_objects",
    "tether_work_queue_depth",
    "argocd_notifications_deliveries",
    "tether_notifications_errors",
)
"""Every family the controller exports, as the collector names it (a counter's samples end in
``_total``, a histogram's in ``_bucket``, ``_sum``, ``_count``); the dashboard and alert rules
in ``deploy/`` may use only these."""


class ArgoCollector(Collector):
    """Reads the controller's counters, the runtime's tallies and the caches at scrape time."""

    def __init__(self, controller: Controller, rt: bootstrap.Runtime) -> None:
        self._controller = controller
        self._rt = rt
        self._rows: dict[ResourceKey, tuple[str, tuple[str, ...] | None]] = {}
        """Per app: the resourceVersion its ``argocd_app_info`` labels were computed at."""

    def collect(self) -> Iterator[Metric]:
        """Yield every metric family."""
        yield from self._apps()
        yield from self._loop()
        yield from self._requests()
        yield from self._git()
        yield from self._clusters()
        yield from self._notifications()

    def _notifications(self) -> Iterator[Metric]:
        counts = self._controller.metrics.notifications
        with counts.lock:
            deliveries, errors = dict(counts.deliveries), dict(counts.errors)
        sent = CounterMetricFamily(
            "argocd_notifications_deliveries",
            "Notifications sent, by trigger, service and whether they were delivered.",
            labels=["trigger", "exported_service", "succeeded"],
        )
        for (trigger, service, ok), count in sorted(deliveries.items()):
            sent.add_metric([trigger, service, str(ok).lower()], count)
        yield sent
        failed = CounterMetricFamily(
            "tether_notifications_errors",
            "Notification errors: expression (a trigger failed), dropped (queue full), state.",
            labels=["kind"],
        )
        for kind, count in sorted(errors.items()):
            failed.add_metric([kind], count)
        yield failed

    def _info_rows(self) -> Iterator[tuple[str, ...]]:
        """Each app's ``argocd_app_info`` labels, parsed again only when its object changed.

        A scrape of 10,000 apps would otherwise parse every one of them each time.
        """
        rows: dict[ResourceKey, tuple[str, tuple[str, ...] | None]] = {}
        for key in sorted(self._rt.live.keys_of(APPLICATION)):
            obj = self._rt.live.manifest(key)
            if obj is None:
                continue
            version = resource_version(obj)
            kept = self._rows.get(key)
            if kept is None or kept[0] != version or not version:
                try:
                    kept = version, _info_labels(parse_application(obj))
                except TetherError:
                    kept = version, None
            rows[key] = kept
            if kept[1] is not None:
                yield kept[1]
        self._rows = rows  # apps gone since the last scrape are forgotten

    def _apps(self) -> Iterator[Metric]:
        info = GaugeMetricFamily(
            "argocd_app_info",
            "Information about Applications: sync and health status, source, destination.",
            labels=[
                *APP_LABELS,
                "autosync_enabled",
                "repo",
                "dest_server",
                "dest_namespace",
                "sync_status",
                "health_status",
                "operation",
            ],
        )
        for labels in self._info_rows():
            info.add_metric(list(labels), 1)
        yield info

    def _loop(self) -> Iterator[Metric]:
        m = self._controller.metrics
        with m.lock:
            syncs = dict(m.syncs)
            by_destination = {
                k: (telemetry.histogram_buckets(v), v.total) for k, v in m.by_destination.items()
            }
            own = list(zip(RECONCILE_BUCKETS, m.reconcile_buckets, strict=True))
            reconciles, reconcile_sum, errors = m.reconciles, m.reconcile_sum, m.errors
        total = CounterMetricFamily(
            "argocd_app_sync_total",
            "Completed sync operations by phase.",
            labels=[*APP_LABELS, "dest_server", "phase", "dry_run"],
        )
        for labels, count in sorted(syncs.items()):
            total.add_metric(list(labels), count)
        yield total
        reconcile = HistogramMetricFamily(
            "argocd_app_reconcile",
            "Time to reconcile one Application (seconds).",
            labels=["namespace", "dest_server"],
        )
        for (namespace, server), (buckets, seconds) in sorted(by_destination.items()):
            reconcile.add_metric([namespace, server], buckets, seconds)
        yield reconcile
        yield HistogramMetricFamily(
            "tether_app_reconcile",
            "Time to reconcile one Application (seconds), in finer buckets than Argo CD's.",
            buckets=[*((str(b), float(c)) for b, c in own), ("+Inf", float(reconciles))],
            sum_value=reconcile_sum,
        )
        failed = CounterMetricFamily("tether_reconcile_errors", "Reconciles that failed.")
        failed.add_metric([], errors)
        yield failed
        queue = GaugeMetricFamily("tether_work_queue_depth", "Applications waiting to reconcile.")
        queue.add_metric([], len(self._controller.queue))
        yield queue

    def _requests(self) -> Iterator[Metric]:
        by_app = CounterMetricFamily(
            "argocd_app_k8s_request_total",
            "Kubernetes requests, by the Application they were made for (none: the caches' "
            "watches and lists, the API server's callers).",
            labels=[
                *APP_LABELS,
                "server",
                "response_code",
                "verb",
                "resource_kind",
                "resource_namespace",
                "dry_run",
            ],
        )
        for labels, count in sorted(self._rt.telemetry.k8s_requests().items()):
            by_app.add_metric(list(labels), count)
        yield by_app
        by_verb = CounterMetricFamily(
            "tether_kubectl_requests",
            "Kubernetes API requests to the cluster tether runs in, by verb.",
            labels=["verb"],
        )
        for verb, count in sorted(self._rt.requests().items()):
            by_verb.add_metric([verb], count)
        yield by_verb

    def _git(self) -> Iterator[Metric]:
        return telemetry.git_families(self._rt.telemetry)

    def _clusters(self) -> Iterator[Metric]:
        info = GaugeMetricFamily(
            "argocd_cluster_info",
            "Information about each destination cluster.",
            labels=["server", "k8s_version", "name"],
        )
        objects = GaugeMetricFamily(
            "argocd_cluster_api_resource_objects",
            "Objects in the cluster's watch cache.",
            labels=["server"],
        )
        types = GaugeMetricFamily(
            "argocd_cluster_api_resources", "Types the cluster's cache watches.", labels=["server"]
        )
        age = GaugeMetricFamily(
            "argocd_cluster_cache_age_seconds",
            "Seconds since the cluster's cache completed its full list (-1 before).",
            labels=["server"],
        )
        connection = GaugeMetricFamily(
            "argocd_cluster_connection_status",
            "1 when the cluster is connected and its cache synced, 0 when it is not.",
            labels=["server", "k8s_version"],
        )
        now = time.time()
        for state in self._rt.destinations.states():
            server = state.entry.server
            # As discovery last read it; empty while the cluster was never reached.
            version = state.live.versions().kube_version if state.live is not None else ""
            info.add_metric([server, version, state.entry.name], 1)
            if state.live is None:
                if state.failed:
                    connection.add_metric([server, version], 0)
                continue
            stats = state.live.stats()
            objects.add_metric([server], stats.objects)
            types.add_metric([server], stats.api_resources)
            # Down when every watched type fails to list (one forbidden type is not a disconnect).
            down = stats.api_resources > 0 and stats.failing >= stats.api_resources
            synced = stats.synced_at is not None and not down
            age.add_metric([server], now - stats.synced_at if stats.synced_at else -1)
            connection.add_metric([server, version], 1 if synced else 0)
        yield info
        yield objects
        yield types
        yield age
        yield connection
        cached = GaugeMetricFamily(
            "tether_cluster_cache_objects",
            "Objects in the live cache of the cluster tether runs in.",
        )
        cached.add_metric([], self._rt.cached_objects())
        yield cached


def _info_labels(app: Application) -> tuple[str, ...]:
    """One app's ``argocd_app_info`` label values, after ``APP_LABELS``."""
    status = app.status
    sync = (status.sync.status if status and status.sync else None) or "Unknown"
    health = (status.health.status if status and status.health else None) or "Unknown"
    sources = app.spec.effective_sources()
    repo = repocreds.redact_url(sources[0].repo_url) if sources else ""
    operation = (
        "delete"
        if app.is_being_deleted
        else "sync"
        if app.operation is not None and app.operation.sync is not None
        else ""
    )
    return (
        app.namespace,
        app.name,
        app.spec.project,
        str(app.spec.is_automated).lower(),
        repo,
        dest_server(app),
        app.spec.destination.namespace or "",
        sync,
        health,
        operation,
    )
