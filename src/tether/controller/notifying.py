"""Notifications in the controller's process: fed by its watch cache, for the apps it owns.

A task of its own beside the reconcile workers (its queue, its workers): it reads what the cache
already holds and never waits on, or delays, reconciliation.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from tether import bootstrap
from tether.bootstrap import notifications
from tether.core.cluster.cachepolicy import Change
from tether.core.notify import config as notifyconfig
from tether.model import application
from tether.model.resources import GroupKind
from tether.services.notifications import AppKey, Counts

log = logging.getLogger(__name__)

SECRET = GroupKind("", "Secret")
WORKERS = 2
"""Two apps' messages at once: one slow receiver does not hold up every other app's."""


async def run(
    rt: bootstrap.Runtime,
    owns: Callable[[AppKey], bool],
    counts: Counts,
) -> None:
    """Send notifications until cancelled (start it once the cache has synced)."""
    wired = notifications.Notifications(rt, owns, counts=counts)
    notifier = wired.notifier
    reloads: set[asyncio.Task[None]] = set()
    namespace = rt.settings.control_plane_namespace

    def on_change(change: Change) -> None:
        key = change.key
        if key.group_kind == application.GROUP_KIND:
            if key.namespace in rt.live_settings().app_namespaces:
                notifier.offer((key.namespace, key.name))
        elif key.group_kind == SECRET and (key.namespace, key.name) == (
            namespace,
            notifyconfig.SECRET,
        ):
            task = asyncio.create_task(wired.reload_secret())
            reloads.add(task)
            task.add_done_callback(reloads.discard)

    unsubscribe = rt.live.subscribe(on_change)
    try:
        await wired.start()
        for key in rt.live.keys_of(application.GROUP_KIND):
            if key.namespace in rt.live_settings().app_namespaces:
                notifier.offer((key.namespace, key.name))
        await notifier.run(WORKERS)
    except Exception:  # notifications stop; reconciling goes on
        log.exception("notifications stopped")
    finally:
        unsubscribe()
        for task in reloads:
            task.cancel()
        await wired.aclose()
