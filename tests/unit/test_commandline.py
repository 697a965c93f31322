"""The one command-line builder: tenant values as flag values, after ``--``, or safe positionals."""

from __future__ import annotations

import pytest

from tether.adapters.commandline import CommandLine
from tether.model.errors import InvalidInputError


def test_a_flag_value_is_one_word_whatever_it_holds() -> None:
    argv = CommandLine("helm", "template").flag("--namespace", "--post-renderer=x", field="f").argv
    assert argv == ["helm", "template", "--namespace=--post-renderer=x"]


def test_a_positional_that_looks_like_an_option_is_refused_naming_its_field() -> None:
    with pytest.raises(InvalidInputError, match=r"spec\.source\.helm\.releaseName"):
        CommandLine("helm", "template").positional(
            "--post-renderer=/bin/sh", field="spec.source.helm.releaseName"
        )


def test_after_the_end_of_options_anything_is_a_positional() -> None:
    argv = CommandLine("git", "ls-remote").end_of_options().positional("-x", field="f").argv
    assert argv == ["git", "ls-remote", "--", "-x"]


@pytest.mark.parametrize("method", ["flag", "positional"])
def test_a_nul_byte_is_refused(method: str) -> None:
    command = CommandLine("kustomize", "build")
    with pytest.raises(InvalidInputError, match="NUL"):
        if method == "flag":
            command.flag("--x", "a\x00b", field="f")
        else:
            command.positional("a\x00b", field="f")
