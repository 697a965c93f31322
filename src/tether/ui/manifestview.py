"""A resource's manifests as the panel shows them: YAML texts, the diff's two sides, its Events.

The API carries manifests as JSON strings (Argo CD's shape) with Secret values already masked;
this turns them into the texts a person reads and the browser diffs. Pure, no I/O.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import orjson
import yaml

_Dumper: type[yaml.SafeDumper] = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

HIDDEN_METADATA: dict[str, str] = {
    "managedFields": "server-side apply's ownership records: pages of noise above the object",
}
"""What the live manifest leaves out by default, as Argo CD's "hide managed fields" does."""


def parse(text: str) -> dict[str, Any] | None:
    """The object in a manifest field (``None`` for ``""``, or for what is not an object)."""
    if not text:
        return None
    try:
        obj = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    return obj if isinstance(obj, dict) else None


def to_yaml(obj: Mapping[str, Any] | None, *, sort_keys: bool = False) -> str:
    """YAML of an object (``""`` for none); sorted keys when two objects are to be lined up."""
    if obj is None:
        return ""
    return yaml.dump(
        dict(obj), Dumper=_Dumper, sort_keys=sort_keys, default_flow_style=False, width=1_000_000
    )


def readable(obj: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """The object without what ``HIDDEN_METADATA`` hides."""
    if obj is None:
        return None
    meta = obj.get("metadata")
    if not isinstance(meta, Mapping) or not any(k in meta for k in HIDDEN_METADATA):
        return dict(obj)
    return {**obj, "metadata": {k: v for k, v in meta.items() if k not in HIDDEN_METADATA}}


@dataclasses.dataclass(frozen=True)
class Manifests:
    """One resource's texts: live, desired, and the two sides of its diff (live on the left)."""

    live: str
    desired: str
    diff_live: str
    diff_desired: str
    modified: bool
    managed: bool


def of_managed(item: Mapping[str, Any]) -> Manifests:
    """The texts of a ``managed-resources`` item.

    The diff's sides are the normalised live state and the predicted live state, what the
    controller compares: server-written fields (``managedFields``, ``status``,
    ``resourceVersion``...) and ignored differences are already out of both.
    """
    live = parse(str(item.get("liveState") or ""))
    desired = parse(str(item.get("targetState") or ""))
    normalized = parse(str(item.get("normalizedLiveState") or ""))
    predicted = parse(str(item.get("predictedLiveState") or ""))
    if normalized is None and predicted is None:
        normalized, predicted = readable(live), desired
    return Manifests(
        live=to_yaml(readable(live)),
        desired=to_yaml(desired),
        diff_live=to_yaml(normalized, sort_keys=True),
        diff_desired=to_yaml(predicted, sort_keys=True),
        modified=bool(item.get("modified")),
        managed=True,
    )


def of_live(manifest: str) -> Manifests:
    """The texts of a live child (no desired state: nothing to diff)."""
    return Manifests(
        live=to_yaml(readable(parse(manifest))),
        desired="",
        diff_live="",
        diff_desired="",
        modified=False,
        managed=False,
    )


@dataclasses.dataclass(frozen=True)
class EventRow:
    """One Kubernetes Event as the panel lists it."""

    type: str
    reason: str
    message: str
    count: int
    first_seen: str
    last_seen: str
    source: str


def events(answer: Mapping[str, Any]) -> list[EventRow]:
    """The Events of an ``events`` answer, newest first."""
    rows = []
    for item in answer.get("items") or []:
        if not isinstance(item, Mapping):
            continue
        source = item.get("source")
        component = source.get("component") if isinstance(source, Mapping) else ""
        last = item.get("lastTimestamp") or item.get("eventTime") or ""
        rows.append(
            EventRow(
                type=str(item.get("type") or ""),
                reason=str(item.get("reason") or ""),
                message=str(item.get("message") or ""),
                count=int(item.get("count") or 1),
                first_seen=str(item.get("firstTimestamp") or last),
                last_seen=str(last),
                source=str(component or item.get("reportingComponent") or ""),
            )
        )
    rows.sort(key=lambda r: r.last_seen, reverse=True)
    return rows
