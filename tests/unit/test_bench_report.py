"""The bench's report arithmetic: percentiles, parsed /metrics and /proc text, the tables."""

from __future__ import annotations

import json
import math

import pytest
from bench import report

METRICS = """\
# HELP tether_kubectl_requests_total Kubernetes API requests by verb.
# TYPE tether_kubectl_requests_total counter
tether_kubectl_requests_total{verb="apply"} 300.0
tether_kubectl_requests_total{verb="get"} 4.0
tether_kubectl_requests_total{verb="watch"} 40.0
tether_app_info{namespace="tether",name="a",project="default"} 1.0
tether_app_reconcile_count 200.0
tether_cluster_cache_objects 1616.0
"""


def test_a_percentile_interpolates_between_the_closest_ranks():
    assert report.percentile([3.0, 1.0, 2.0], 50) == 2.0
    assert report.percentile([1.0, 2.0], 50) == 1.5
    assert report.percentile([5.0], 95) == 5.0
    assert report.percentile(list(map(float, range(1, 101))), 95) == pytest.approx(95.05)


def test_a_percentile_of_nothing_is_an_error():
    with pytest.raises(ValueError):
        report.percentile([], 50)


def test_a_percentile_landing_on_a_miss_is_unknown_and_misses_sort_last():
    assert report.percentile_with_misses([1.0, None, 2.0], 50) == 2.0
    assert report.percentile_with_misses([1.0, None, 2.0], 95) is None
    assert report.percentile_with_misses([None, None], 50) is None
    assert report.percentile_with_misses([0.5, 1.5], 50) == 1.0


def test_metrics_are_parsed_by_name_and_labels_and_skipped_prefixes_are_left_out():
    samples = report.parse_metrics(METRICS, skip_prefixes=("tether_app_info",))
    assert samples["tether_app_reconcile_count"] == 200.0
    assert samples['tether_kubectl_requests_total{verb="get"}'] == 4.0
    assert not any(key.startswith("tether_app_info") for key in samples)


def test_requests_are_read_by_verb_and_split_into_writes_and_reads():
    by_verb = report.requests_by_verb(report.parse_metrics(METRICS))
    assert by_verb == {"apply": 300.0, "get": 4.0, "watch": 40.0}
    assert report.writes_and_reads(by_verb) == (300.0, 4.0)


def test_a_delta_covers_keys_seen_on_either_side():
    assert report.delta({"get": 5.0, "apply": 1.0}, {"get": 2.0, "list": 1.0}) == {
        "apply": 1.0,
        "get": 3.0,
        "list": -1.0,
    }


def test_proc_status_gives_the_kilobyte_fields():
    text = "Name:\tpython\nVmHWM:\t  90000 kB\nVmRSS:\t  85300 kB\nThreads:\t4\n"
    assert report.parse_proc_status(text) == {"VmHWM": 90000, "VmRSS": 85300}


def test_a_ratio_over_nothing_is_unknown():
    assert report.ratio(3.0, 1.5) == 2.0
    assert report.ratio(3.0, 0.0) is None


def test_values_are_shown_with_three_significant_digits():
    assert report.format_value(0.123456) == "0.123"
    assert report.format_value(12345.6) == "12,346"
    assert report.format_value(1000) == "1,000"
    assert report.format_value(None) == "None"
    assert report.format_value(True) == "True"
    assert report.format_value(math.inf) == "inf"


def test_the_table_lists_every_metric_under_its_scenario_in_order():
    text = report.table({"s2": {"rss_mib": 83.3}, "s1": {"apps_per_s": 4.19, "apps": 100}})
    lines = text.splitlines()
    assert lines[0].split() == ["scenario", "metric", "value"]
    assert [line.split()[:2] for line in lines[2:]] == [
        ["s1", "apps_per_s"],
        ["s1", "apps"],
        ["s2", "rss_mib"],
    ]


def test_the_markdown_table_has_a_row_per_metric():
    text = report.markdown({"s6": {"skipped": "full runs only"}})
    assert text.splitlines()[-1] == "| s6 | `skipped` | full runs only |"


def test_results_are_written_as_sorted_json(tmp_path):
    path = tmp_path / "results" / "latest.json"
    report.write({"s2": {"b": 1}, "s1": {"a": None}}, path)
    assert json.loads(path.read_text()) == {"s1": {"a": None}, "s2": {"b": 1}}
    assert path.read_text().index('"s1"') < path.read_text().index('"s2"')


def test_a_spread_names_p50_p95_and_max_in_milliseconds():
    assert report.spread([1.0, 2.0, 3.0, 4.0, 100.0], "list_page") == {
        "list_page_p50_ms": 3.0,
        "list_page_p95_ms": 80.8,
        "list_page_max_ms": 100.0,
    }


