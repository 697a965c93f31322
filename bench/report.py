"""The bench's pure arithmetic and output: percentiles, parsed /metrics and /proc text, the
results table and ``latest.json``. No I/O here beyond writing the results file.
"""

from __future__ import annotations

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
