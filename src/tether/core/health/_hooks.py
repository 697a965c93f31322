"""The hook answers health needs: is an object a sync hook, or skipped.

Both come from ``tether.core.sync.hooks``, which owns hook classification; health only asks.
"""

from __future__ import annotations

from tether.core.sync import hooks
from tether.model import resources

HOOK_FINALIZER = hooks.FINALIZER
"""Argo CD keeps a hook alive with this finalizer until its phase ends; such an object is not
"pending deletion" for health."""


def is_skipped(obj: resources.Manifest) -> bool:
    """Whether the object's only hook type is ``Skip`` (applied by nobody, counted by nobody)."""
    return hooks.classify(obj).role is hooks.Role.SKIPPED


def is_hook(obj: resources.Manifest) -> bool:
    """Whether the object carries hook annotations (typeless ones too: health skips both)."""
    return hooks.classify(obj).role in (hooks.Role.HOOK, hooks.Role.IGNORED)
