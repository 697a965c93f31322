"""A reconcile that raised: its error as a condition on its app, written once per message."""

from __future__ import annotations

import datetime
import logging

from tether import bootstrap
from tether.controller.desired import AppKey
from tether.model import application
from tether.model.application import parse_application
from tether.model.errors import TetherError
from tether.model.resources import ResourceKey
from tether.services import appstatus

log = logging.getLogger(__name__)

RECONCILE_ERROR = "UnknownError"
"""The condition a reconcile that raised leaves on its app (Argo CD's type for the same)."""


async def report(
    rt: bootstrap.Runtime, key: AppKey, err: Exception, now: datetime.datetime
) -> None:
    """Put a failed reconcile on its app as an ``UnknownError`` condition, best effort.

    Written once per distinct message, so an app failing again the same way costs no write.
    """
    message = appstatus.bounded(f"reconcile failed: {type(err).__name__}: {err}")
    kind = application.GROUP_KIND
    obj = rt.live.manifest(ResourceKey(kind.group, kind.kind, *key))
    try:
        app = parse_application(obj) if obj is not None else None
    except TetherError:
        return  # the invalid spec has its condition already
    if app is None:
        return
    existing = (app.status.conditions or []) if app.status else []
    if any(c.type == RECONCILE_ERROR and c.message == message for c in existing):
        return
    try:
        await rt.apps.patch(*key, appstatus.condition_patch(app, RECONCILE_ERROR, message, now))
    except Exception as write_error:  # the API may be what failed; never let this escape
        log.info("could not record the failure of %s/%s: %s", *key, write_error)
