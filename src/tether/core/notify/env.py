"""What trigger conditions and templates see: the app and its project, shaped as Argo CD's are.

Argo CD hands expressions its Go structs turned into maps, where some fields are always there,
empty or not; conditions such as ``app.status.health.status == 'Degraded'`` rely on it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

ALWAYS_PRESENT: dict[str, tuple[str, ...]] = {
    # object path -> fields that are maps even when empty (Go structs, not pointers)
    "metadata": (),
    "spec": (),
    "status": ("health", "sync", "summary"),
}
"""An Application's struct fields Argo CD's conversion always emits; pointers
(``status.operationState``) stay absent, so ``?.`` is still needed for them."""


def of(app: Mapping[str, Any], project: Mapping[str, Any] | None) -> dict[str, Any]:
    """The variables ``app`` and ``appProject``, the app's absent struct fields as ``{}``."""
    shaped = dict(app)
    for field, inner in ALWAYS_PRESENT.items():
        value = dict(shaped.get(field) or {})
        for name in inner:
            value[name] = value.get(name) or {}
        shaped[field] = value
    return {"app": shaped, "appProject": dict(project or {})}
