"""What a sync pass sees: the comparison's objects, or this process's fresher writes of them.

The watch cache lags behind the writes a pass just made; the core's step must never act on an
older state than the one written, so each object is the writer's response while it is newer.
"""

from __future__ import annotations

import dataclasses
import datetime
from typing import Any

from tether import ports
from tether.core import redact
from tether.core.sync import plan
from tether.core.sync.results import Results
from tether.model.operation import OperationState
from tether.model.resources import Manifest, ResourceKey
from tether.model.status import OperationPhase
from tether.services.compare import Comparer, Comparison
from tether.services.sync.writer import SyncWriter


@dataclasses.dataclass(frozen=True)
class Views:
    """Where a pass looks: the cache, the comparer's health checks, the writer's memory."""

    live: ports.LiveState
    comparer: Comparer
    writer: SyncWriter

    def namespace(self, name: str) -> Manifest | None:
        """The destination Namespace as this process last saw or wrote it."""
        key = ResourceKey("", "Namespace", "", name)
        return self.writer.freshest(key, self.live.manifest(key))


def first(
    views: Views,
    comparison: Comparison,
    results: Results,
    now: datetime.datetime,
    state: OperationState,
    destination: str,
) -> plan.Observed:
    """What the core's step observes at the start of a pass."""
    live: dict[ResourceKey, Manifest] = {}
    verdicts: dict[ResourceKey, Any] = {}
    out_of_sync: dict[ResourceKey, bool] = {}
    for resource in comparison.resources:
        obj = views.writer.freshest(resource.key, resource.live)
        if obj is not None:
            live[resource.key] = obj
            verdicts[resource.key] = views.comparer.health_of(obj)
        out_of_sync[resource.key] = resource.difference.modified or resource.live is None
    return plan.Observed(
        desired=comparison.desired,
        live=live,
        now=now,
        results=results,
        health=verdicts,
        out_of_sync=out_of_sync,
        server_kinds=views.live.served_kinds(),
        namespace_live=views.namespace(destination),
        desired_known=comparison.desired_known,
        unknown_because="" if comparison.desired_known else redact.text(comparison.failure),
        terminating=state.phase == OperationPhase.TERMINATING.value,
        shared={r.key: r.shared_with for r in comparison.resources if r.shared_with},
    )


def again(
    views: Views,
    observed: plan.Observed,
    comparison: Comparison,
    results: Results,
    wanted: plan.Request,
) -> plan.Observed:
    """``observed`` after this pass's writes: their responses and results."""
    live = dict(observed.live)
    verdicts = dict(observed.health)
    for resource in comparison.resources:
        obj = views.writer.freshest(resource.key, resource.live)
        if obj is None:
            live.pop(resource.key, None)
            verdicts.pop(resource.key, None)
        elif obj is not live.get(resource.key):
            live[resource.key] = obj
            verdicts[resource.key] = views.comparer.health_of(obj)
    return dataclasses.replace(
        observed,
        live=live,
        health=verdicts,
        results=results,
        namespace_live=views.namespace(wanted.destination_namespace),
    )
