"""Kubernetes label selectors as the API's ``selector`` query parameter spells them.

Equality (``a=b``, ``a==b``), inequality (``a!=b``), set membership (``a in (x,y)``,
``a notin (x)``), existence (``a``) and absence (``!a``), comma-joined; every requirement must hold.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Literal

from tether.model.errors import InvalidInputError

Operator = Literal["=", "!=", "in", "notin", "exists", "!"]

_KEY = re.compile(r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$")
_SET = re.compile(r"^\s*(\S+)\s+(in|notin)\s*\(([^)]*)\)\s*$")


@dataclasses.dataclass(frozen=True)
class Requirement:
    """One requirement on one label."""

    key: str
    operator: Operator
    values: frozenset[str] = frozenset()

    def holds(self, labels: Mapping[str, str]) -> bool:
        """Whether ``labels`` satisfy this requirement.

        As in Kubernetes, ``!=`` and ``notin`` also hold when the label is absent.
        """
        present = self.key in labels
        value = labels.get(self.key)
        match self.operator:
            case "=" | "in":
                return present and value in self.values
            case "!=" | "notin":
                return not present or value not in self.values
            case "exists":
                return present
            case "!":
                return not present
        raise AssertionError(self.operator)  # pragma: no cover


@dataclasses.dataclass(frozen=True)
class Selector:
    """Requirements that must all hold; the empty selector matches everything."""

    requirements: tuple[Requirement, ...] = ()

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        """Whether an object with ``labels`` is selected."""
        present = labels or {}
        return all(r.holds(present) for r in self.requirements)


def parse(text: str) -> Selector:
    """Parse a selector.

    Raises:
        InvalidInputError: The text is no valid selector; the message names the bad part.
    """
    return Selector(tuple(_requirement(part) for part in _split(text) if part.strip()))


def _split(text: str) -> list[str]:
    """Split on commas outside parentheses (``a in (x,y),b`` is two requirements)."""
    parts: list[str] = []
    depth, start = 0, 0
    for i, char in enumerate(text):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                raise InvalidInputError(f"selector {text!r}: unbalanced ')'")
        elif char == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    if depth:
        raise InvalidInputError(f"selector {text!r}: unbalanced '('")
    parts.append(text[start:])
    return parts


def _requirement(part: str) -> Requirement:
    text = part.strip()
    if found := _SET.match(text):
        key, op, listed = found.group(1), found.group(2), found.group(3)
        values = frozenset(v.strip() for v in listed.split(","))
        if not listed.strip():
            raise InvalidInputError(f"selector requirement {text!r}: empty value set")
        for value in values:
            _check_value(text, value)
        return Requirement(_check_key(text, key), "in" if op == "in" else "notin", values)
    operators: tuple[tuple[str, Operator], ...] = (("!=", "!="), ("==", "="), ("=", "="))
    for op_text, op in operators:
        if op_text in text:
            key, _, value = text.partition(op_text)
            value = value.strip()
            _check_value(text, value)
            return Requirement(_check_key(text, key.strip()), op, frozenset({value}))
    if text.startswith("!"):
        return Requirement(_check_key(text, text[1:].strip()), "!")
    return Requirement(_check_key(text, text), "exists")


def _check_key(text: str, key: str) -> str:
    name = key.rpartition("/")[2]
    if not _KEY.match(key) or len(name) > 63:
        raise InvalidInputError(f"selector requirement {text!r}: invalid label key {key!r}")
    return key


def _check_value(text: str, value: str) -> None:
    if len(value) > 63 or not _VALUE.match(value):
        raise InvalidInputError(f"selector requirement {text!r}: invalid label value {value!r}")
