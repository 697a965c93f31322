"""The loop's index of dependents: which apps name each app in ``tether.dev/depends-on``.

A dependent's operation waits for its dependencies; when a dependency's Application changes
(its status turned Synced and Healthy), its dependents are looked at again at once instead of
at their next fixed recheck.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tether.core.app import dependencies
from tether.model.errors import InvalidInputError

AppKey = tuple[str, str]
"""(namespace, name) of an Application."""


class DependentsIndex:
    """Each app's dependencies as the cache last showed it, and the reverse: who depends on whom."""

    def __init__(self) -> None:
        self._dependents: dict[AppKey, set[AppKey]] = {}
        self._depends_on: dict[AppKey, tuple[AppKey, ...]] = {}

    def follow(self, key: AppKey, manifest: Mapping[str, Any] | None) -> tuple[AppKey, ...]:
        """Record what an app's annotation names now, and return the apps that depend on it.

        ``manifest``: the Application as the cache holds it (``None``: it is gone).
        """
        self._remember(key, _named(key, manifest))
        return tuple(self._dependents.get(key, ()))

    def _remember(self, key: AppKey, wanted: tuple[AppKey, ...]) -> None:
        before = self._depends_on.get(key, ())
        if wanted == before:
            return
        for gone in set(before) - set(wanted):
            dependents = self._dependents.get(gone)
            if dependents is not None:
                dependents.discard(key)
                if not dependents:
                    del self._dependents[gone]
        for new in wanted:
            self._dependents.setdefault(new, set()).add(key)
        if wanted:
            self._depends_on[key] = wanted
        else:
            self._depends_on.pop(key, None)


def _named(key: AppKey, manifest: Mapping[str, Any] | None) -> tuple[AppKey, ...]:
    metadata = (manifest or {}).get("metadata")
    annotations = metadata.get("annotations") if isinstance(metadata, Mapping) else None
    value = annotations.get(dependencies.ANNOTATION) if isinstance(annotations, Mapping) else None
    if not isinstance(value, str):
        return ()
    try:
        return dependencies.parse(value, namespace=key[0], app=key[1])
    except InvalidInputError:
        return ()  # its own operations report the bad annotation
