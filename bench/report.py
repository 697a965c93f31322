"""The bench's pure arithmetic and output: percentiles, parsed /metrics and /proc text, the
results table and ``latest.json``. No I/O here beyond writing the results file.
"""

from __future__ import annotations

import dataclasses
import json
import math
import pathlib
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

Results = dict[str, dict[str, Any]]
"""``{scenario: {metric: value}}``; a scenario that did not run holds ``{"skipped": reason}``."""

WRITE_VERBS = ("create", "update", "patch", "delete", "apply")
"""Requests that change the cluster (a dry-run apply is counted here too: the counter cannot
tell them apart, and tether's steady state should send neither)."""

READ_VERBS = ("get", "list")
"""Reads that a watch-fed controller should not need in steady state (watches are not reads)."""

_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)")


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) by linear interpolation between closest ranks."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def percentile_with_misses(values: Sequence[float | None], q: float) -> float | None:
    """The ``q``-th percentile where ``None`` is a miss (slower than measured): ``None`` when the
    percentile falls on or next to a miss."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(math.inf if v is None else v for v in values)
    rank = (len(ordered) - 1) * q / 100
    low, high = ordered[math.floor(rank)], ordered[math.ceil(rank)]
    if math.isinf(high):
        return None
    return low + (high - low) * (rank - math.floor(rank))


def ratio(numerator: float, denominator: float) -> float | None:
    """``numerator / denominator``, or None when the denominator is not positive."""
    return numerator / denominator if denominator > 0 else None


def spread(values: Sequence[float], prefix: str) -> dict[str, float]:
    """``<prefix>_p50_ms``, ``_p95_ms`` and ``_max_ms`` of timings in milliseconds."""
    return {
        f"{prefix}_p50_ms": round(percentile(values, 50), 2),
        f"{prefix}_p95_ms": round(percentile(values, 95), 2),
        f"{prefix}_max_ms": round(max(values), 2),
    }


def delivery(
    arrivals: Sequence[Mapping[str, float]], sent: Mapping[str, float], prefix: str
) -> dict[str, Any]:
    """How a change reached each client: ``sent`` is when each change (by tag) was made,
    ``arrivals`` per client when it got each one (same clock). p50 counts a miss as slower
    than anything measured; ``within_1s`` and ``max`` are over what arrived."""
    latencies: list[float | None] = []
    for client in arrivals:
        for tag, at in sent.items():
            got = client.get(tag)
            latencies.append(None if got is None else (got - at) * 1000)
    received = [v for v in latencies if v is not None]
    p50 = percentile_with_misses(latencies, 50) if latencies else None
    return {
        f"{prefix}_events": len(latencies),
        f"{prefix}_received": len(received),
        f"{prefix}_within_1s": sum(1 for v in received if v <= 1000),
        f"{prefix}_p50_ms": None if p50 is None else round(p50, 1),
        f"{prefix}_max_ms": round(max(received), 1) if received else None,
        f"{prefix}_max_ms_by_change": [
            round(max(got), 1) if got else None
            for got in (
                [(c[tag] - at) * 1000 for c in arrivals if tag in c] for tag, at in sent.items()
            )
        ],
    }


API_VS_KUBE = (
    ("page of 100", "list_page", "kube_list_page"),
    ("middle page (continue)", "list_middle_page", "kube_list_middle_page"),
    ("one project's page", "list_project", "kube_list_project_label"),
    ("one-project caller's page", "list_viewer", ""),
    ("every app, no limit", "list_all", ""),
)
"""S7's side-by-side rows: label, the API's metric prefix, the kube-apiserver's (or none)."""


def _pair(results: Mapping[str, Any], prefix: str) -> str:
    """``p50 / p95`` of one timing, or ``-`` when there is none."""
    p50, p95 = results.get(f"{prefix}_p50_ms"), results.get(f"{prefix}_p95_ms")
    if not prefix or p50 is None or p95 is None:
        return "-"
    return f"{format_value(p50)} / {format_value(p95)}"


def _columns(rows: Sequence[tuple[str, str, str]]) -> str:
    """Rows as aligned text, a rule under the first; empty when there is only the heading."""
    if len(rows) == 1:
        return ""
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(line.rstrip() for line in lines)


