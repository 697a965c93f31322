"""docs/configuration.md names every key tether knows (honoured, read elsewhere or unsupported)."""

from __future__ import annotations

import pathlib

import pytest

from tether.core.config import keys

DOC = pathlib.Path(__file__).parents[4] / "docs" / "configuration.md"


@pytest.mark.parametrize(
    "known",
    [k for table in keys.TABLES.values() for k in table],
    ids=lambda known: known.name,
)
def test_every_known_key_is_in_the_configuration_doc(known: keys.Known) -> None:
    text = DOC.read_text(encoding="utf-8")
    name = known.name.rstrip(".")
    assert f"`{name}" in text, f"{known.name} ({known.status.value}) is not in {DOC.name}"


def test_a_family_is_found_by_its_longest_prefix() -> None:
    known = keys.lookup(keys.CMD_PARAMS_CM, "controller.repo.server.timeout.seconds")
    assert known is not None and known.status is keys.Status.HONOURED
    other = keys.lookup(keys.CMD_PARAMS_CM, "controller.self.heal.timeout.seconds")
    assert other is not None and other.status is keys.Status.UNSUPPORTED
    assert keys.lookup(keys.ARGOCD_CM, "accounts.alice.enabled") is not None
    assert keys.lookup(keys.ARGOCD_CM, "nothing") is None
