"""Users' edits of Applications: what a body may carry, and patches applied to the stored app."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tether.model.errors import InvalidInputError
from tether.services import appedits

STORED: dict[str, Any] = {
    "apiVersion": "argoproj.io/v1alpha1",
    "kind": "Application",
    "metadata": {"name": "web", "namespace": "tether", "uid": "u1", "labels": {"a": "1"}},
    "spec": {"project": "default", "source": {"repoURL": "https://g.test/r", "path": "app"}},
    "status": {"sync": {"status": "Synced"}},
    "operation": {"sync": {}},
}


def test_a_user_body_keeps_spec_and_user_metadata_only() -> None:
    body = appedits.user_body(STORED, name="web", namespace="tether")
    assert set(body) == {"apiVersion", "kind", "metadata", "spec"}
    assert body["metadata"] == {"name": "web", "namespace": "tether", "labels": {"a": "1"}}


def test_same_user_fields_ignores_status_operation_and_server_metadata() -> None:
    other = {"metadata": {"labels": {"a": "1"}, "uid": "u2"}, "spec": STORED["spec"]}
    assert appedits.same_user_fields(STORED, other)
    assert not appedits.same_user_fields(STORED, {**other, "metadata": {"labels": {"a": "2"}}})


def test_a_merge_patch_merges_and_null_removes() -> None:
    patch = json.dumps({"spec": {"source": {"path": "v2"}}, "metadata": {"labels": None}})
    result = appedits.patched(STORED, patch, "merge")
    assert result["spec"]["source"] == {"repoURL": "https://g.test/r", "path": "v2"}
    assert "labels" not in result["metadata"]
    assert STORED["spec"]["source"]["path"] == "app"  # the stored app is left alone


def test_a_json_patch_applies_its_operations() -> None:
    ops = [{"op": "replace", "path": "/spec/source/path", "value": "v3"}]
    assert appedits.patched(STORED, json.dumps(ops), "json")["spec"]["source"]["path"] == "v3"


@pytest.mark.parametrize(
    ("patch", "patch_type", "message"),
    [
        ('{"status": {"sync": {"status": "OutOfSync"}}}', "merge", "status"),
        ('[{"op": "remove", "path": "/operation"}]', "json", "operation"),
        ('[{"op": "remove", "path": "/nothing"}]', "json", "patch"),
        ("{not json", "merge", "JSON"),
        ("[1]", "merge", "object"),
        ("{}", "strategic", "json or merge"),
    ],
)
def test_a_bad_patch_is_refused(patch: str, patch_type: str, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        appedits.patched(STORED, patch, patch_type)
