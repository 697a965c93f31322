"""The shipped Grafana dashboard and Prometheus alerts ask only for metrics tether exports."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from tether.controller import collector

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
DASHBOARD = DEPLOY / "grafana" / "tether-dashboard.json"
ALERTS = DEPLOY / "prometheus" / "alerts.yaml"

PROMQL_WORDS = {
    "sum",
    "by",
    "without",
    "rate",
    "increase",
    "histogram_quantile",
    "topk",
    "absent",
    "and",
    "or",
    "unless",
}
"""Functions, aggregations and keywords the expressions use; any other word is a metric."""

SUFFIXES = ("_bucket", "_count", "_sum", "_total")


def family(name: str) -> str:
    """The family a sample name belongs to, as the collector names it."""
    for suffix in SUFFIXES:
        if name.endswith(suffix):
            return name.removesuffix(suffix)
    return name


def metrics_in(expr: str) -> set[str]:
    """The metric names a PromQL expression reads."""
    bare = re.sub(r'"[^"]*"', "", expr)  # strings (label values, legends)
    bare = re.sub(r"\{[^}]*\}", "", bare)  # label matchers
    bare = re.sub(r"\b(by|without)\s*\([^)]*\)", "", bare)  # grouping labels
    bare = re.sub(r"\[[^\]]*\]", "", bare)  # range selectors
    words = set(re.findall(r"[A-Za-z_:][A-Za-z0-9_:]*", bare))
    return words - PROMQL_WORDS


def dashboard_exprs() -> list[str]:
    board: dict[str, Any] = json.loads(DASHBOARD.read_text())
    exprs = [t["expr"] for panel in board["panels"] for t in panel.get("targets", [])]
    for variable in board["templating"]["list"]:
        query = variable.get("query")
        if isinstance(query, dict):
            exprs.append(re.sub(r"label_values\((\w+),.*\)", r"\1", query["query"]))
    return exprs


def alert_exprs() -> list[str]:
    rule = yaml.safe_load(ALERTS.read_text())
    return [r["expr"] for group in rule["spec"]["groups"] for r in group["rules"]]


EXPORTED = {family(name) for name in collector.FAMILIES}


def test_every_dashboard_query_names_only_exported_metrics():
    exprs = dashboard_exprs()
    assert len(exprs) >= 10
    for expr in exprs:
        unknown = {m for m in metrics_in(expr) if family(m) not in EXPORTED}
        assert not unknown, (expr, unknown)


def test_every_alert_names_only_exported_metrics_and_the_three_conditions_are_there():
    exprs = alert_exprs()
    for expr in exprs:
        unknown = {m for m in metrics_in(expr) if family(m) not in EXPORTED}
        assert not unknown, (expr, unknown)
    names = {
        r["alert"] for g in yaml.safe_load(ALERTS.read_text())["spec"]["groups"] for r in g["rules"]
    }
    assert {"TetherAppDegraded", "TetherAppSyncFailed", "TetherClusterDisconnected"} <= names


def test_the_extraction_sees_a_metric_it_does_not_know():
    assert metrics_in('sum by (le) (rate(argocd_nothing_bucket{a="b"}[5m]))') == {
        "argocd_nothing_bucket"
    }
