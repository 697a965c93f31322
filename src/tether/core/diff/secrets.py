"""Secret masking: Secret values never leave the core in a diff, a status or a cached object.

Argo CD's scheme: each distinct value becomes a run of ``+`` (8 for the first, 4 more for each
further one), so equal values keep equal masks and a change stays visible without its content.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from typing import Any

from tether.core.diff import normalize
from tether.model.resources import GroupKind, Manifest, MutableManifest, group_of, kind_of

SECRET = GroupKind("", "Secret")
FIRST_MASK_LENGTH = 8
MASK_STEP = 4
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
VALUE_FIELDS = ("data", "stringData")
"""Where a Secret keeps values; stringData may still be present on unnormalised objects."""


def is_secret(obj: Manifest | None) -> bool:
    """Whether ``obj`` is a core ``Secret``."""
    return obj is not None and GroupKind(group_of(obj), kind_of(obj)) == SECRET


class _Masker:
    """Assigns masks to values in the order it first meets them."""

    def __init__(self) -> None:
        self._masks: dict[str, str] = {}

    def mask(self, value: Any) -> str:
        token = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
        if token not in self._masks:
            self._masks[token] = "+" * (FIRST_MASK_LENGTH + MASK_STEP * len(self._masks))
        return self._masks[token]


def mask_pair(
    first: Manifest | None,
    second: Manifest | None,
    *,
    sensitive_annotations: Collection[str] = (),
) -> tuple[MutableManifest | None, MutableManifest | None]:
    """Mask the values of two versions of one Secret together (e.g. live and predicted).

    Non-Secrets come back as copies, with only ``sensitive_annotations`` masked.

    Args:
        first: one version, or ``None``.
        second: the other version, or ``None``.
        sensitive_annotations: annotation keys whose values are masked on any kind
            (argocd-cm ``resource.sensitive.mask.annotations``).

    Returns:
        Masked copies, in the same order.
    """
    masked = mask_all((first, second), sensitive_annotations=sensitive_annotations)
    return masked[0], masked[1]


def mask_all(
    versions: Sequence[Manifest | None], *, sensitive_annotations: Collection[str] = ()
) -> list[MutableManifest | None]:
    """Mask any number of versions of one object together (target, live, predicted ...).

    One masker for all of them, so a value equal in two versions gets the same mask in both and
    a changed value shows as a different run of ``+``. Returns masked copies, in order.
    """
    masker = _Masker()
    objects = [normalize.copy_manifest(obj) if obj is not None else None for obj in versions]
    present = [obj for obj in objects if obj is not None]
    if any(is_secret(obj) for obj in present):
        for field in VALUE_FIELDS:
            keys = sorted({k for obj in present for k in _values(obj, field)})
            for key in keys:
                for obj in present:
                    values = _values(obj, field)
                    if key in values:
                        values[key] = masker.mask(values[key])
        for obj in present:
            _mask_last_applied(obj, masker)
    for name in sorted(sensitive_annotations):
        for obj in present:
            annotations = _annotations(obj)
            if name in annotations:
                annotations[name] = masker.mask(annotations[name])
    return objects


def mask(obj: Manifest, *, sensitive_annotations: Collection[str] = ()) -> MutableManifest:
    """Mask one object on its own (for caches and statuses)."""
    masked, _ = mask_pair(obj, None, sensitive_annotations=sensitive_annotations)
    assert masked is not None
    return masked


def _values(obj: MutableManifest, field: str) -> dict[str, Any]:
    values = obj.get(field)
    return values if isinstance(values, dict) else {}


def _annotations(obj: MutableManifest) -> dict[str, Any]:
    metadata = obj.get("metadata")
    annotations = metadata.get("annotations") if isinstance(metadata, dict) else None
    return annotations if isinstance(annotations, dict) else {}


def _mask_last_applied(obj: MutableManifest, masker: _Masker) -> None:
    """The last-applied annotation holds a full copy of the Secret: mask it too, or replace it."""
    annotations = _annotations(obj)
    text = annotations.get(LAST_APPLIED)
    if text is None:
        return
    try:
        applied = json.loads(text)
    except (TypeError, ValueError):
        applied = None
    if not isinstance(applied, dict):
        annotations[LAST_APPLIED] = masker.mask(text)
        return
    for field in VALUE_FIELDS:
        values = _values(applied, field)
        for key in sorted(values):
            values[key] = masker.mask(values[key])
    annotations[LAST_APPLIED] = json.dumps(applied, sort_keys=True)
