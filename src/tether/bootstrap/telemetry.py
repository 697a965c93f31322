"""What a process counts for metrics besides the loop: Kubernetes requests, Git requests.

The adapters report through plain callbacks wired here (they know nothing of metrics); the
controller's ``/metrics`` reads the tallies at scrape time. The Application a request is made
for is a context variable the controller sets around each reconcile, so every request made in
that task (and the tasks it starts) counts for that app, and the watch caches' own requests
for none, as in Argo CD.
"""

from __future__ import annotations

import collections
import contextlib
import contextvars
import dataclasses
import threading
from collections.abc import Callable, Iterator

from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric

from tether.adapters.metricsserver import Running, serve as serve_metrics
from tether.core.sources import repocreds

__all__ = [
    "Histogram",
    "Running",
    "Telemetry",
    "acting_app",
    "acting_for",
    "git_families",
    "histogram_buckets",
    "project_is",
    "serve_metrics",
]

AppLabels = tuple[str, str, str]
"""(namespace, name, project) of the Application a request is made for; empty for none."""

_APP: contextvars.ContextVar[AppLabels] = contextvars.ContextVar("tether_app", default=("", "", ""))

GIT_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 10.0, 20.0)
"""Argo CD's buckets for ``argocd_git_request_duration_seconds``: a fetch is seconds."""

K8sKey = tuple[str, str, str, str, str, str, str, str, str]
"""namespace, name, project, server, response_code, verb, resource_kind, resource_namespace,
dry_run: the labels of ``argocd_app_k8s_request_total``, in its order."""


@contextlib.contextmanager
def acting_for(namespace: str, name: str) -> Iterator[None]:
    """Count the Kubernetes requests made inside as ``namespace/name``'s."""
    token = _APP.set((namespace, name, ""))
    try:
        yield
    finally:
        _APP.reset(token)


def acting_app() -> tuple[str, str] | None:
    """The (namespace, name) of the app the current task acts for; ``None`` outside any."""
    namespace, name, _ = _APP.get()
    return (namespace, name) if namespace or name else None


def project_is(project: str) -> None:
    """Name the project of the app being acted for, once its spec is read."""
    namespace, name, _ = _APP.get()
    if namespace or name:
        _APP.set((namespace, name, project))


@dataclasses.dataclass
class Histogram:
    """Cumulative bucket counts, a count and a sum: what Prometheus exposes of a histogram."""

    bounds: tuple[float, ...]
    buckets: list[int] = dataclasses.field(default_factory=list)
    count: int = 0
    total: float = 0.0

    def observe(self, value: float) -> None:
        """Count one observation."""
        if not self.buckets:
            self.buckets = [0] * len(self.bounds)
        self.count += 1
        self.total += value
        for index, bound in enumerate(self.bounds):
            if value <= bound:
                self.buckets[index] += 1


class Telemetry:
    """The tallies one process keeps; the metrics collector reads them.

    Read from the metrics server's thread while the event loop writes: a lock keeps each read
    whole.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._k8s: collections.Counter[K8sKey] = collections.Counter()
        self._git: dict[tuple[str, str], Histogram] = {}

    def kube_observer(self, server: str) -> Callable[[str, int, str, str, bool], None]:
        """The callback a cluster client's counter calls for each request to ``server``."""

        def observe(verb: str, code: int, kind: str, namespace: str, dry_run: bool) -> None:
            app = _APP.get()
            key = (*app, server, str(code), verb, kind, namespace, str(dry_run).lower())
            with self._lock:
                self._k8s[key] += 1

        return observe

    def observe_git(self, repo: str, request_type: str, seconds: float) -> None:
        """Count one Git request (``ls-remote`` or ``fetch``) to ``repo`` and its duration."""
        key = (repocreds.redact_url(repo), request_type)
        with self._lock:
            self._git.setdefault(key, Histogram(GIT_BUCKETS)).observe(seconds)

    def k8s_requests(self) -> dict[K8sKey, int]:
        """Kubernetes requests so far by their labels."""
        with self._lock:
            return dict(self._k8s)

    def git_requests(self) -> dict[tuple[str, str], Histogram]:
        """Git requests so far by (repo, request_type), with their durations."""
        with self._lock:
            return {
                k: dataclasses.replace(v, buckets=list(v.buckets)) for k, v in self._git.items()
            }


def histogram_buckets(histogram: Histogram) -> list[tuple[str, float]]:
    """A histogram's cumulative buckets as Prometheus' families take them, ``+Inf`` last."""
    counts = histogram.buckets or [0] * len(histogram.bounds)
    pairs = [(str(b), float(c)) for b, c in zip(histogram.bounds, counts, strict=True)]
    return [*pairs, ("+Inf", float(histogram.count))]


def git_families(tally: Telemetry) -> Iterator[Metric]:
    """``argocd_git_request_total`` and ``argocd_git_request_duration_seconds`` of ``tally``."""
    total = CounterMetricFamily(
        "argocd_git_request_total",
        "Git requests to remotes (ls-remote, fetch), by repository.",
        labels=["repo", "request_type"],
    )
    duration = HistogramMetricFamily(
        "argocd_git_request_duration_seconds",
        "Git requests' duration (seconds).",
        labels=["repo", "request_type"],
    )
    for (repo, kind), histogram in sorted(tally.git_requests().items()):
        total.add_metric([repo, kind], histogram.count)
        duration.add_metric([repo, kind], histogram_buckets(histogram), histogram.total)
    yield total
    yield duration
