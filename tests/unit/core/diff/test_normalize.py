"""Normalisation details the golden pairs do not pin down."""

from __future__ import annotations

import base64
import types
from typing import Any

from tether.core.diff import normalize
from tether.core.diff.normalize import NormalizeOptions, StatusField


def test_status_policy_none_keeps_status_everywhere():
    obj = {"apiVersion": "v1", "kind": "Pod", "status": {"phase": "Running"}}
    assert normalize.normalize(obj, NormalizeOptions(StatusField.NONE))["status"] == obj["status"]
    assert "status" not in normalize.normalize(obj)


def test_odd_shapes_pass_through_without_errors():
    odd: list[dict[str, Any]] = [
        {"kind": "ConfigMap", "metadata": "not-a-map"},
        {"kind": "ConfigMap", "metadata": {"annotations": "x", "labels": {"a": "b"}}},
        {"apiVersion": "v1", "kind": "Service", "spec": "x"},
        {"apiVersion": "v1", "kind": "Service", "spec": {"ports": [1, {"port": 80}]}},
        {"apiVersion": "v1", "kind": "Endpoints", "subsets": "x"},
        {"apiVersion": "v1", "kind": "Endpoints", "subsets": ["x"]},
        {"apiVersion": "apps/v1", "kind": "Deployment", "spec": {"template": "x"}},
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "spec": {"template": {"spec": {"containers": "x", "initContainers": ["x"]}}},
        },
        {"apiVersion": "v1", "kind": "Secret", "data": "x", "stringData": "y"},
        {"apiVersion": "v1", "kind": "Secret", "data": {}},
    ]
    for obj in odd:
        once = normalize.normalize(obj)
        assert normalize.normalize(once) == once


def test_secret_string_data_wins_over_data_for_the_same_key():
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "data": {"a": "b2xk"},
        "stringData": {"a": "new"},
    }
    assert normalize.normalize(secret)["data"] == {"a": "bmV3"}


def test_an_empty_secret_has_no_data_field():
    secret = {"apiVersion": "v1", "kind": "Secret", "data": {}, "stringData": {}}
    assert "data" not in normalize.normalize(secret)


def test_every_quirk_and_server_owned_field_has_a_reason():
    assert all(reason for quirks in normalize.KNOWN_QUIRKS.values() for _, reason in quirks)
    assert all(normalize.SERVER_OWNED_METADATA.values())
    assert all(normalize.SERVER_OWNED_ANNOTATIONS.values())


def test_canonical_json_ignores_key_order():
    assert normalize.canonical_json({"b": 1, "a": [2]}) == normalize.canonical_json(
        {"a": [2], "b": 1}
    )


def test_string_data_values_that_are_not_strings_are_stringified():
    secret = {"apiVersion": "v1", "kind": "Secret", "stringData": {"n": 0, "e": None}}
    assert normalize.normalize(secret)["data"] == {"n": "MA==", "e": ""}


def test_a_json_copy_shares_no_container_with_its_source():
    source = {"a": [{"b": [1, "x", None, True, 2.5]}, ("t", {"u": 1})], "c": {"d": {}}}
    copied = normalize.copy_manifest(source)
    assert copied == {"a": [{"b": [1, "x", None, True, 2.5]}, ["t", {"u": 1}]], "c": {"d": {}}}
    copied["a"][0]["b"].append(3)
    copied["a"][1][1]["u"] = 2
    copied["c"]["d"]["e"] = 1
    assert source == {"a": [{"b": [1, "x", None, True, 2.5]}, ("t", {"u": 1})], "c": {"d": {}}}


def test_a_json_copy_turns_other_mappings_and_tuples_into_dicts_and_lists():
    frozen = types.MappingProxyType({"k": (1, types.MappingProxyType({"v": [2]}))})
    copied = normalize.json_copy(frozen)
    assert copied == {"k": [1, {"v": [2]}]}
    assert type(copied) is dict
    assert type(copied["k"]) is list
    assert type(copied["k"][1]) is dict


def test_string_data_is_folded_into_base64_data_on_a_copy():
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "s"},
        "data": {"a": base64.b64encode(b"x").decode()},
        "stringData": {"b": "y"},
    }
    folded = normalize.with_string_data_folded(secret)
    assert folded["data"] == {"a": "eA==", "b": "eQ=="}
    assert "stringData" not in folded
    assert secret["stringData"] == {"b": "y"}  # the original is untouched
