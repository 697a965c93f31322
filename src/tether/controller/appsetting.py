"""ApplicationSets in the controller's process: a task of its own, on the leader only.

Fed by the watch cache: a set's change queues it, a change to an app it owns queues it after a
short delay (a deleted or edited app is restored), a cluster Secret's change queues every set.
A pass's failure is logged and retried later; it never stops reconciliation.
"""

from __future__ import annotations

import asyncio
import logging

from tether import bootstrap
from tether.bootstrap import appsets
from tether.controller.queue import WorkQueue
from tether.core.cluster.cachepolicy import Change
from tether.model import application, applicationset
from tether.model.resources import GroupKind

log = logging.getLogger(__name__)

SECRET = GroupKind("", "Secret")
WORKERS = 2
"""Two sets at once: one slow Git server does not hold up every other set."""

APP_CHANGE_DELAY_S = 5.0
"""An owned app's changes (its status, mostly) are folded into one pass a few seconds later."""

FAILURE_RETRY_S = 180.0
"""After a pass that raised (the API unreachable), the set is tried again after this."""

Key = tuple[str, str]


async def run(rt: bootstrap.Runtime) -> None:
    """Reconcile ApplicationSets until cancelled (start it once the cache has synced)."""
    wired = appsets.Wired(rt)
    queue: WorkQueue[Key] = WorkQueue()

    def on_change(change: Change) -> None:
        key = change.key
        if key.group_kind == applicationset.GROUP_KIND:
            if key.namespace in rt.live_settings().app_namespaces:
                queue.add((key.namespace, key.name))
        elif key.group_kind == application.GROUP_KIND:
            manifest = rt.live.manifest(key)
            if manifest is None:  # gone, owners unknown: its namespace's sets look again
                for set_key in rt.live.keys_of(applicationset.GROUP_KIND):
                    if set_key.namespace == key.namespace:
                        queue.add((set_key.namespace, set_key.name), APP_CHANGE_DELAY_S)
                return
            for ref in (manifest.get("metadata") or {}).get("ownerReferences") or []:
                if ref.get("kind") == applicationset.KIND:
                    queue.add((key.namespace, str(ref.get("name"))), APP_CHANGE_DELAY_S)
        elif key.group_kind == SECRET and key.namespace == rt.settings.control_plane_namespace:
            for set_key in rt.live.keys_of(applicationset.GROUP_KIND):
                queue.add((set_key.namespace, set_key.name), APP_CHANGE_DELAY_S)

    async def worker() -> None:
        while (key := await queue.get()) is not None:
            try:
                delay = await wired.appsets.reconcile(*key)
            except Exception:  # one set's failure must not end the others'
                log.exception("ApplicationSet %s/%s: the pass failed", *key)
                delay = FAILURE_RETRY_S
            finally:
                queue.done(key)
            if delay is not None:
                queue.add(key, delay)

    unsubscribe = rt.live.subscribe(on_change)
    try:
        for key in rt.live.keys_of(applicationset.GROUP_KIND):
            if key.namespace in rt.live_settings().app_namespaces:
                queue.add((key.namespace, key.name))
        await asyncio.gather(*(worker() for _ in range(WORKERS)))
    except Exception:  # ApplicationSets stop; reconciling goes on
        log.exception("the ApplicationSet controller stopped")
    finally:
        queue.close()
        unsubscribe()
        await wired.aclose()
