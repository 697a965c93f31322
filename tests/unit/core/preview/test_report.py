"""A preview as text, JSON and Markdown: summary, sections, the comment size limit."""

from __future__ import annotations

import dataclasses
from typing import Any

from tether.core.preview import changes, report


def cm(name: str, value: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name},
        "data": {"v": value},
    }


def sample() -> changes.Preview:
    return changes.Preview(
        "a" * 40,
        "b" * 40,
        2,
        (
            changes.compare("tether/web", [cm("x", "1")], [cm("x", "2")]),
            changes.failed("tether/db", "kustomize build: missing base"),
            changes.skipped("tether/other"),
            changes.compare("tether/same", [cm("y", "1")], [cm("y", "1")]),
        ),
    )


def test_text_shows_changed_and_failed_apps_and_lists_the_quiet_ones_on_one_line() -> None:
    text = report.text(sample())

    assert "● tether/web  +0 -0 ~1" in text
    assert "✗ tether/db: failed to render at head" in text
    assert "unchanged (2): tether/other, tether/same" in text


def test_text_is_styled_through_the_given_style_by_role() -> None:
    text = report.text(sample(), lambda s, role: f"<{role}>{s}")

    assert "<added>+  v: '2'" in text
    assert "<removed>-  v: '1'" in text
    assert "<failed>✗ tether/db" in text


def test_json_has_every_app_with_its_outcome_and_diffs() -> None:
    doc = report.as_json(sample())

    assert doc["failed"] is True
    assert [(a["app"], a["outcome"]) for a in doc["apps"]] == [
        ("tether/web", "changed"),
        ("tether/db", "failed"),
        ("tether/other", "skipped"),
        ("tether/same", "unchanged"),
    ]
    assert doc["apps"][0]["changed"][0]["kind"] == "ConfigMap"


def test_markdown_opens_with_a_summary_table_and_collapses_each_app() -> None:
    text = report.markdown(sample())

    assert text.index("| tether/web | changed | 0 | 0 | 1 |") < text.index("<details>")
    assert "| tether/db | ❌ failed | 0 | 0 | 0 |" in text
    assert text.count("<details>") == 2
    assert "Unchanged (2): tether/other, tether/same" in text


def test_markdown_past_the_limit_leaves_out_diffs_then_apps_with_a_note() -> None:
    big = [cm(f"o{i}", "x" * 1000) for i in range(20)]
    apps = tuple(changes.compare(f"tether/app{n}", [], big) for n in range(40))
    preview = changes.Preview("a" * 40, "b" * 40, 1, apps)

    text = report.markdown(preview, limit=20_000)

    assert len(text) <= 20_000
    assert report.DIFF_LEFT_OUT in text
    assert "The report was cut here to fit a comment" in text
    assert "| tether/app39 |" in text  # the table still names every app


def test_markdown_names_no_app_when_nothing_is_affected() -> None:
    preview = changes.Preview("a" * 40, "b" * 40, 1, (changes.skipped("tether/x"),))

    assert "No app is affected by this change." in report.markdown(preview)


def test_a_fence_inside_a_diff_does_not_close_the_code_block() -> None:
    app = changes.compare("tether/w", [cm("x", "```")], [cm("x", "````")])

    text = report.markdown(changes.Preview("a" * 40, "b" * 40, 1, (app,)))

    assert "`````diff" in text


def test_the_cluster_comparison_is_shown_in_every_format() -> None:
    drifted = dataclasses.replace(
        changes.compare("tether/same", [cm("y", "1")], [cm("y", "1")]),
        cluster="--- live/ConfigMap:y\n+++ desired/ConfigMap:y\n-  v: '0'\n+  v: '1'\n",
    )
    unreachable = dataclasses.replace(
        changes.compare("tether/web", [cm("x", "1")], [cm("x", "2")]), cluster_error="forbidden"
    )
    preview = changes.Preview("a" * 40, "b" * 40, 1, (drifted, unreachable))

    assert "against the cluster (tether/same):" in report.text(preview)
    assert "against the cluster: forbidden" in report.text(preview)
    markdown = report.markdown(preview)
    assert "| tether/same | unchanged | 0 | 0 | 0 |" in markdown
    assert "**Against the cluster:** forbidden" in markdown
    doc = report.as_json(preview)
    assert doc["apps"][0]["cluster"].endswith("+  v: '1'\n")
    assert doc["apps"][1]["clusterError"] == "forbidden"