def api_vs_kube(s7: Mapping[str, Any]) -> str:
    """S7's API timings beside the kube-apiserver's, as text (empty when S7 has none)."""
    rows = [("S7", "API p50 / p95 ms", "kube-apiserver p50 / p95 ms")]
    for label, api, kube in API_VS_KUBE:
        if s7.get(f"{api}_p50_ms") is not None:
            rows.append((label, _pair(s7, api), _pair(s7, kube)))
    if s7.get("stream_events"):
        rows.append(
            (
                "a change to each stream, p50 / max",
                f"{format_value(s7.get('stream_p50_ms'))} / max "
                f"{format_value(s7.get('stream_max_ms'))}"
                f" ({s7.get('stream_within_1s')}/{s7.get('stream_events')} in 1 s)",
                f"{format_value(s7.get('kube_watch_p50_ms'))} / max "
                f"{format_value(s7.get('kube_watch_max_ms'))}"
                f" ({s7.get('kube_watch_within_1s')}/{s7.get('kube_watch_events')} in 1 s)",
            )
        )
    return _columns(rows)


UI_VS_ARGO = (
    ("first page, navigation to painted", "list_page", "argo_page"),
    ("every app drawn", "", "argo_all"),
    ("status filter, click to painted", "filter", "argo_filter"),
    ("search, request to painted", "search", ""),
    ("search, keystroke to painted (300 ms debounce)", "search_typed", ""),
    ("Kubeflow root's tree page ready", "tree_root", ""),
    ("  of it, server time to first byte", "tree_root_server", ""),
    ("  of it, tree.js's layout and drawing", "tree_root_draw", ""),
    ("its biggest child's tree page ready", "tree_biggest", ""),
    ("  of it, server time to first byte", "tree_biggest_server", ""),
    ("  of it, tree.js's layout and drawing", "tree_biggest_draw", ""),
    ("root's resource-tree API call", "tree_root_api", ""),
    ("biggest child's resource-tree API call", "tree_biggest_api", ""),
)
"""S8's side-by-side rows: label, tether's metric prefix, the Argo CD-style stand-in's (or none)."""


def ui_vs_argo(s8: Mapping[str, Any]) -> str:
    """S8's browser timings beside the Argo CD-style stand-in's (empty when S8 has none)."""
    rows = [("S8 (Chromium)", "tether p50 / p95 ms", "Argo CD-style p50 / p95 ms")]
    for label, ours, theirs in UI_VS_ARGO:
        if any(s8.get(f"{p}_p50_ms") is not None for p in (ours, theirs) if p):
            rows.append((label, _pair(s8, ours), _pair(s8, theirs)))
    for label in ("root", "biggest"):
        page = s8.get(f"tree_{label}_page")
        if page:
            rows.append((f"tree page ({label})", str(page), "-"))
    return _columns(rows)


FLEET_GOALS = (
    ("all Synced, s", "tether_s", 240.0),
    ("controller peak RSS, MiB", "peak_rss_mib", 1024.0),
    ("resync CPU per app, ms", "resync_cpu_ms_per_app", 2.0),
)
"""S9's goals on the 2-core bench machine (issue 16): 10,100 apps Synced within 4 minutes, in
1 GiB, and a resync with nothing to do at most 2 ms of CPU per app (a 3-minute resync period of
10,000 apps then costs about a ninth of one core)."""

FLEET_BASELINES = (
    ("floor (bare client, minimum per app), s", "floor_s"),
    ("kubectl apply --server-side loop, s", "kubectl_s"),
    ("API requests per app", "requests_per_app"),
    ("restart: ready, s", "restart_ready_s"),
    ("restart: every app reconciled once, s", "restart_first_pass_s"),
    ("writes per steady resync", "resync_writes"),
)
"""S9's other rows: the baselines of the same run, and what a restart and a resync cost."""


def fleet_goals(s9: Mapping[str, Any]) -> str:
    """S9's measurements against its goals, and its baselines, as text (empty without S9)."""
    if s9.get("apps") is None:
        return ""
    rows = [(f"S9 ({format_value(s9['apps'])} apps)", "measured", "goal")]
    for label, key, goal in FLEET_GOALS:
        value = s9.get(key)
        if value is None:
            continue
        verdict = "met" if value <= goal else "missed"
        rows.append((label, format_value(value), f"<= {format_value(goal)} ({verdict})"))
    for label, key in FLEET_BASELINES:
        value = s9.get(key)
        if value is None:
            continue
        note = "-"
        if key == "kubectl_s" and s9.get("kubectl_sampled_every"):
            note = (
                f"every {s9['kubectl_sampled_every']}th app "
                f"({format_value(s9.get('kubectl_sampled_s'))} s), scaled"
            )
        rows.append((label, format_value(value), note))
    return _columns(rows)


