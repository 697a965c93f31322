"""Argo CD's ConfigMaps wired into the live caches: what they watch, what counts as a change."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from tether.adapters.kube.cache import ClusterCache
from tether.core import health
from tether.core.cluster import cachepolicy
from tether.core.config.system import SystemConfig
from tether.core.diff import tracking
from tether.services.argoconfig import ArgoConfig

log = logging.getLogger(__name__)


def warn_tracking_change(in_force: tracking.Tracking, config: SystemConfig) -> None:
    """Say that a new tracking method waits for a restart (rather than act half-changed).

    The live cache indexes every object by the tracking it reads, and every comparison stamps
    the tracking it writes: switching both at once, for every app, is a restart.
    """
    if config.tracking != in_force:
        log.warning(
            "argocd-cm application.resourceTrackingMethod, application.instanceLabelKey or "
            "installationID changed: tether keeps tracking by %s (label key %s) until it is "
            "restarted",
            in_force.method.value,
            in_force.label_key,
        )


def follow_filters(cache: ClusterCache, config: ArgoConfig, server: str) -> Callable[[], None]:
    """Make ``cache`` watch what ``resource.exclusions``/``inclusions`` say, now and on change.

    Returns the function that stops following.
    """

    def refilter(current: SystemConfig) -> None:
        exclusions = (*cachepolicy.DEFAULT_EXCLUSIONS, *current.exclusions)
        cache.refilter(exclusions, current.inclusions, server=server)

    refilter(config.current)
    return config.subscribe(refilter)


def health_fingerprint(obj: Mapping[str, Any], config: SystemConfig) -> object:
    """What of an object's status matters: its health verdict. Other status churn is dropped.

    With the custom Lua checks in force: a status change only a script reads must not be
    dropped as a no-op.
    """
    verdict = health.assess(obj, overrides=config.health)
    return None if verdict is None else (verdict.status, verdict.message)
