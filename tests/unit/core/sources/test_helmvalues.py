"""Helm parameters as values: helm's key syntax and typing; no value reaches another key."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings, strategies as st

from tether.core.sources import helmvalues
from tether.core.sources.helmvalues import Parameter
from tether.model.errors import InvalidInputError

WHERE = "spec.source.helm"


def values(*parameters: Parameter, files: tuple[Parameter, ...] = ()) -> dict[str, Any]:
    return helmvalues.build(parameters, files, where=WHERE)


@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("a", ("a",)),
        ("a.b.c", ("a", "b", "c")),
        ("a[0].b", ("a", 0, "b")),
        ("a[2][1]", ("a", 2, 1)),
        (r"a\.b.c", ("a.b", "c")),
        ("ingress.annotations.kubernetes\\.io/ingress\\.class", (
            "ingress", "annotations", "kubernetes.io/ingress.class"
        )),
    ],
)  # fmt: skip
def test_names_follow_helms_key_syntax(name: str, path: tuple[str | int, ...]) -> None:
    assert helmvalues.key_path(name, "f") == path


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("x=/etc/passwd,cfg", "'='"),
        ("a,b", "','"),
        ("-x", "begin with '-'"),
        ("", "empty key"),
        ("a..b", "empty key"),
        ("a[x]", "bad list index"),
        ("a[1]b", "after a list index"),
        ("a[99999999]", "over 65536"),
        ("a\x00b", "NUL"),
    ],
)
def test_a_name_helm_would_split_or_misread_is_refused(name: str, reason: str) -> None:
    with pytest.raises(InvalidInputError, match=reason):
        helmvalues.key_path(name, "spec.source.helm.parameters")


@pytest.mark.parametrize(
    ("value", "typed"),
    [
        ("true", True),
        ("FALSE", False),
        ("null", None),
        ("0", 0),
        ("42", 42),
        ("-7", -7),
        ("007", "007"),
        ("1.5", "1.5"),
        ("9223372036854775808", "9223372036854775808"),
        ("", ""),
        ("{a,b}", "{a,b}"),
    ],
)
def test_values_are_typed_as_helm_set_types_them(value: str, typed: object) -> None:
    assert helmvalues.typed(value, force_string=False) == typed
    assert helmvalues.typed(value, force_string=True) == value


def test_a_value_with_commas_and_escapes_stays_one_value() -> None:
    # Through --set, "a\\,z.b=injected" set z.b (the escaped backslash ended the value).
    built = values(Parameter("y", "a\\\\,z.b=injected"), Parameter("w", "{x}v=1"))
    assert built == {"y": "a\\\\,z.b=injected", "w": "{x}v=1"}


def test_parameters_nest_and_index_lists() -> None:
    built = values(Parameter("a.b", "1"), Parameter("a.c[1].d", "x"), Parameter("e", "true"))
    assert built == {"a": {"b": 1, "c": [None, {"d": "x"}]}, "e": True}


def test_strings_then_files_apply_after_typed_parameters_as_in_helm() -> None:
    built = values(
        Parameter("a", "text", force_string=True),
        Parameter("a", "1"),
        files=(Parameter("b", "file content"),),
    )
    assert built == {"a": "text", "b": "file content"}


def test_a_key_under_a_plain_value_is_refused_as_helm_refuses_it() -> None:
    with pytest.raises(InvalidInputError, match="conflicts"):
        values(Parameter("a", "1"), Parameter("a.b", "2"))


@settings(max_examples=300, deadline=None)
@given(
    name=st.from_regex(r"[a-z]{1,5}", fullmatch=True),
    value=st.text(max_size=40),
    force=st.booleans(),
)
def test_whatever_a_value_holds_it_lands_under_its_own_name_only(
    name: str, value: str, force: bool
) -> None:
    built = values(Parameter(name, value, force_string=force))
    assert set(built) == {name}
    assert built[name] == helmvalues.typed(value, force)
