"""What a change does to one app: objects added, removed and changed between two renders.

Secret values are masked before any comparison leaves this module (both versions with one
masker, so a changed value shows as a different run of ``+`` and never as itself).
"""

from __future__ import annotations

import dataclasses
import difflib
import enum
from collections.abc import Mapping, Sequence
from typing import Any

from tether.core import redact
from tether.core.diff import diff, secrets
from tether.model.resources import ResourceKey


class Outcome(enum.StrEnum):
    """How one app fares in a preview."""

    CHANGED = "changed"
    UNCHANGED = "unchanged"
    """Rendered at both commits to the same objects."""
    SKIPPED = "skipped"
    """Reads no changed file and its Application is the same: not rendered."""
    FAILED = "failed"
    """Did not render at head."""


@dataclasses.dataclass(frozen=True)
class ObjectChange:
    """One changed object and its unified diff (YAML, Secret values masked)."""

    key: ResourceKey
    diff: str


@dataclasses.dataclass(frozen=True)
class AppPreview:
    """One app's result: its name (``namespace/name``) and what the change does to it."""

    app: str
    outcome: Outcome
    added: tuple[ResourceKey, ...] = ()
    removed: tuple[ResourceKey, ...] = ()
    changed: tuple[ObjectChange, ...] = ()
    error: str = ""
    """Why it failed to render at head (``FAILED``)."""
    notes: tuple[str, ...] = ()
    """Other facts worth a reviewer's eye (it failed at base, it is new, it is gone)."""
    added_diffs: tuple[ObjectChange, ...] = ()
    """The YAML of each added object, as a diff from nothing."""
    removed_diffs: tuple[ObjectChange, ...] = ()
    """The YAML of each removed object, as a diff to nothing."""
    cluster: str | None = None
    """With ``--cluster``: the head render against the live cluster, as ``tether app diff``
    shows it (``""``: no difference; ``None``: not compared)."""
    cluster_error: str = ""
    """With ``--cluster``: why the comparison with the cluster could not be made."""

    @property
    def counts(self) -> tuple[int, int, int]:
        """Objects added, removed and changed."""
        return len(self.added), len(self.removed), len(self.changed)


@dataclasses.dataclass(frozen=True)
class Preview:
    """A whole preview: the two commits, the changed files and every app's result."""

    base: str
    head: str
    changed_files: int
    apps: tuple[AppPreview, ...]

    @property
    def failed(self) -> bool:
        """Whether any app failed to render at head (the command's exit code says so)."""
        return any(app.outcome is Outcome.FAILED for app in self.apps)

    def of(self, outcome: Outcome) -> list[AppPreview]:
        """The apps with ``outcome``, in order."""
        return [app for app in self.apps if app.outcome is outcome]


def _index(objects: Sequence[Mapping[str, Any]]) -> dict[ResourceKey, Mapping[str, Any]]:
    # Two objects with one key: the last wins, as a sync would apply it last.
    return {ResourceKey.of(obj): obj for obj in objects}


def object_diff(
    key: ResourceKey, before: Mapping[str, Any] | None, after: Mapping[str, Any] | None
) -> str:
    """A unified diff of one object's YAML between the commits, Secret values masked."""
    masked_before, masked_after = secrets.mask_pair(before, after)
    return "".join(
        difflib.unified_diff(
            diff.to_yaml(masked_before).splitlines(keepends=True),
            diff.to_yaml(masked_after).splitlines(keepends=True),
            fromfile=f"base/{key}",
            tofile=f"head/{key}",
        )
    )


def compare(
    app: str,
    base: Sequence[Mapping[str, Any]],
    head: Sequence[Mapping[str, Any]],
    notes: Sequence[str] = (),
) -> AppPreview:
    """The app's objects at base and head, compared by group, kind, namespace and name."""
    before, after = _index(base), _index(head)
    added = sorted(set(after) - set(before), key=str)
    removed = sorted(set(before) - set(after), key=str)
    changed = [
        ObjectChange(key, object_diff(key, before[key], after[key]))
        for key in sorted(set(before) & set(after), key=str)
        if before[key] != after[key]
    ]
    # Equal objects may still differ only where masking hides it: such a Secret is changed.
    outcome = Outcome.CHANGED if added or removed or changed or notes else Outcome.UNCHANGED
    return AppPreview(
        app,
        outcome,
        tuple(added),
        tuple(removed),
        tuple(changed),
        notes=tuple(redact.text(note) for note in notes),
        added_diffs=tuple(ObjectChange(k, object_diff(k, None, after[k])) for k in added),
        removed_diffs=tuple(ObjectChange(k, object_diff(k, before[k], None)) for k in removed),
    )


def failed(app: str, error: str, notes: Sequence[str] = ()) -> AppPreview:
    """An app that did not render at head (a tool's message: scrubbed, it may quote a URL)."""
    notes = tuple(redact.text(note) for note in notes)
    return AppPreview(app, Outcome.FAILED, error=redact.text(error), notes=notes)


def skipped(app: str) -> AppPreview:
    """An app no changed file concerns."""
    return AppPreview(app, Outcome.SKIPPED)