def parse_metrics(text: str, skip_prefixes: Iterable[str] = ()) -> dict[str, float]:
    """Prometheus text format to ``{'name{labels}': value}`` (comments and skipped names out)."""
    skips = tuple(skip_prefixes)
    samples: dict[str, float] = {}
    for line in text.splitlines():
        if not line or line.startswith("#") or (skips and line.startswith(skips)):
            continue
        match = _SAMPLE.match(line)
        if match:
            samples[match.group(1) + (match.group(2) or "")] = float(match.group(3))
    return samples


def requests_by_verb(samples: Mapping[str, float]) -> dict[str, float]:
    """The ``tether_kubectl_requests_total`` counter by verb."""
    found: dict[str, float] = {}
    for key, value in samples.items():
        if key.startswith("tether_kubectl_requests_total{"):
            verb = re.search(r'verb="([^"]*)"', key)
            if verb:
                found[verb.group(1)] = value
    return found


def delta(after: Mapping[str, float], before: Mapping[str, float]) -> dict[str, float]:
    """Per-key increase between two counter snapshots."""
    return {k: after.get(k, 0.0) - before.get(k, 0.0) for k in sorted(set(after) | set(before))}


def writes_and_reads(by_verb: Mapping[str, float]) -> tuple[float, float]:
    """Write requests and read (GET/LIST) requests in a by-verb count."""
    writes = sum(by_verb.get(v, 0.0) for v in WRITE_VERBS)
    reads = sum(by_verb.get(v, 0.0) for v in READ_VERBS)
    return writes, reads


def resync_window(
    first: Mapping[str, float], last: Mapping[str, float], apps: int, reconciles_metric: str
) -> tuple[float, float, float, float]:
    """From two /metrics reads around a window: reconciles in it, and the writes and reads it
    made scaled to one resync of ``apps`` (the window need not hold exactly one pass).

    Returns ``(reconciles, per_resync, writes, reads)``; ``per_resync`` is 0 with no reconcile.
    """
    reconciles = last.get(reconciles_metric, 0) - first.get(reconciles_metric, 0)
    per_resync = apps / reconciles if reconciles else 0.0
    writes, reads = writes_and_reads(delta(requests_by_verb(last), requests_by_verb(first)))
    return reconciles, per_resync, writes * per_resync, reads * per_resync


def parse_proc_status(text: str) -> dict[str, int]:
    """The ``kB`` lines of /proc/<pid>/status as ``{field: kB}``."""
    found: dict[str, int] = {}
    for line in text.splitlines():
        name, _, rest = line.partition(":")
        parts = rest.split()
        if len(parts) == 2 and parts[1] == "kB" and parts[0].isdigit():
            found[name] = int(parts[0])
    return found


def format_value(value: Any) -> str:
    """A metric value for the table: 3 significant digits for floats, as is otherwise."""
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, float):
        if value == 0 or not math.isfinite(value):
            return str(value)
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        return f"{value:.3g}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


# --- the scaling model -------------------------------------------------------------------------

SCALING_QUANTITIES = ("seconds", "cpu_s", "rss_mib", "resync_cpu_s")
"""What the scaling model predicts: time to all Synced, controller CPU until then, peak RSS, and
the CPU of one steady resync of every app."""


@dataclasses.dataclass(frozen=True)
class ScalingRow:
    """One scaling point: its size and what it measured (``SCALING_QUANTITIES``)."""

    apps: int
    objects: int
    clusters: int
    seconds: float
    cpu_s: float
    rss_mib: float
    resync_cpu_s: float


@dataclasses.dataclass(frozen=True)
class Cost:
    """A linear cost: ``fixed + per_app * apps + per_object * objects + per_extra_cluster *
    (clusters - 1)``. A one-ConfigMap app costs ``per_app + per_object``."""

    fixed: float
    per_app: float
    per_object: float
    per_extra_cluster: float

    def at(self, apps: int, objects: int, clusters: int) -> float:
        """The cost at a size."""
        return (
            self.fixed
            + self.per_app * apps
            + self.per_object * objects
            + self.per_extra_cluster * (clusters - 1)
        )


@dataclasses.dataclass(frozen=True)
class ScalingModel:
    """One ``Cost`` per quantity, fitted by least squares over the points."""

    seconds: Cost
    cpu_s: Cost
    rss_mib: Cost
    resync_cpu_s: Cost
    points: int


