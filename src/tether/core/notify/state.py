"""The ``notified.notifications.argoproj.io`` annotation: what was sent, so it is sent once.

Per condition and destination the key is ``[<oncePer value>:]<trigger>:[<index>].<sha1(when)>:
<service>:<recipient>``, the value the Unix time it was sent. Without ``oncePer`` a trigger is
edge-triggered (its entry goes when the condition turns false); with it, entries stay, so it
fires once per value. Editing ``when`` changes the hash and arms it again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

ANNOTATION = "notified.notifications.argoproj.io"

MAX_ENTRIES = 100
"""Argo CD keeps at most this many entries, the oldest dropped first."""

FINISHED_PHASES = frozenset({"Succeeded", "Failed", "Error"})
"""An operation in these phases is over: its result is what triggers look at."""


def key(once_per: str, trigger: str, index: int, when: str, service: str, recipient: str) -> str:
    """The state key of one condition for one destination."""
    digest = hashlib.sha1(when.encode(), usedforsecurity=False).hexdigest()
    head = f"{once_per}:" if once_per else ""
    return f"{head}{trigger}:[{index}].{digest}:{service}:{recipient}"


def load(annotations: Mapping[str, str]) -> dict[str, int]:
    """The state an app carries; a damaged annotation counts as empty."""
    try:
        loaded = json.loads(annotations.get(ANNOTATION) or "{}")
    except ValueError:
        return {}
    if not isinstance(loaded, dict):
        return {}
    return {str(k): int(v) for k, v in loaded.items() if isinstance(v, int | float)}


def dump(state: Mapping[str, int]) -> str:
    """The annotation's value: the newest :data:`MAX_ENTRIES` entries, compact JSON."""
    kept = sorted(state.items(), key=lambda kv: (kv[1], kv[0]))[-MAX_ENTRIES:]
    return json.dumps(dict(sorted(kept)), separators=(",", ":"))


def should_send(state: Mapping[str, int], entry: str) -> bool:
    """Whether a true condition is sent now: not when its entry is there already."""
    return entry not in state


def on_false(state: dict[str, int], entry: str, once_per: str) -> None:
    """A false condition re-arms an edge-triggered entry; a ``oncePer`` one stays."""
    if not once_per:
        state.pop(entry, None)


def is_stale(status: Mapping[str, object]) -> bool:
    """Whether an app's status predates its finished operation (its sync status is old then).

    Argo CD skips such an app until a comparison after the operation is written.
    """
    operation = status.get("operationState")
    if not isinstance(operation, Mapping) or operation.get("phase") not in FINISHED_PHASES:
        return False
    finished = str(operation.get("finishedAt") or "")
    seen = [str(status.get(f) or "") for f in ("reconciledAt", "observedAt")]
    # RFC 3339 in UTC with "Z" compares as text; Kubernetes writes them so.
    return bool(finished) and all(not s or s < finished for s in seen)