def test_delivery_counts_each_client_and_change_and_a_miss_is_slower_than_any():
    sent = {"r0": 10.0, "r1": 20.0}
    arrivals = [{"r0": 10.05, "r1": 21.5}, {"r0": 10.2}]
    found = report.delivery(arrivals, sent, "stream")
    assert found["stream_events"] == 4
    assert found["stream_received"] == 3
    assert found["stream_within_1s"] == 2
    assert found["stream_p50_ms"] == pytest.approx(850.0)
    assert found["stream_max_ms"] == pytest.approx(1500.0)
    assert found["stream_max_ms_by_change"] == [pytest.approx(200.0), pytest.approx(1500.0)]


def test_delivery_with_nothing_received_has_no_latency():
    found = report.delivery([{}], {"r0": 1.0}, "kube_watch")
    assert found["kube_watch_p50_ms"] is None
    assert found["kube_watch_max_ms"] is None
    assert found["kube_watch_max_ms_by_change"] == [None]


def test_s7_shows_the_api_beside_the_kube_apiserver_row_by_row():
    s7 = {
        "list_page_p50_ms": 20.0,
        "list_page_p95_ms": 30.0,
        "kube_list_page_p50_ms": 10.0,
        "kube_list_page_p95_ms": 15.0,
        "list_viewer_p50_ms": 40.0,
        "list_viewer_p95_ms": 60.0,
        "stream_events": 500,
        "stream_within_1s": 500,
        "stream_p50_ms": 90.0,
        "stream_max_ms": 170.0,
        "kube_watch_events": 500,
        "kube_watch_within_1s": 416,
        "kube_watch_p50_ms": 32.0,
        "kube_watch_max_ms": 1558.0,
    }
    rows = [line.split("  ") for line in report.api_vs_kube(s7).splitlines()]
    cells = [[cell.strip() for cell in row if cell.strip()] for row in rows]
    assert cells[2] == ["page of 100", "20 / 30", "10 / 15"]
    assert cells[3] == ["one-project caller's page", "40 / 60", "-"]
    assert cells[4][1:] == ["90 / max 170 (500/500 in 1 s)", "32 / max 1,558 (416/500 in 1 s)"]


def test_without_s7_there_is_no_side_by_side_table():
    assert report.api_vs_kube({}) == ""
    assert report.api_vs_kube({"failed": "RuntimeError: boom"}) == ""


def test_s8_puts_tethers_browser_timings_beside_the_argo_cd_style_page():
    s8 = {
        "list_page_p50_ms": 600.0,
        "list_page_p95_ms": 800.0,
        "argo_page_p50_ms": 1000.0,
        "argo_page_p95_ms": 1200.0,
        "argo_all_p50_ms": 4700.0,
        "argo_all_p95_ms": 6900.0,
        "tree_root_page": "tree page not built (no [data-tree-ready] on the page)",
    }
    rows = [line.split("  ") for line in report.ui_vs_argo(s8).splitlines()]
    cells = [[cell.strip() for cell in row if cell.strip()] for row in rows]
    assert cells[2] == ["first page, navigation to painted", "600 / 800", "1,000 / 1,200"]
    assert cells[3] == ["every app drawn", "-", "4,700 / 6,900"]
    assert cells[4][0] == "tree page (root)"
    assert cells[4][1].startswith("tree page not built")


def test_without_s8_there_is_no_ui_table():
    assert report.ui_vs_argo({}) == ""
    assert report.ui_vs_argo({"skipped": "no corpus"}) == ""


def test_s9_says_which_goals_its_fleet_met_and_names_the_sampled_kubectl_loop():
    s9 = {
        "apps": 10_100,
        "tether_s": 200.0,
        "peak_rss_mib": 1500.0,
        "resync_cpu_ms_per_app": 1.5,
        "floor_s": 90.0,
        "kubectl_s": 900.0,
        "kubectl_sampled_every": 10,
        "kubectl_sampled_s": 90.0,
    }
    rows = [line.split("  ") for line in report.fleet_goals(s9).splitlines()]
    cells = [[cell.strip() for cell in row if cell.strip()] for row in rows]
    assert cells[0] == ["S9 (10,100 apps)", "measured", "goal"]
    assert cells[2] == ["all Synced, s", "200", "<= 240 (met)"]
    assert cells[3] == ["controller peak RSS, MiB", "1,500", "<= 1,024 (missed)"]
    assert cells[4] == ["resync CPU per app, ms", "1.5", "<= 2 (met)"]
    assert cells[6] == [
        "kubectl apply --server-side loop, s",
        "900",
        "every 10th app (90 s), scaled",
    ]


def test_without_s9_there_is_no_goals_table():
    assert report.fleet_goals({}) == ""
    assert report.fleet_goals({"failed": "TimeoutError: slow"}) == ""


def test_a_resync_window_scales_its_writes_and_reads_to_one_pass_over_every_app() -> None:
    first = {"tether_app_reconcile_count": 100.0}
    last = {"tether_app_reconcile_count": 150.0}
    reconciles, per_resync, writes, reads = report.resync_window(
        first, last, 100, "tether_app_reconcile_count"
    )
    assert (reconciles, per_resync, writes, reads) == (50, 2.0, 0.0, 0.0)
    assert report.resync_window(first, first, 100, "tether_app_reconcile_count")[1] == 0.0
