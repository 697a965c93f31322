"""Which cluster's services reconcile an Application, and what an unreachable cluster leaves.

An app is compared, synced and deleted against its destination cluster's client and cache
(``services.destinations``). A cluster that cannot be reached puts a ComparisonError naming it
on its own apps only, and nothing is applied or pruned there until it answers again.
"""

from __future__ import annotations

import datetime
from typing import Any

from tether import ports
from tether.core.app import policy
from tether.model import project as project_model
from tether.model.application import Application
from tether.model.errors import ClusterError, TetherError
from tether.model.project import AppProject, parse_project
from tether.model.resources import ResourceKey
from tether.services import appstatus
from tether.services.destinations import (
    RETRY_AFTER as CONNECT_RETRY_AFTER,
    Destination,
    Destinations,
)

UNREACHABLE_CONDITION = "ComparisonError"
"""Argo CD's condition for a cluster it cannot compare with."""

RETRY_AFTER = CONNECT_RETRY_AFTER
"""Seconds until an app of an unreachable cluster is looked at again."""


async def destination_of(destinations: Destinations, app: Application) -> Destination:
    """The destination that reconciles ``app`` now.

    A deleting app needs its own cluster, never a stand-in: a destination that names no known
    cluster raises, and the worker keeps the finalizer and reports it. Otherwise such an app is
    compared by the local destination, which refuses it with an InvalidSpecError.

    Raises:
        ClusterError: the cluster cannot be reached.
        InvalidInputError: a deleting app's destination names no known cluster.
    """
    if app.is_being_deleted:
        return await destinations.connected(destinations.resolve(app))
    return await destinations.for_app(app)


def unreachable_patch(
    app: Application, err: ClusterError, now: datetime.datetime
) -> dict[str, Any]:
    """The condition saying the app's cluster cannot be reached; empty when already said."""
    message = str(err)
    existing = (app.status.conditions or []) if app.status else []
    if any(c.type == UNREACHABLE_CONDITION and c.message == message for c in existing):
        return {}
    return appstatus.condition_patch(app, UNREACHABLE_CONDITION, message, now)


def project_of(
    live: ports.LiveState, app: Application, control_plane_namespace: str
) -> AppProject | None:
    """The app's AppProject, read from the watch cache.

    Its namespace's, then the control plane's, then the built-in default; ``None`` when the one
    found cannot be read.
    """
    name = app.spec.project or "default"
    kind = project_model.GROUP_KIND
    for namespace in (app.namespace, control_plane_namespace):
        obj = live.manifest(ResourceKey(kind.group, kind.kind, namespace, name))
        if obj is not None:
            try:
                return parse_project(obj)
            except TetherError:
                return None
    return policy.project_or_default(name, None, control_plane_namespace)
