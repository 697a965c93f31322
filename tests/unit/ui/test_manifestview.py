"""A resource's texts for the panel: what the diff compares, what the manifests show, Events."""

from __future__ import annotations

import json
from typing import Any

from tether.ui import manifestview

LIVE = {
    "apiVersion": "v1",
    "kind": "ConfigMap",
    "metadata": {
        "name": "web",
        "namespace": "shop",
        "uid": "u-1",
        "resourceVersion": "42",
        "managedFields": [{"manager": "tether", "operation": "Apply"}],
    },
    "data": {"greeting": "changed by hand"},
}
NORMALIZED = {
    "apiVersion": "v1",
    "kind": "ConfigMap",
    "metadata": {"name": "web"},
    "data": {"greeting": "changed by hand"},
}
PREDICTED = {
    "apiVersion": "v1",
    "kind": "ConfigMap",
    "metadata": {"name": "web"},
    "data": {"greeting": "hello"},
}
TARGET = {
    "apiVersion": "v1",
    "kind": "ConfigMap",
    "metadata": {"name": "web"},
    "data": {"greeting": "hello"},
}


def item(**states: Any) -> dict[str, Any]:
    return {
        key: json.dumps(value) if value is not None else "" for key, value in states.items()
    } | {"modified": True}


def test_the_diff_compares_the_normalised_live_state_with_the_predicted_one():
    texts = manifestview.of_managed(
        item(
            liveState=LIVE,
            targetState=TARGET,
            normalizedLiveState=NORMALIZED,
            predictedLiveState=PREDICTED,
        )
    )
    assert texts.diff_live.splitlines() == [
        "apiVersion: v1",
        "data:",
        "  greeting: changed by hand",
        "kind: ConfigMap",
        "metadata:",
        "  name: web",
    ]
    assert texts.diff_desired.replace("hello", "changed by hand") == texts.diff_live
    assert texts.managed and texts.modified


def test_the_live_manifest_keeps_the_servers_order_and_hides_managed_fields():
    texts = manifestview.of_managed(item(liveState=LIVE, targetState=TARGET))
    assert texts.live.startswith("apiVersion: v1\nkind: ConfigMap\nmetadata:")
    assert "managedFields" not in texts.live and "resourceVersion: '42'" in texts.live
    assert texts.desired.startswith("apiVersion: v1\nkind: ConfigMap")


def test_a_missing_resource_diffs_nothing_against_what_git_wants():
    texts = manifestview.of_managed(
        item(liveState=None, targetState=TARGET, predictedLiveState=PREDICTED)
    )
    assert texts.live == "" and texts.diff_live == ""
    assert "greeting: hello" in texts.diff_desired


def test_without_normalised_states_the_diff_falls_back_to_live_and_target():
    texts = manifestview.of_managed(item(liveState=LIVE, targetState=TARGET))
    assert "changed by hand" in texts.diff_live and "managedFields" not in texts.diff_live
    assert "greeting: hello" in texts.diff_desired


def test_a_live_child_has_a_manifest_and_nothing_to_diff():
    texts = manifestview.of_live(json.dumps(LIVE))
    assert "greeting: changed by hand" in texts.live
    assert (texts.desired, texts.diff_live, texts.diff_desired, texts.managed) == (
        "",
        "",
        "",
        False,
    )
    assert manifestview.of_live("not json").live == ""


def test_events_come_newest_first_with_their_source():
    answer = {
        "items": [
            {
                "type": "Normal",
                "reason": "Scheduled",
                "message": "ok",
                "lastTimestamp": "2026-01-01T00:00:00Z",
                "source": {"component": "scheduler"},
            },
            {
                "type": "Warning",
                "reason": "BackOff",
                "message": "again",
                "count": 3,
                "lastTimestamp": "2026-01-02T00:00:00Z",
                "reportingComponent": "kubelet",
            },
            "not an event",
        ]
    }
    rows = manifestview.events(answer)
    assert [(r.reason, r.count, r.source) for r in rows] == [
        ("BackOff", 3, "kubelet"),
        ("Scheduled", 1, "scheduler"),
    ]
