"""A sharded replica's share of the Applications: which it owns, and what to do when that changes.

``core.sharding`` decides from the membership view and an app's pin; this module reads the pins
(a cluster Secret's ``shard``, an AppProject's :data:`PROJECT_SHARD_ANNOTATION`) from the cache,
and on each view change queues the apps this replica gained and forgets those it lost.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from tether import bootstrap, ports
from tether.controller.desired import AppKey
from tether.core.cluster import sharding
from tether.model import application, project
from tether.model.resources import ResourceKey

log = logging.getLogger(__name__)

PROJECT_SHARD_ANNOTATION = "tether.dev/controller-shard"
"""On an AppProject: the replica its apps go to (a number N names ``...-N``). tether's own:
Argo CD pins only whole clusters (the cluster Secret's ``shard``). The project's pin wins over
its cluster's: it is the narrower choice."""

FENCED_RETRY_S = 2.0
"""A reconcile whose write was fenced comes back after one renewal period, with no backoff: if
the app moved, the queue drops it; if this replica's Lease lapsed, it is renewed by then or its
apps are let go when the Lease expires."""


class Shards:
    """Decides, for the controller's queue and its write fence, which apps are this replica's."""

    def __init__(self, rt: bootstrap.Runtime) -> None:
        self._rt = rt
        self._membership: ports.Membership | None = None
        self._owned: set[AppKey] = set()
        self._unpinnable: set[tuple[AppKey, str]] = set()

    def join(self, identity: str) -> ports.Membership:
        """This replica's membership, its writes fenced to the apps it owns from now on."""
        self._membership = self._rt.sharding(identity, lambda ns, name: self.owns((ns, name)))
        return self._membership

    def owns(self, key: AppKey) -> bool:
        """Whether this replica reconciles ``key`` now."""
        if self._membership is None:
            return False
        current = self._membership.current
        if not current.active:
            return False
        pin = self.pin_of(key)
        if pin and sharding.pinned_member(pin, current.seen) is None:
            self._say_unpinnable(key, pin)
        return sharding.owns(sharding.app_id(*key), current, pin)

    def pin_of(self, key: AppKey) -> str:
        """The replica ``key`` is pinned to: its project's annotation, else its cluster's shard."""
        live = self._rt.live
        app = live.manifest(ResourceKey(application.GROUP, application.KIND, *key)) or {}
        spec = app.get("spec") or {}
        namespace = self._rt.settings.control_plane_namespace
        name = str(spec.get("project") or project.DEFAULT_PROJECT_NAME)
        owner = live.manifest(ResourceKey(project.GROUP_KIND.group, project.KIND, namespace, name))
        annotations = ((owner or {}).get("metadata") or {}).get("annotations") or {}
        if pin := str(annotations.get(PROJECT_SHARD_ANNOTATION) or "").strip():
            return pin
        destination = spec.get("destination") or {}
        registry = self._rt.destinations.registry()
        server = str(destination.get("server") or "").rstrip("/")
        entries = [registry.by_server(server)] if server else []
        if not server and (cluster := str(destination.get("name") or "")):
            entries = list(registry.by_name(cluster))
        return next((entry.shard for entry in entries if entry is not None and entry.shard), "")

    def rebalance(self, keys: Iterable[AppKey], gained: Callable[[AppKey], object]) -> list[AppKey]:
        """After a view change: call ``gained`` for each app now owned; returns those lost."""
        owned = {key for key in keys if self.owns(key)}
        lost = sorted(self._owned - owned)
        for key in sorted(owned - self._owned):
            gained(key)
        self._owned = owned
        log.info(
            "reconciling %d Applications of this shard (%d lost)",
            len(owned),
            len(lost),
            extra={"owned": len(owned), "lost": len(lost)},
        )
        return lost

    def _say_unpinnable(self, key: AppKey, pin: str) -> None:
        # Once per app and pin: a pin to a replica that is not live falls back to hashing.
        if (key, pin) in self._unpinnable:
            return
        self._unpinnable.add((key, pin))
        log.warning(
            "%s/%s is pinned to replica %r, which is not live: hashing it instead",
            *key,
            pin,
            extra={"app": f"{key[0]}/{key[1]}", "pin": pin},
        )
