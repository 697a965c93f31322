"""The controller's index of dependents: who is woken when an Application changes."""

from __future__ import annotations

from typing import Any

from tether.controller.dependents import DependentsIndex
from tether.core.app.dependencies import ANNOTATION


def manifest(depends_on: str | None) -> dict[str, Any]:
    annotations = {ANNOTATION: depends_on} if depends_on is not None else {}
    return {"metadata": {"annotations": annotations}}


def test_a_dependency_change_names_the_apps_that_depend_on_it():
    index = DependentsIndex()
    assert index.follow(("apps", "b"), manifest("a")) == ()
    index.follow(("apps", "c"), manifest("a, infra/x"))
    assert sorted(index.follow(("apps", "a"), manifest(None))) == [("apps", "b"), ("apps", "c")]
    assert index.follow(("infra", "x"), None) == (("apps", "c"),)


def test_an_edited_or_deleted_dependent_is_no_longer_woken():
    index = DependentsIndex()
    index.follow(("apps", "b"), manifest("a"))
    index.follow(("apps", "b"), manifest("other"))
    assert index.follow(("apps", "a"), {}) == ()
    assert index.follow(("apps", "other"), {}) == (("apps", "b"),)
    index.follow(("apps", "b"), None)
    assert index.follow(("apps", "other"), {}) == ()


def test_a_bad_annotation_or_a_malformed_object_names_no_dependency():
    index = DependentsIndex()
    index.follow(("apps", "b"), manifest("Not/Valid/At/All"))
    index.follow(("apps", "c"), {"metadata": "nonsense"})
    index.follow(("apps", "d"), {"metadata": {"annotations": {ANNOTATION: 7}}})
    assert index.follow(("apps", "Not"), None) == ()
