"""Matrix and merge: how children's parameter sets join, and what they refuse."""

from __future__ import annotations

import pytest

from tether.core.appsets import combine
from tether.model.errors import InvalidInputError


def test_a_matrix_needs_exactly_two_children_and_nests_one_level_only() -> None:
    with pytest.raises(InvalidInputError, match="exactly 2"):
        combine.check_children("matrix", [{"list": {}}], 0)
    combine.check_children("matrix", [{"list": {}}, {"merge": {}}], 0)
    with pytest.raises(InvalidInputError, match="nest one level only"):
        combine.check_children("matrix", [{"list": {}}, {"matrix": {}}], 1)


def test_in_go_templates_the_first_child_wins_on_a_shared_key() -> None:
    joined = combine.matrix_pair({"a": "1", "m": {"x": "f"}}, {"a": "2", "m": {"y": "s"}}, go=True)
    assert joined == {"a": "1", "m": {"x": "f", "y": "s"}}


def test_in_the_legacy_form_a_shared_key_with_different_values_is_an_error() -> None:
    assert combine.matrix_pair({"a": "1"}, {"a": "1", "b": "2"}, go=False) == {"a": "1", "b": "2"}
    with pytest.raises(InvalidInputError, match="both children set parameter 'a'"):
        combine.matrix_pair({"a": "1"}, {"a": "2"}, go=False)


def test_merge_overrides_base_sets_by_key_and_drops_unmatched_later_sets() -> None:
    base = [{"cluster": "a", "v": "1"}, {"cluster": "b", "v": "1"}]
    later = [{"cluster": "b", "v": "2"}, {"cluster": "z", "v": "9"}]
    last = [{"cluster": "b", "v": "3", "extra": "e"}]
    assert combine.merge([base, later, last], ["cluster"]) == [
        {"cluster": "a", "v": "1"},
        {"cluster": "b", "v": "3", "extra": "e"},
    ]


def test_merge_needs_keys_and_refuses_duplicate_keys_in_one_child() -> None:
    with pytest.raises(InvalidInputError, match="mergeKeys is required"):
        combine.merge([[{"a": "1"}]], [])
    with pytest.raises(InvalidInputError, match="child 1 has two parameter sets"):
        combine.merge([[{"a": "1"}], [{"a": "1"}, {"a": "1"}]], ["a"])
