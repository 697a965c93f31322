"""Secret masking: diffs show that a value changed, never the value or its base64."""

from __future__ import annotations

import base64
import json

from tether.core.diff import diff, secrets

from .support import load

PLAIN = ("new-s3cret-value", "old-s3cret-value", "admin")


def _leaks(text: str) -> list[str]:
    encoded = [base64.b64encode(v.encode()).decode() for v in PLAIN]
    return [v for v in (*PLAIN, *encoded) if v in text]


def test_a_secret_diff_shows_the_change_without_showing_any_value():
    result = diff.compare(load("secret-changed", "desired"), load("secret-changed", "live"))
    assert result.modified
    assert "password" in result.text
    assert "+++++" in result.text
    everything = (
        json.dumps([result.patch, result.normalized_live, result.predicted_live]) + result.text
    )
    assert _leaks(everything) == []


def test_a_missing_secret_shows_masked_values_only():
    desired = load("secret-changed", "desired")
    result = diff.compare(desired, None)
    assert result.predicted_live is not None
    assert set(result.predicted_live["data"].values()) <= {"+" * 8, "+" * 12}
    assert _leaks(json.dumps(result.patch) + result.text) == []


def test_masks_grow_by_four_per_distinct_value_and_equal_values_share_a_mask():
    first = {"kind": "Secret", "apiVersion": "v1", "data": {"a": "x", "b": "y", "c": "x"}}
    second = {"kind": "Secret", "apiVersion": "v1", "data": {"a": "x", "b": "z"}}
    one, two = secrets.mask_pair(first, second)
    assert one is not None and two is not None
    assert one["data"] == {"a": "+" * 8, "b": "+" * 12, "c": "+" * 8}
    assert two["data"] == {"a": "+" * 8, "b": "+" * 16}


def test_string_data_and_the_last_applied_annotation_are_masked_too():
    applied = {"kind": "Secret", "data": {"k": "c2VjcmV0"}, "stringData": {"s": "plain"}}
    obj = {
        "kind": "Secret",
        "apiVersion": "v1",
        "metadata": {"annotations": {secrets.LAST_APPLIED: json.dumps(applied)}},
        "stringData": {"s": "plain"},
        "data": {"k": "c2VjcmV0"},
    }
    masked = secrets.mask(obj)
    text = json.dumps(masked)
    assert "plain" not in text and "c2VjcmV0" not in text
    assert (
        masked["stringData"]["s"]
        == json.loads(masked["metadata"]["annotations"][secrets.LAST_APPLIED])["stringData"]["s"]
    )


def test_an_unparsable_last_applied_annotation_is_replaced_whole():
    obj = {
        "kind": "Secret",
        "apiVersion": "v1",
        "metadata": {"annotations": {secrets.LAST_APPLIED: "{not json password=hunter2"}},
    }
    masked = secrets.mask(obj)
    assert set(masked["metadata"]["annotations"][secrets.LAST_APPLIED]) == {"+"}


def test_sensitive_annotations_are_masked_on_any_kind_and_other_objects_are_untouched():
    obj = {
        "kind": "ConfigMap",
        "apiVersion": "v1",
        "metadata": {"annotations": {"token": "abc", "team": "shop"}},
        "data": {"password": "visible-in-configmaps"},
    }
    masked = secrets.mask(obj, sensitive_annotations={"token", "absent"})
    assert masked["metadata"]["annotations"] == {"token": "+" * 8, "team": "shop"}
    assert masked["data"] == obj["data"]
    assert secrets.mask_pair(None, None) == (None, None)


def test_sensitive_annotations_reach_the_diff_output():
    options = diff.DiffOptions(sensitive_annotations=frozenset({"example.com/key"}))
    desired = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "c", "annotations": {"example.com/key": "new-key-value"}},
    }
    live = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "c", "annotations": {"example.com/key": "old-key-value"}},
    }
    result = diff.compare(desired, live, options=options)
    assert result.modified
    assert "key-value" not in result.text + json.dumps(result.patch)


def test_several_versions_masked_together_share_masks_for_equal_values():
    values = {"a": "same", "b": "old"}
    target = {"kind": "Secret", "apiVersion": "v1", "data": values}
    live = {"kind": "Secret", "apiVersion": "v1", "data": {"a": "same", "b": "new"}}
    masked_target, masked_live, absent = secrets.mask_all([target, live, None])
    assert absent is None
    assert masked_target is not None and masked_live is not None
    assert masked_target["data"]["a"] == masked_live["data"]["a"] == "+" * 8
    assert {masked_target["data"]["b"], masked_live["data"]["b"]} == {"+" * 12, "+" * 16}
    assert values["a"] == "same"  # the inputs are left as they were