def scaling_rows(points: Mapping[str, Mapping[str, Any]]) -> list[ScalingRow]:
    """The scaling scenario's ``points`` results as rows (a point without a steady phase has a
    resync cost of 0)."""
    return [
        ScalingRow(
            apps=int(p["apps"]),
            objects=int(p["objects"]),
            clusters=int(p["clusters"]),
            seconds=float(p["tether_s"]),
            cpu_s=float(p["controller_cpu_s"]),
            rss_mib=float(p["peak_rss_mib"]),
            resync_cpu_s=float(p.get("resync_cpu_ms_per_app") or 0.0) * int(p["apps"]) / 1000,
        )
        for p in points.values()
    ]


def fit_scaling(rows: Sequence[ScalingRow]) -> ScalingModel:
    """Least-squares ``Cost`` of each quantity over ``rows``.

    Raises:
        ValueError: the rows cannot separate the four terms (fewer than four points, or no
            variation in apps, objects per app or clusters).
    """
    features = [(1.0, float(r.apps), float(r.objects), float(r.clusters - 1)) for r in rows]
    costs = {
        name: Cost(*_least_squares(features, [float(getattr(r, name)) for r in rows]))
        for name in SCALING_QUANTITIES
    }
    return ScalingModel(**costs, points=len(rows))


def predict_scaling(
    model: ScalingModel, *, apps: int, objects: int, clusters: int
) -> dict[str, float]:
    """Each quantity the model predicts at a size (e.g. 100,000 one-ConfigMap apps)."""
    return {name: getattr(model, name).at(apps, objects, clusters) for name in SCALING_QUANTITIES}


def _least_squares(
    features: Sequence[Sequence[float]], values: Sequence[float]
) -> tuple[float, ...]:
    """Solve the normal equations (XᵀX)β = Xᵀy by Gaussian elimination with partial pivoting.
    Columns are scaled to unit size first: apps are thousands, the constant is 1."""
    width = len(features[0]) if features else 0
    if len(features) < width or width == 0:
        raise ValueError(f"{len(features)} points cannot fit {width} terms")
    scale = [max(abs(row[j]) for row in features) or 1.0 for j in range(width)]
    x = [[row[j] / scale[j] for j in range(width)] for row in features]
    a = [
        [sum(r[i] * r[j] for r in x) for j in range(width)]
        + [sum(r[i] * y for r, y in zip(x, values, strict=True))]
        for i in range(width)
    ]
    for col in range(width):
        pivot = max(range(col, width), key=lambda k: abs(a[k][col]))
        if abs(a[pivot][col]) < 1e-9 * len(features):
            raise ValueError("the points do not separate the terms (a size never varies)")
        a[col], a[pivot] = a[pivot], a[col]
        for k in range(width):
            if k != col:
                factor = a[k][col] / a[col][col]
                a[k] = [v - factor * w for v, w in zip(a[k], a[col], strict=True)]
    return tuple(a[j][width] / a[j][j] / scale[j] for j in range(width))


def scaling_table(rows: Sequence[ScalingRow]) -> str:
    """The points as a Markdown table (for docs/performance.md)."""
    lines = [
        "| apps | objects | clusters | to Synced (s) | CPU (s) | CPU ms/app | peak RSS (MiB) "
        "| resync CPU ms/app |",
        "|---|---|---|---|---|---|---|---|",
    ]
    lines.extend(
        f"| {r.apps:,} | {r.objects:,} | {r.clusters} | {r.seconds:.1f} | {r.cpu_s:.1f} "
        f"| {1000 * r.cpu_s / r.apps:.1f} | {r.rss_mib:.0f} "
        f"| {1000 * r.resync_cpu_s / r.apps:.2f} |"
        for r in rows
    )
    return "\n".join(lines)


def table(results: Results) -> str:
    """The results as an aligned text table: scenario, metric, value."""
    rows = [("scenario", "metric", "value")]
    for scenario in sorted(results):
        for metric, value in results[scenario].items():
            rows.append((scenario, metric, format_value(value)))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = []
    for index, row in enumerate(rows):
        lines.append("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))
        if index == 0:
            lines.append("  ".join("-" * width for width in widths))
    return "\n".join(line.rstrip() for line in lines)


def markdown(results: Results) -> str:
    """The results as a Markdown table (for docs/performance.md)."""
    lines = ["| scenario | metric | value |", "|---|---|---|"]
    for scenario in sorted(results):
        for metric, value in results[scenario].items():
            lines.append(f"| {scenario} | `{metric}` | {format_value(value)} |")
    return "\n".join(lines)


def write(results: Results, path: pathlib.Path) -> None:
    """Write ``latest.json`` (keys sorted, so two runs diff cleanly)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n")
