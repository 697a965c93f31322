"""The legacy ``{{param}}`` template form, and the walk that templates only a value's strings.

Argo CD's non-Go form replaces ``{{ key }}`` by the flat parameter ``key``; a key with no
parameter is left exactly as typed, so a Helm or Go template inside a field passes through.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

_TAG = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)


def render(text: str, params: Mapping[str, str]) -> str:
    """``text`` with each ``{{ key }}`` of a known key replaced by its value."""

    def replace(match: re.Match[str]) -> str:
        key = match.group(1).strip()
        return params[key] if key in params else match.group(0)

    return _TAG.sub(replace, text)


def strings(value: Any) -> list[str]:
    """Every string in a JSON-like value, in walk order (keys are not templated)."""
    found: list[str] = []

    def collect(text: str) -> str:
        found.append(text)
        return text

    walk(value, collect)
    return found


def walk(value: Any, fn: Callable[[str], str]) -> Any:
    """A copy of ``value`` with ``fn`` applied to every string value (never to keys)."""
    if isinstance(value, str):
        return fn(value)
    if isinstance(value, Mapping):
        return {k: walk(v, fn) for k, v in value.items()}
    if isinstance(value, list):
        return [walk(v, fn) for v in value]
    return value


def replace_strings(value: Any, rendered: Mapping[str, str]) -> Any:
    """A copy of ``value`` with each string swapped for its rendering in ``rendered``."""
    return walk(value, lambda s: rendered.get(s, s))
