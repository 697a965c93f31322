"""The pattern languages Argo CD matches names and paths with, as one set of regex translations.

``match`` is gobwas/glob, Argo CD's ``glob.Match``: ``*`` and ``?`` stop at the given separators
(none by default, so ``*`` crosses ``/``), ``**`` crosses them, ``[...]``/``[!...]`` are classes
and ``{a,b}`` alternatives (nestable; left open, they close at the end). ``filepath_match`` is
Go's ``filepath.Match``, which AppProject kind and group patterns use. An invalid pattern (an
unclosed class, a trailing backslash) matches nothing, as in Argo CD.

Patterns are tenant input (directory include/exclude, ignoreDifferences, project rules). Two
or more stars can make a backtracking matcher exponential (Python's ``re`` took 62 s for
``*a*a*a*a*a*a*a*a`` against a 60-character name, holding the GIL all the while), so such
patterns run on RE2, linear in the name, and so do alternatives (``{a,aa}`` repeated is the same
trap). Patterns with at most one star and no alternatives cannot blow up and run on ``re``, 15
times cheaper per call; answers are memoised, as the same kinds, groups and names
are asked about on every comparison.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import re2


def _class_body(pattern: str, start: int, negate_marks: str) -> tuple[str, int] | None:
    """Translate a ``[...]`` class starting after ``[``; return (regex, index after ``]``)."""
    i, out = start, "["
    if i < len(pattern) and pattern[i] in negate_marks:
        out, i = "[^", i + 1
    first = True
    while i < len(pattern) and (pattern[i] != "]" or first):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern):
            i += 1
            char = pattern[i]
        out += "-" if char == "-" and not first and i + 1 < len(pattern) else re.escape(char)
        first, i = False, i + 1
    if i >= len(pattern):
        return None  # unterminated class: a bad pattern, which matches nothing
    return out + "]", i + 1


def _translate_glob(pattern: str, separators: str) -> str | None:
    """A gobwas/glob pattern as a regex, or ``None`` when the pattern is invalid."""
    not_sep = f"[^{re.escape(separators)}]" if separators else "."
    out: list[str] = []
    depth = 0
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            if i + 1 >= len(pattern):
                return None
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        if char == "*":
            if pattern.startswith("**", i):
                out.append(".*")
                i += 2
            else:
                out.append(f"{not_sep}*")
                i += 1
            continue
        if char == "?":
            out.append(not_sep)
        elif char == "[":
            translated = _class_body(pattern, i + 1, "!")
            if translated is None:
                return None
            body, i = translated
            out.append(body)
            continue
        elif char == "{":
            depth += 1
            out.append("(?:")
        elif char == "}" and depth:
            depth -= 1
            out.append(")")
        elif char == "," and depth:
            out.append("|")
        else:
            out.append(re.escape(char))
        i += 1
    # gobwas closes alternatives left open at the end of the pattern.
    return "".join(out) + ")" * depth


def _translate_filepath(pattern: str) -> str | None:
    """A Go ``filepath.Match`` pattern as a regex, or ``None`` when the pattern is invalid.

    ``*`` and ``?`` never match ``/``; classes negate with ``^``; no ``**`` and no alternatives.
    """
    out: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            if i + 1 >= len(pattern):
                return None
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        if char == "[":
            translated = _class_body(pattern, i + 1, "^")
            if translated is None:
                return None
            body, i = translated
            out.append(body)
            continue
        out.append({"*": "[^/]*", "?": "[^/]"}.get(char) or re.escape(char))
        i += 1
    return "".join(out)


MAX_STARS_FOR_BACKTRACKING = 1
"""One unbounded wildcard costs a backtracking matcher at most quadratic time; two, or a run of
alternatives, can cost exponential time, so those patterns go to RE2."""


@functools.lru_cache(maxsize=4096)
def _compiled(language: str, pattern: str, separators: str) -> Any:
    """The compiled pattern (``.`` matching newlines too), or ``None`` if it is invalid."""
    if language == "glob":
        regex = _translate_glob(pattern, separators)
    else:
        regex = _translate_filepath(pattern)
    if regex is None:
        return None
    if pattern.count("*") <= MAX_STARS_FOR_BACKTRACKING and "{" not in pattern:
        return re.compile(regex, re.DOTALL)
    try:
        return re2.compile("(?s)" + regex)
    except re2.error:
        return None  # beyond what RE2 takes (a pattern of thousands of alternatives)


@functools.lru_cache(maxsize=65536)
def _matches(language: str, pattern: str, value: str, separators: str) -> bool:
    compiled = _compiled(language, pattern, separators)
    return compiled is not None and compiled.fullmatch(value) is not None


def match(pattern: str, value: str, *, allow_negation: bool = False, separators: str = "") -> bool:
    """Argo CD's glob match: ``*`` alone matches anything; ``!p`` (when allowed) negates ``p``."""
    if allow_negation and pattern.startswith("!"):
        return not match(pattern[1:], value, separators=separators)
    if pattern == "*":
        return True
    return _matches("glob", pattern, value, separators)


def filepath_match(pattern: str, value: str) -> bool:
    """Go's ``filepath.Match``, for group, kind and name patterns; bad patterns match nothing."""
    return _matches("filepath", pattern, value, "")


def is_pattern(text: str) -> bool:
    """Whether ``text`` holds glob syntax rather than being one literal name."""
    return any(char in text for char in "*?[{")
