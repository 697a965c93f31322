"""Which Applications a list or stream query picks, and the opaque tokens that page through them.

The query is Argo CD's (``projects``, ``selector``, ``name``, ``repo``, ``appNamespace``) plus
tether's ``search`` (a case-insensitive substring of the name) and the filters Argo CD's UI
applies in the browser (``sync``, ``health``, ``cluster``, ``destNamespace``), here on the server
so that a page of thousands of apps stays one page. Pages follow the order of
``(namespace, name)``; a ``continue`` token names the last key of the page before.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import json
from collections.abc import Mapping, Sequence
from typing import Any

from tether.core.app import selectors
from tether.model.errors import InvalidInputError

Key = tuple[str, str]
"""An Application's ``(namespace, name)``: the order lists and streams use."""


@dataclasses.dataclass(frozen=True)
class Summary:
    """What queries read of an Application, taken once from the stored object."""

    namespace: str
    name: str
    project: str
    labels: Mapping[str, str]
    repos: frozenset[str]
    sync: str = "Unknown"
    health: str = "Unknown"
    clusters: frozenset[str] = frozenset()
    """The destination's ``server`` and ``name``, whichever are set: a filter may give either."""
    destination_namespace: str = ""

    @property
    def key(self) -> Key:
        """The ``(namespace, name)`` the app sorts by."""
        return (self.namespace, self.name)


def summarize(obj: Mapping[str, Any]) -> Summary:
    """The summary of a stored Application (``default`` project when unset, as RBAC names it)."""
    meta = obj.get("metadata") or {}
    spec = obj.get("spec") or {}
    sources = [spec.get("source"), *(spec.get("sources") or [])]
    repos = frozenset(
        str(s["repoURL"]) for s in sources if isinstance(s, Mapping) and s.get("repoURL")
    )
    labels = meta.get("labels") or {}
    status = obj.get("status") or {}
    destination = spec.get("destination") or {}
    return Summary(
        namespace=str(meta.get("namespace") or ""),
        name=str(meta.get("name") or ""),
        project=str(spec.get("project") or "default"),
        labels={str(k): str(v) for k, v in labels.items()},
        repos=repos,
        sync=str((status.get("sync") or {}).get("status") or "Unknown"),
        health=str((status.get("health") or {}).get("status") or "Unknown"),
        clusters=frozenset(str(destination[k]) for k in ("server", "name") if destination.get(k)),
        destination_namespace=str(destination.get("namespace") or ""),
    )


@dataclasses.dataclass(frozen=True)
class Query:
    """A list or stream query; empty fields select everything."""

    projects: frozenset[str] = frozenset()
    selector: selectors.Selector = dataclasses.field(default_factory=selectors.Selector)
    name: str = ""
    repo: str = ""
    namespace: str = ""
    search: str = ""
    syncs: frozenset[str] = frozenset()
    healths: frozenset[str] = frozenset()
    clusters: frozenset[str] = frozenset()
    """One cluster by every name it goes by (its server URL, its name): an app whose destination
    gives either is on it."""
    destination_namespace: str = ""

    def matches(self, app: Summary) -> bool:
        """Whether the query picks ``app``."""
        if self.name and app.name != self.name:
            return False
        if self.namespace and app.namespace != self.namespace:
            return False
        if self.projects and app.project not in self.projects:
            return False
        if self.repo and self.repo not in app.repos:
            return False
        if self.search and self.search.lower() not in app.name.lower():
            return False
        if self.syncs and app.sync not in self.syncs:
            return False
        if self.healths and app.health not in self.healths:
            return False
        if self.clusters and self.clusters.isdisjoint(app.clusters):
            return False
        if self.destination_namespace and app.destination_namespace != self.destination_namespace:
            return False
        return self.selector.matches(app.labels)


def query(
    *,
    projects: Sequence[str] = (),
    selector: str = "",
    name: str = "",
    repo: str = "",
    namespace: str = "",
    search: str = "",
    syncs: Sequence[str] = (),
    healths: Sequence[str] = (),
    clusters: Sequence[str] = (),
    destination_namespace: str = "",
) -> Query:
    """A query from request parameters.

    Raises:
        InvalidInputError: The selector does not parse.
    """
    return Query(
        projects=frozenset(p for p in projects if p),
        selector=selectors.parse(selector),
        name=name,
        repo=repo,
        namespace=namespace,
        search=search,
        syncs=frozenset(s for s in syncs if s),
        healths=frozenset(h for h in healths if h),
        clusters=frozenset(c for c in clusters if c),
        destination_namespace=destination_namespace,
    )


@dataclasses.dataclass
class Counts:
    """How many apps a query picks, by sync and by health status (the UI's status bar)."""

    total: int = 0
    sync: dict[str, int] = dataclasses.field(default_factory=dict)
    health: dict[str, int] = dataclasses.field(default_factory=dict)

    def add(self, app: Summary) -> None:
        """Count ``app``."""
        self.total += 1
        self.sync[app.sync] = self.sync.get(app.sync, 0) + 1
        self.health[app.health] = self.health.get(app.health, 0) + 1

    def as_json(self) -> dict[str, Any]:
        """``{total, sync: {status: n}, health: {status: n}}``."""
        return {"total": self.total, "sync": dict(self.sync), "health": dict(self.health)}


MAX_TOKEN_LENGTH = 2048
"""Longer than any key could make a token; a longer one is refused before it is decoded."""


def continue_token(last: Key) -> str:
    """The token for the page after the one ending at ``last``."""
    raw = json.dumps({"v": 1, "after": list(last)}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def after_key(token: str) -> Key | None:
    """The key a ``continue`` token resumes after; ``None`` for the empty token (first page).

    Raises:
        InvalidInputError: The token was not made by :func:`continue_token`.
    """
    if not token:
        return None
    invalid = InvalidInputError("invalid continue token")
    if len(token) > MAX_TOKEN_LENGTH:
        raise invalid
    try:
        decoded = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise invalid from None
    if not isinstance(decoded, dict) or decoded.get("v") != 1:
        raise invalid
    after = decoded.get("after")
    if not (isinstance(after, list) and len(after) == 2 and all(isinstance(p, str) for p in after)):
        raise invalid
    return (after[0], after[1])
