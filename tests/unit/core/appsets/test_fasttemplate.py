"""The legacy ``{{param}}`` form and the walk over a template's strings."""

from __future__ import annotations

from tether.core.appsets import fasttemplate


def test_known_keys_are_replaced_and_unknown_ones_left_exactly_as_typed() -> None:
    params = {"cluster": "prod", "path.basename": "guestbook"}
    text = "{{cluster}}-{{ path.basename }} {{ .Values.x }} {{missing}}"
    assert fasttemplate.render(text, params) == "prod-guestbook {{ .Values.x }} {{missing}}"


def test_only_string_values_are_templated_never_keys_or_other_types() -> None:
    template = {"{{k}}": "{{k}}", "n": 3, "b": True, "l": ["{{k}}", {"x": "{{k}}"}]}
    rendered = fasttemplate.walk(template, lambda s: fasttemplate.render(s, {"k": "v"}))
    assert rendered == {"{{k}}": "v", "n": 3, "b": True, "l": ["v", {"x": "v"}]}


def test_strings_lists_every_string_once_per_occurrence_and_replace_swaps_them() -> None:
    template = {"a": "x", "b": ["y", {"c": "x"}]}
    assert fasttemplate.strings(template) == ["x", "y", "x"]
    assert fasttemplate.replace_strings(template, {"x": "X"}) == {"a": "X", "b": ["y", {"c": "X"}]}
