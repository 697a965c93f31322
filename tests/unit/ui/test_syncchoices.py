"""The sync dialog offers only options tether honours, and knows which the app already sets."""

from __future__ import annotations

from tether.core.sync import options
from tether.ui import syncchoices


def test_every_offered_option_parses_as_the_sync_reads_it():
    for choice in (syncchoices.OUT_OF_SYNC_ONLY, *syncchoices.OPTIONS):
        assert isinstance(options.parse([choice.option]), options.SyncOptions), choice.option
    for value, _ in syncchoices.PRUNE_PROPAGATION:
        parsed = options.parse([f"PrunePropagationPolicy={value}"])
        assert isinstance(parsed, options.SyncOptions), value


def test_options_the_app_sets_are_found_whatever_the_case_of_their_value():
    found = syncchoices.set_by_app(["CreateNamespace=True", " PruneLast=true", "Validate=true"])
    assert found == {"CreateNamespace=true", "PruneLast=true"}
    assert syncchoices.set_by_app(["createnamespace=true"]) == frozenset()
