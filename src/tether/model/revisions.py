"""One source's ``revision`` or several sources' ``revisions``: reading and writing the pair.

Argo CD's wire types carry both fields and fill exactly one: ``revisions`` for an Application with
``spec.sources``, ``revision`` otherwise.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypedDict


class _Revisioned(Protocol):
    @property
    def revision(self) -> str | None: ...

    @property
    def revisions(self) -> list[str] | None: ...


class Revisioned:
    """Mixin for the wire types with ``revision`` and ``revisions`` fields."""

    def all_revisions(self: _Revisioned) -> tuple[str, ...]:
        """``revisions`` when set, else ``revision`` alone, else nothing."""
        if self.revisions:
            return tuple(self.revisions)
        return (self.revision,) if self.revision else ()


class Fields(TypedDict, total=False):
    """The pair as keyword arguments or JSON members (the names are the same in both)."""

    revision: str
    revisions: list[str]


def fields(revisions: Sequence[str], *, multiple_sources: bool) -> Fields:
    """The one field to write: ``{"revisions": [...]}`` or ``{"revision": ...}`` (or nothing)."""
    if multiple_sources:
        return {"revisions": list(revisions)}
    return {"revision": revisions[0]} if revisions else {}
