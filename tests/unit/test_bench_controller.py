"""The bench's controller entry point: ``--setting name=value`` parsed into Settings fields."""

from __future__ import annotations

import datetime

import pytest
from bench.controller import parse_settings


def test_settings_are_parsed_by_the_type_of_their_field() -> None:
    parsed = parse_settings(
        [
            "leader_election=on",
            "lease_name=bench-lease",
            "workers=40",
            "resync_jitter=2.5",
            "hard_resync_period=none",
            "app_namespaces=a,b",
        ]
    )
    assert parsed == {
        "leader_election": True,
        "lease_name": "bench-lease",
        "workers": 40,
        "resync_jitter": datetime.timedelta(seconds=2.5),
        "hard_resync_period": None,
        "app_namespaces": ("a", "b"),
    }


def test_a_dash_in_a_setting_name_stands_for_an_underscore() -> None:
    assert parse_settings(["lease-name=x"]) == {"lease_name": "x"}


@pytest.mark.parametrize("pair", ["no_such_field=1", "workers", "leader_election=maybe"])
def test_a_setting_the_controller_would_not_honour_is_refused(pair: str) -> None:
    with pytest.raises(ValueError):
        parse_settings([pair])
