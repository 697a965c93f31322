r"""Helm ``parameters`` and ``fileParameters`` as one values mapping, built here, not by ``--set``.

Handed to ``helm --set``, a value could set other keys (an escaped or an unescaped comma, a
``{...}``) and a file parameter's name could name a second file (``x=/etc/passwd,cfg``). So tether
builds the values itself and passes them as one generated values file, after the app's own value
files, as helm applies ``--set`` after them. Names keep helm's key syntax (``a.b``, ``a[0].b``,
``\.`` for a literal dot); a value is always one value, typed as ``--set`` types it unless
``forceString`` (``--set-string``). Helm applies ``--set``, then ``--set-string``, then
``--set-file``: so does ``build``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

from tether.model.errors import InvalidInputError

MAX_INDEX = 65_536
"""Helm's own cap on a list index in a key (``strvals.MaxIndex``): ``a[1000000000]`` is refused."""

FORBIDDEN_IN_NAMES = {
    # Characters a parameter name may not hold, and why.
    "=": "helm's --set would end the name there and read the rest as the value",
    ",": "helm's --set would start another parameter there",
    "\x00": "a NUL byte, which no tool can take",
}

Path = tuple[str | int, ...]


@dataclasses.dataclass(frozen=True)
class Parameter:
    """One ``parameters[]`` entry (``value``) or ``fileParameters[]`` entry (file content)."""

    name: str
    value: str
    force_string: bool = False


def key_path(name: str, field: str) -> Path:
    r"""The keys and list indices a helm parameter name stands for (``a.b[0]`` → a, b, 0).

    Raises:
        InvalidInputError: an empty name or segment, a bad index, a forbidden character.
    """
    for char, why in FORBIDDEN_IN_NAMES.items():
        if char in name:
            raise InvalidInputError(f"{field}: name {name!r} holds {char!r}: {why}")
    if name.startswith("-"):
        raise InvalidInputError(f"{field}: name {name!r} must not begin with '-'")
    path: list[str | int] = []
    segment: list[str] = []
    i = 0
    after_index = False
    while i < len(name):
        char = name[i]
        if char == "\\" and i + 1 < len(name):
            segment.append(name[i + 1])
            i += 2
            continue
        if char == ".":
            if segment:
                path.append("".join(segment))
            elif not after_index:
                raise InvalidInputError(f"{field}: name {name!r} has an empty key")
            segment, after_index = [], False
            i += 1
            continue
        if char == "[":
            end = name.find("]", i)
            if end < 0 or not (segment or after_index):
                raise InvalidInputError(f"{field}: name {name!r} has a bad list index")
            if segment:
                path.append("".join(segment))
                segment = []
            path.append(_index(name[i + 1 : end], name, field))
            i = end + 1
            after_index = True
            if i < len(name) and name[i] not in ".[":
                raise InvalidInputError(f"{field}: name {name!r} has text after a list index")
            continue
        if after_index:
            raise InvalidInputError(f"{field}: name {name!r} has text after a list index")
        segment.append(char)
        i += 1
    if segment:
        path.append("".join(segment))
    elif not after_index:
        raise InvalidInputError(f"{field}: name {name!r} has an empty key")
    return tuple(path)


def _index(text: str, name: str, field: str) -> int:
    if not text.isdigit():
        raise InvalidInputError(f"{field}: name {name!r} has a bad list index {text!r}")
    index = int(text)
    if index > MAX_INDEX:
        raise InvalidInputError(f"{field}: name {name!r}: index {index} is over {MAX_INDEX}")
    return index


def typed(value: str, force_string: bool) -> Any:
    """A value as ``--set`` types it (helm's ``strvals.typedVal``); ``--set-string`` keeps text."""
    if force_string:
        return value
    lowered = value.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    if lowered == "null":
        return None
    if value == "0":
        return 0
    if value and value[0] != "0" and _is_int64(value):
        return int(value)
    return value


def _is_int64(text: str) -> bool:
    digits = text[1:] if text[0] in "+-" else text
    if not digits.isdigit() or not digits.isascii():
        return False
    return -(2**63) <= int(text) < 2**63


def build(
    parameters: Sequence[Parameter], files: Sequence[Parameter], *, where: str
) -> dict[str, Any]:
    """The values ``--set``, ``--set-string`` and ``--set-file`` would give, in helm's order."""
    values: dict[str, Any] = {}
    ordered = [
        *((p, f"{where}.parameters") for p in parameters if not p.force_string),
        *((p, f"{where}.parameters") for p in parameters if p.force_string),
        *((p, f"{where}.fileParameters") for p in files),
    ]
    for parameter, field in ordered:
        path = key_path(parameter.name, field)
        value = typed(parameter.value, parameter.force_string or field.endswith("fileParameters"))
        _set(values, path, value, parameter.name, field)
    return values


def _set(values: dict[str, Any], path: Path, value: Any, name: str, field: str) -> None:
    node: Any = values
    for step, following in zip(path, (*path[1:], None), strict=True):
        wanted: Any = value if following is None else ([] if isinstance(following, int) else {})
        if isinstance(step, int):
            if not isinstance(node, list):
                raise InvalidInputError(f"{field}: name {name!r} indexes a value that is no list")
            node.extend([None] * (step + 1 - len(node)))
            current = node[step]
        else:
            if not isinstance(node, dict):
                raise InvalidInputError(f"{field}: name {name!r} sets a key in a value")
            current = node.get(step)
        if following is None or not _fits(current, following):
            if following is not None and current is not None:
                raise InvalidInputError(
                    f"{field}: name {name!r} conflicts with a value another parameter set"
                )
            current = wanted
            node[step] = current
        node = current


def _fits(current: Any, following: str | int) -> bool:
    return isinstance(current, list) if isinstance(following, int) else isinstance(current, dict)
