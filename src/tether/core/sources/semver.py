"""Semantic-version constraints as Argo CD and Helm read them (Masterminds/semver v3 rules).

Owns parsing constraints such as ``>=1.0.0 <2.0.0 || ~3.1``, matching versions against them, and
choosing the highest matching Git tag; the ``semver`` package supplies versions and precedence.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable

import semver as _semver

from tether.model.errors import InvalidInputError

MAX_CONSTRAINT_LENGTH = 1024
"""Longer input is refused before any regex runs: a targetRevision is a short human string."""

_PART = r"(?:\d+|[xX*])"
_IDENT = r"[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*"
_VERSION = (
    rf"v?(?P<major>{_PART})(?:\.(?P<minor>{_PART}))?(?:\.(?P<patch>{_PART}))?"
    rf"(?:-(?P<pre>{_IDENT}))?(?:\+(?P<build>{_IDENT}))?"
)
# Longest operators first so ``>=`` is never read as ``>`` followed by ``=1.0``.
_OP = r"(?P<op>!=|>=|=>|<=|=<|~>|>|<|=|~|\^)?"
_TERM = re.compile(rf"{_OP}\s*{_VERSION}")
_TERM_SEPARATOR = re.compile(r"\s*,\s*|\s+")
_HYPHEN_RANGE = re.compile(
    rf"(?P<low>{_VERSION.replace('?P<', '?P<l')})\s+-\s+(?P<high>{_VERSION.replace('?P<', '?P<h')})"
)
_EXACT_VERSION = re.compile(
    r"v?(?P<major>\d+)(?:\.(?P<minor>\d+))?(?:\.(?P<patch>\d+))?"
    rf"(?:-(?P<pre>{_IDENT}))?(?:\+(?P<build>{_IDENT}))?"
)
_WILDCARDS = frozenset({"x", "X", "*"})


@dataclasses.dataclass(frozen=True)
class _Term:
    """One ``<op><version>`` comparison; ``wild`` says which parts were ``x`` or missing."""

    op: str
    version: _semver.Version
    major_wild: bool
    minor_wild: bool
    patch_wild: bool

    @property
    def wild(self) -> bool:
        return self.major_wild or self.minor_wild or self.patch_wild

    def allows(self, v: _semver.Version) -> bool:
        # Masterminds rule: a pre-release only satisfies a term that itself names a pre-release,
        # which is why ``-0`` (``*-0``, ``>=0.0.0-0``) opts a constraint into pre-releases.
        if v.prerelease and not self.version.prerelease:
            return False
        return _OPERATORS[self.op](self, v)


def _tilde(t: _Term, v: _semver.Version) -> bool:
    if v < t.version:
        return False
    # Masterminds quirk kept for compatibility: ``~0.0.0`` (like ``~*``) accepts every release.
    if t.major_wild or (t.version.compare("0.0.0") == 0 and not t.minor_wild and not t.patch_wild):
        return True
    if v.major != t.version.major:
        return False
    return t.minor_wild or v.minor == t.version.minor


def _equal(t: _Term, v: _semver.Version) -> bool:
    # A wildcard or a missing part turns ``=1.2`` into the range ``~1.2``.
    return _tilde(t, v) if t.wild else v.compare(t.version) == 0


def _not_equal(t: _Term, v: _semver.Version) -> bool:
    if not t.wild:
        return v.compare(t.version) != 0
    if t.major_wild:
        return False
    if v.major != t.version.major:
        return True
    if t.minor_wild:
        return False
    if v.minor != t.version.minor:
        return True
    return (v.prerelease or "") != (t.version.prerelease or "")


def _greater(t: _Term, v: _semver.Version) -> bool:
    if t.wild and not t.major_wild:
        if v.major != t.version.major:
            return v.major > t.version.major
        if t.minor_wild:
            return False  # ``>1`` needs 2.0.0 or later
        return v.minor > t.version.minor  # ``>1.2`` needs 1.3.0 or later
    return v > t.version


def _less_equal(t: _Term, v: _semver.Version) -> bool:
    if not t.wild:
        return v <= t.version
    if v.major != t.version.major:
        return v.major < t.version.major
    return t.minor_wild or v.minor <= t.version.minor


def _caret(t: _Term, v: _semver.Version) -> bool:
    if t.major_wild:
        return True
    if v < t.version:
        return False
    # The leftmost non-zero part is fixed: ^1.2 < 2.0.0, ^0.2 < 0.3.0, ^0.0.3 < 0.0.4.
    if t.version.major > 0 or t.minor_wild:
        return v.major == t.version.major
    if v.major > 0:
        return False
    if t.version.minor > 0 or t.patch_wild:
        return v.minor == t.version.minor
    if v.minor > 0:
        return False
    return v.patch == t.version.patch


_OPERATORS: dict[str, Callable[[_Term, _semver.Version], bool]] = {
    "": _equal,
    "=": _equal,
    "!=": _not_equal,
    ">": _greater,
    "<": lambda t, v: v < t.version,
    ">=": lambda t, v: v >= t.version,
    "=>": lambda t, v: v >= t.version,
    "<=": _less_equal,
    "=<": _less_equal,
    "~": _tilde,
    "~>": _tilde,
    "^": _caret,
}
"""Masterminds operators; ``=>``/``=<``/``~>`` are its accepted spellings of ``>=``/``<=``/``~``."""


@dataclasses.dataclass(frozen=True)
class Constraint:
    """A parsed constraint: OR of AND-groups of terms."""

    text: str
    groups: tuple[tuple[_Term, ...], ...]

    def allows(self, version: _semver.Version) -> bool:
        """Whether ``version`` satisfies the constraint."""
        return any(all(term.allows(version) for term in group) for group in self.groups)


def parse_constraint(text: str) -> Constraint:
    """Parse a Masterminds constraint such as ``^1.2``, ``1.2.x`` or ``>=1 <2 || 3.x``.

    Raises:
        InvalidInputError: ``text`` is not a constraint (the message quotes it, it is not secret).
    """
    if len(text) > MAX_CONSTRAINT_LENGTH:
        raise InvalidInputError(f"semver constraint is longer than {MAX_CONSTRAINT_LENGTH} chars")
    rewritten = _HYPHEN_RANGE.sub(_hyphen_to_terms, text)
    groups = tuple(_parse_group(text, part) for part in rewritten.split("||"))
    return Constraint(text, groups)


def _hyphen_to_terms(m: re.Match[str]) -> str:
    # ``1.2 - 1.4.5`` is inclusive on both ends.
    return f">={m.group('low')},<={m.group('high')}"


def _parse_group(original: str, part: str) -> tuple[_Term, ...]:
    stripped = part.strip()
    if not stripped:
        raise InvalidInputError(f"improper semver constraint {original!r}: empty alternative")
    terms: list[_Term] = []
    pos = 0
    while pos < len(stripped):
        if terms:
            sep = _TERM_SEPARATOR.match(stripped, pos)
            if sep is None or sep.end() == pos:
                raise InvalidInputError(f"improper semver constraint {original!r}")
            pos = sep.end()
        m = _TERM.match(stripped, pos)
        if m is None or m.end() == pos:
            raise InvalidInputError(f"improper semver constraint {original!r}")
        terms.append(_term(m))
        pos = m.end()
    return tuple(terms)


def _term(m: re.Match[str]) -> _Term:
    major, minor, patch = m.group("major"), m.group("minor"), m.group("patch")
    major_wild = major in _WILDCARDS
    minor_wild = not major_wild and (minor is None or minor in _WILDCARDS)
    patch_wild = not major_wild and not minor_wild and (patch is None or patch in _WILDCARDS)
    version = _semver.Version(
        0 if major_wild else int(major),
        0 if major_wild or minor_wild else int(minor),
        0 if major_wild or minor_wild or patch_wild else int(patch),
        m.group("pre"),
        m.group("build"),
    )
    return _Term(m.group("op") or "", version, major_wild, minor_wild, patch_wild)


def parse_version(text: str) -> _semver.Version | None:
    """Parse a tag as Masterminds does loosely (``v1.2`` is 1.2.0), or ``None`` if it is not one."""
    m = _EXACT_VERSION.fullmatch(text)
    if m is None:
        return None
    return _semver.Version(
        int(m.group("major")),
        int(m.group("minor") or 0),
        int(m.group("patch") or 0),
        m.group("pre"),
        m.group("build"),
    )


def is_constraint(revision: str) -> bool:
    """Whether a targetRevision asks for a semver range rather than naming one ref.

    Argo CD's rule: it parses as a constraint but not as an exact version (``1.2.3`` pins a tag;
    ``1.2.*`` and ``>=1.2`` are ranges).
    """
    if parse_version(revision) is not None:
        return False
    try:
        parse_constraint(revision)
    except InvalidInputError:
        return False
    return True


def best_match(constraint: str | Constraint, tags: Iterable[str]) -> str | None:
    """The tag with the highest version that satisfies ``constraint``; non-version tags are ignored.

    Ties (``v1.0.0`` and ``1.0.0``) go to the lexicographically smallest name, so the choice is
    stable whatever order the server lists tags in.
    """
    parsed = parse_constraint(constraint) if isinstance(constraint, str) else constraint
    best: tuple[_semver.Version, str] | None = None
    for tag in tags:
        version = parse_version(tag)
        if version is None or not parsed.allows(version):
            continue
        if best is None or version > best[0] or (version.compare(best[0]) == 0 and tag < best[1]):
            best = (version, tag)
    return best[1] if best else None
