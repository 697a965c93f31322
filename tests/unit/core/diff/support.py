"""Helpers shared by the diff tests: fixture loading and an in-process jq evaluator."""

from __future__ import annotations

import functools
import pathlib
from typing import Any

import jq
import yaml

from tether.core.diff import ignore

FIXTURES = pathlib.Path(__file__).parents[3] / "fixtures" / "diff"


def load(case: str, side: str) -> dict[str, Any] | None:
    """One side of a golden case, or None when the case has no such file."""
    path = FIXTURES / f"{case}-{side}.yaml"
    if not path.exists():
        return None
    loaded = yaml.safe_load(path.read_text())
    assert isinstance(loaded, dict)
    return loaded


@functools.cache
def _compiled(program: str) -> Any:
    return jq.compile(program)


def local_jq(program: str, value: Any) -> Any:
    """An evaluator without a deadline: fine for the fixed, fast expressions of unit tests."""
    try:
        results = _compiled(program).input_value(value).all()
    except ValueError as err:
        raise ignore.JqEvaluationError(str(err)) from err
    if len(results) != 1:
        raise ignore.JqEvaluationError(f"{len(results)} results")
    return results[0]
