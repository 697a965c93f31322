"""A change's effect on one app: added, removed and changed objects, masked diffs."""

from __future__ import annotations

from typing import Any

from tether.core.preview import changes
from tether.core.preview.changes import Outcome


def cm(name: str, **data: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data}


def secret(name: str, **data: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}, "data": data}


def test_objects_are_matched_by_group_kind_namespace_and_name() -> None:
    got = changes.compare("a", [cm("x", v="1"), cm("gone")], [cm("x", v="2"), cm("new")])

    assert got.outcome is Outcome.CHANGED
    assert [str(k) for k in got.added] == ["ConfigMap:new"]
    assert [str(k) for k in got.removed] == ["ConfigMap:gone"]
    assert [str(c.key) for c in got.changed] == ["ConfigMap:x"]
    assert "-  v: '1'\n+  v: '2'" in got.changed[0].diff
    assert got.counts == (1, 1, 1)


def test_the_same_objects_are_unchanged() -> None:
    assert changes.compare("a", [cm("x")], [cm("x")]).outcome is Outcome.UNCHANGED


def test_secret_values_never_appear_in_a_diff_but_their_change_shows() -> None:
    got = changes.compare("a", [secret("s", k="b2xk")], [secret("s", k="bmV3")])

    text = got.changed[0].diff
    assert "b2xk" not in text and "bmV3" not in text
    assert "-  k: ++++++++\n+  k: ++++++++++++" in text


def test_an_added_secret_is_shown_masked() -> None:
    got = changes.compare("a", [], [secret("s", k="c2VjcmV0")])

    assert "c2VjcmV0" not in got.added_diffs[0].diff
    assert "+  k: ++++++++" in got.added_diffs[0].diff


def test_a_note_makes_an_app_changed_even_with_the_same_objects() -> None:
    got = changes.compare("a", [cm("x")], [cm("x")], ["the Application is new at head"])

    assert got.outcome is Outcome.CHANGED


def test_a_preview_fails_when_any_app_failed_at_head() -> None:
    ok = changes.compare("a", [], [])
    bad = changes.failed("b", "kustomize: boom")

    assert changes.Preview("b", "h", 1, (ok, bad)).failed
    assert not changes.Preview("b", "h", 1, (ok,)).failed


def test_a_failure_message_is_scrubbed_of_credentials() -> None:
    got = changes.failed("a", "fetching https://user:hunter22@git.example/r.git failed")

    assert "hunter22" not in got.error
    assert "https://git.example/r.git" in got.error
