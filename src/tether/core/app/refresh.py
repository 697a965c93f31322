"""Whether an Application needs a refresh now, and how deep: Argo CD's comparison levels.

Level 0 rebuilds status from the cache, 1 compares with the last resolved revision, 2 resolves
the target revision (cache allowed), 3 forces resolution. The first matching rule wins.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import math

from tether.model import timestamps
from tether.model.application import Application
from tether.model.status import SyncStatus

REFRESH_ANNOTATION = "argocd.argoproj.io/refresh"
"""Set to ``normal`` or ``hard`` by a user, the CLI or a webhook; removed once honoured."""


class Level(enum.IntEnum):
    """How much a refresh redoes, cheapest first."""

    FROM_CACHE = 0
    """Rebuild status from cached live state: no Git, no render, no diff."""

    RECENT = 1
    """Compare against the revision already resolved: no Git resolution."""

    LATEST = 2
    """Resolve the target revision (the short resolution cache may answer)."""

    FORCE_RESOLVE = 3
    """Bypass the resolution cache: ls-remote for symbolic revisions."""


@dataclasses.dataclass(frozen=True)
class Refresh:
    """A refresh to perform: its level, whether caches are bypassed, and why."""

    level: Level
    reason: str
    hard: bool = False
    """Hard: re-render even for an unchanged commit (Argo CD's ``noCache``)."""


def decide(
    app: Application,
    *,
    now: datetime.datetime,
    resync_period: datetime.timedelta,
    hard_resync_period: datetime.timedelta | None = None,
    requested: Level | None = None,
) -> Refresh | None:
    """The refresh an Application needs now, or ``None`` when nothing is due."""
    requested_by_user = (app.metadata.annotations or {}).get(REFRESH_ANNOTATION, "")
    if requested_by_user in ("normal", "hard"):
        return Refresh(
            Level.FORCE_RESOLVE,
            f"{requested_by_user} refresh requested",
            hard=requested_by_user == "hard",
        )
    status = app.status
    compared = status.sync.compared_to if status and status.sync else None
    if compared is None or _sources_changed(app, compared.source, compared.sources):
        return Refresh(Level.FORCE_RESOLVE, "spec.source differs from the last comparison")
    reconciled = timestamps.parse(status.reconciled_at if status else None)
    if reconciled is None:
        return Refresh(Level.LATEST, "never reconciled")
    if hard_resync_period and reconciled + hard_resync_period < now:
        return Refresh(Level.LATEST, "hard resync period elapsed", hard=True)
    if resync_period and reconciled + resync_period < now:  # zero: no periodic refresh
        return Refresh(Level.LATEST, "resync period elapsed")
    if compared.destination != app.spec.destination:
        return Refresh(Level.LATEST, "spec.destination changed")
    if (compared.ignore_differences or []) != (app.spec.ignore_differences or []):
        return Refresh(Level.LATEST, "spec.ignoreDifferences changed")
    shown = status.sync.status if status and status.sync else None
    if app.namespace_metadata_changed and shown != SyncStatus.OUT_OF_SYNC.value:
        # Once a comparison has said OutOfSync, comparing again for this shows nothing new.
        return Refresh(Level.LATEST, "spec.syncPolicy.managedNamespaceMetadata changed")
    if requested is not None:
        return Refresh(requested, "a managed resource changed")
    return None


def _sources_changed(app: Application, source: object, sources: object) -> bool:
    if app.has_multiple_sources:
        return sources != app.spec.sources
    return source != app.spec.source


def resync_delay(
    period: datetime.timedelta,
    hard_period: datetime.timedelta | None,
    jitter: datetime.timedelta,
    draw: float,
) -> float:
    """Seconds until an app's next periodic refresh; ``draw`` is uniform in [0, 1).

    ``timeout.reconciliation`` 0 turns periodic refreshes off, but not the hard ones when set;
    with neither, never (``inf``).
    """
    seconds = period.total_seconds()
    if not seconds:
        seconds = hard_period.total_seconds() if hard_period else math.inf
    return seconds + draw * jitter.total_seconds()


def with_reconciled(app: Application, seen: datetime.datetime | None) -> Application:
    """``app`` as if its last no-change refresh, at ``seen``, had been written.

    It is not, on purpose: a resync that finds nothing new writes nothing.
    """
    if seen is None or app.status is None:
        return app
    stamp = timestamps.format_time(seen)
    if (app.status.reconciled_at or "") >= stamp:
        return app
    return app.model_copy(update={"status": app.status.model_copy(update={"reconciled_at": stamp})})
