"""The loop's index of what each app's last good comparison wanted, and who else wants it.

Tracking alone misses some objects: CRDs carry none (Argo CD never tracks them), and an object
created by someone else is untracked until synced; their changes must still reach the apps
that want them, and an object two apps want is a conflict both should hear about.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from tether.core.diff import tracking
from tether.model.resources import ResourceKey
from tether.services.compare import Comparison

AppKey = tuple[str, str]
"""(namespace, name) of an Application."""


class DesiredIndex:
    """Which apps want each object, updated by difference on every good comparison."""

    def __init__(self) -> None:
        self._desired_by: dict[ResourceKey, set[AppKey]] = {}
        self._desires: dict[AppKey, frozenset[ResourceKey]] = {}

    def wanting(self, key: ResourceKey) -> Iterable[AppKey]:
        """The apps whose last good comparison wanted ``key``."""
        return tuple(self._desired_by.get(key, ()))

    def remember(self, app: AppKey, keys: frozenset[ResourceKey]) -> None:
        """Record what the app's Git wants now (``frozenset()`` forgets the app)."""
        before = self._desires.get(app, frozenset())
        if keys == before:
            return
        for gone in before - keys:
            apps = self._desired_by.get(gone)
            if apps is not None:
                apps.discard(app)
                if not apps:
                    del self._desired_by[gone]
        for new in keys - before:
            self._desired_by.setdefault(new, set()).add(app)
        if keys:
            self._desires[app] = keys
        else:
            self._desires.pop(app, None)

    def absorb(
        self, app: AppKey, comparison: Comparison, instance: str, control_namespace: str
    ) -> Comparison:
        """Remember what a good comparison wants; the comparison, warned of its co-claims."""
        self.remember(app, frozenset(r.key for r in comparison.resources if r.desired is not None))
        warnings = self.co_claims(app, comparison, instance, control_namespace)
        if not warnings:
            return comparison
        return dataclasses.replace(comparison, errors=(*comparison.errors, *warnings))

    def co_claims(
        self, app: AppKey, comparison: Comparison, instance: str, control_namespace: str
    ) -> list[tuple[str, str]]:
        """Warnings for objects ``app`` holds that other apps want too.

        The comparison sees a shared object only from the side whose live tracking names
        another app; this index shows the holder's side as well.
        """
        claims: dict[ResourceKey, str] = {}
        for resource in comparison.resources:
            if resource.desired is None or resource.shared_with:
                continue
            others = sorted(set(self._desired_by.get(resource.key, ())) - {app})
            if others:
                namespace, name = others[0]
                claims[resource.key] = tracking.app_instance(name, namespace, control_namespace)
        return tracking.shared_warnings(instance, claims) if claims else []
