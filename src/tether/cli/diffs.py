"""Diffs the remote CLI shows: a server's ``managed-resources``, a local render against them.

Pure: items and manifests in, the report text and the number of differing resources out, in
the form ``tether app diff`` prints in core mode (one ``=====`` header per resource).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from tether.core.diff import diff
from tether.model.resources import ResourceKey

Manifest = Mapping[str, Any]


def _state(item: Mapping[str, Any], *fields: str) -> dict[str, Any] | None:
    """The first non-empty of the item's JSON-encoded state fields (Argo CD's ResourceDiff)."""
    for field in fields:
        text = item.get(field)
        if not text:
            continue
        try:
            value = json.loads(text) if isinstance(text, str) else text
        except ValueError:
            continue
        if isinstance(value, dict) and value:
            return value
    return None


def key_of(item: Mapping[str, Any]) -> ResourceKey:
    """The key of a ``managed-resources`` item."""
    return ResourceKey(
        str(item.get("group") or ""),
        str(item.get("kind") or ""),
        str(item.get("namespace") or ""),
        str(item.get("name") or ""),
    )


def title(key: ResourceKey) -> str:
    """The header of one resource's diff (as ``output.diff_report`` writes it)."""
    group_kind = f"{key.group}/{key.kind}" if key.group else key.kind
    where = f"{key.namespace}/{key.name}" if key.namespace else key.name
    return f"===== {group_kind} {where} ======"


def _section(key: ResourceKey, body: str, live: Any, desired: Any, what: str) -> str:
    body = body.rstrip("\n")
    if not body:
        body = "(missing from the cluster)" if live is None else f"(not in {what})"
        if live is not None and desired is not None:
            body = "(differs)"
    return f"{title(key)}\n{body}"


def _joined(parts: Sequence[str]) -> tuple[str, int]:
    return ("\n\n".join(parts) + "\n" if parts else ""), len(parts)


def server_report(items: Sequence[Mapping[str, Any]]) -> tuple[str, int]:
    """The diffs of the resources the server found differing (hooks left out)."""
    parts = []
    for item in items:
        if item.get("hook"):
            continue
        live = _state(item, "normalizedLiveState", "liveState")
        desired = _state(item, "predictedLiveState", "targetState")
        if not item.get("modified") and (live is None) == (desired is None):
            continue
        key = key_of(item)
        text = diff.unified_text(key, live, desired) if live != desired else ""
        parts.append(_section(key, text, live, desired, "Git"))
    return _joined(parts)


def local_report(
    desired: Sequence[Manifest], items: Sequence[Mapping[str, Any]]
) -> tuple[str, int]:
    """The diffs of a local render against the live objects the server reported.

    Only the fields the local manifests set are compared (a two-way diff, as with no dry run);
    a managed resource the render lacks counts as a difference.
    """
    live_by_key = {key_of(i): _state(i, "liveState") for i in items if not i.get("hook")}
    parts = []
    seen = set()
    for obj in desired:
        key = ResourceKey.of(obj)
        if not key.namespace:
            # A namespaced object rendered without a namespace goes to the destination's.
            key = next((k for k in live_by_key if _same_but_namespace(k, key)), key)
        seen.add(key)
        live = live_by_key.get(key)
        result = diff.compare(obj, live)
        if result.modified:
            parts.append(_section(key, result.text, live, obj, "the local directory"))
    for key, live in live_by_key.items():
        if key not in seen and live is not None:
            parts.append(_section(key, "", live, None, "the local directory"))
    return _joined(parts)


def _same_but_namespace(known: ResourceKey, rendered: ResourceKey) -> bool:
    return (known.group, known.kind, known.name) == (rendered.group, rendered.kind, rendered.name)
