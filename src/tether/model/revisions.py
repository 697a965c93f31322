"""One source's ``revision`` or several sources' ``revisions``: reading and writing the pair.

Argo CD's wire types carry both fields and fill exactly one: ``revisions`` for an Application with
``spec.sources``, ``revision`` otherwise. Also what one commit is (``RevisionMetadata``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any, Protocol, TypedDict


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


@dataclasses.dataclass(frozen=True)
class RevisionMetadata:
    """One commit as Argo CD's ``RevisionMetadata`` describes it: who, when, what, which tags.

    ``signature_info`` stays empty: tether verifies no GPG signatures (Argo CD leaves it empty too
    when GPG verification is off).
    """

    author: str
    date: str
    """When the commit was authored, RFC 3339 as Argo CD's ``metav1.Time`` (UTC, seconds)."""
    message: str
    tags: tuple[str, ...] = ()
    signature_info: str = ""

    def to_json(self) -> dict[str, Any]:
        """Argo CD's JSON shape (``tags`` left out when there are none, as Go's omitempty)."""
        body: dict[str, Any] = {"author": self.author, "date": self.date, "message": self.message}
        if self.tags:
            body["tags"] = list(self.tags)
        if self.signature_info:
            body["signatureInfo"] = self.signature_info
        return body

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> RevisionMetadata:
        """Read the JSON shape back (the repo-server's answer); wrong types read as empty."""

        def text(name: str) -> str:
            value = body.get(name)
            return value if isinstance(value, str) else ""

        tags = body.get("tags")
        return cls(
            author=text("author"),
            date=text("date"),
            message=text("message"),
            tags=tuple(t for t in tags if isinstance(t, str)) if isinstance(tags, list) else (),
            signature_info=text("signatureInfo"),
        )
