"""Label selectors as the API's ``selector`` parameter spells them."""

from __future__ import annotations

import pytest

from tether.core.app import selectors
from tether.model.errors import InvalidInputError

LABELS = {"team": "shop", "tier": "web", "example.com/owner": "alice"}


@pytest.mark.parametrize(
    ("text", "selected"),
    [
        ("", True),
        ("team=shop", True),
        ("team==shop", True),
        ("team=blog", False),
        ("team!=blog", True),
        ("team!=shop", False),
        ("missing!=x", True),
        ("team in (blog, shop)", True),
        ("team in (blog)", False),
        ("team notin (blog)", True),
        ("team notin (shop,blog)", False),
        ("missing notin (x)", True),
        ("missing in (x)", False),
        ("tier", True),
        ("missing", False),
        ("!missing", True),
        ("!tier", False),
        ("example.com/owner=alice", True),
        ("team=shop,tier=web", True),
        ("team=shop,tier=db", False),
        ("team in (shop,blog),!missing,tier", True),
        (" team = shop , tier ", True),
        ("team=", False),
    ],
)
def test_a_selector_selects_as_kubernetes_does(text: str, selected: bool) -> None:
    assert selectors.parse(text).matches(LABELS) is selected


def test_an_empty_value_matches_an_empty_label() -> None:
    assert selectors.parse("flag=").matches({"flag": ""})


def test_no_labels_at_all_meet_only_negative_requirements() -> None:
    assert selectors.parse("!a,b!=c,d notin (e)").matches(None)
    assert not selectors.parse("a").matches(None)


@pytest.mark.parametrize(
    "text",
    ["team in (shop", "team in shop)", "team in ()", "bad key!=x", "team=sh op", "-x=y", "a=b=c"],
)
def test_a_malformed_selector_is_refused_naming_the_bad_part(text: str) -> None:
    with pytest.raises(InvalidInputError, match="selector"):
        selectors.parse(text)
