"""The dry runs comparisons diff against: the write a sync would make, as the server answers it.

A server-side apply, or for an object written client-side ``kubectl apply``'s patch. Results are
cached by the desired object's digest and the live resourceVersion, so an unchanged app costs no
request; a real apply's response stands in for the next dry run of the same object.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Mapping
from typing import Any

import cachetools

from tether import ports
from tether.core.diff import diff, migration, normalize
from tether.core.sync import clientside, options as sync_options
from tether.model.errors import TetherError
from tether.model.resources import Manifest, ResourceKey, metadata_of
from tether.services.clientside import ClientSide

log = logging.getLogger(__name__)

DRY_RUN_CACHE_SIZE = 50_000
"""Dry-run results kept: about one per managed object for a large installation."""

DRY_RUN_PARALLELISM = 16
"""Concurrent dry-run requests per comparison; the API server handles these cheaply."""


@dataclasses.dataclass(frozen=True)
class Prediction:
    """A dry-run result and its ``diff.digest``."""

    obj: dict[str, Any]
    digest: str


_Key = tuple[ResourceKey, str, str, bool, bool]
"""A dry run's memo key: the object, its digest, the live resourceVersion, strict validation,
server-side (else the client-side write's)."""


class DryRuns:
    """Dry runs for every comparison of one process, shared with the sync's writer."""

    def __init__(
        self,
        cluster: ports.Cluster,
        live: ports.LiveState,
        client_side: ClientSide,
        *,
        field_manager: str,
    ) -> None:
        self._cluster = cluster
        self._live = live
        self._client_side = client_side
        self._field_manager = field_manager
        self._cache: cachetools.LRUCache[_Key, Prediction] = cachetools.LRUCache(DRY_RUN_CACHE_SIZE)
        self._slots = asyncio.Semaphore(DRY_RUN_PARALLELISM)

    async def predict(
        self,
        key: ResourceKey,
        desired: Mapping[str, Any] | None,
        live: Mapping[str, Any] | None,
        desired_digest: str | None,
        *,
        strict: bool,
        server_side: bool,
    ) -> Prediction | None:
        """The dry-run result of the sync's write of ``desired`` over ``live``.

        ``server_side`` off makes it ``kubectl apply``'s client-side patch. ``strict`` validates
        fields as the sync will: a field the schema does not know fails the dry run, so the
        comparison falls back to the fields Git sets and shows the typo as OutOfSync instead of
        a Synced object with the field silently dropped.
        """
        if desired is None or live is None or desired_digest is None:
            return None
        if self._live.preferred_version(key.group_kind) is None:
            return None  # the kind is not served (yet): compare the fields Git sets
        live_version = str(metadata_of(live).get("resourceVersion", ""))
        cache_key = (key, desired_digest, live_version, strict, server_side)
        cached = self._cache.get(cache_key)
        if cached is not None:
            return cached
        if key.group == "" and key.kind == "Secret":
            desired = normalize.with_string_data_folded(desired)
        async with self._slots:
            validation = sync_options.field_validation(strict)
            try:
                if server_side:
                    predicted = await self._cluster.apply(
                        desired,
                        field_manager=self._field_manager,
                        force=True,
                        dry_run=True,
                        validation=validation,
                    )
                else:
                    predicted = await self._client_side.apply(
                        desired, live, dry_run=True, validation=validation
                    )
            except TetherError as err:
                # An invalid object shows as OutOfSync with the server's reason on sync; the
                # comparison itself stays usable.
                log.info("dry run of %s failed: %s", key, err)
                return None
        # Hashed once here, so the comparison memo keys on it without hashing it every resync.
        prediction = Prediction(predicted, diff.digest(predicted))
        self._cache[cache_key] = prediction
        return prediction

    def remember_applied(
        self,
        desired: Mapping[str, Any],
        applied: Mapping[str, Any],
        *,
        strict: bool,
        server_side: bool,
    ) -> None:
        """Keep a real apply's response as the dry run of the same object.

        Applying ``desired`` again onto the object the apply produced changes nothing, so a dry
        run would return exactly ``applied``: the comparison after a sync then needs no request.
        Keyed like ``predict`` (the object's digest, the resulting resourceVersion, the field
        validation and the kind of write), so a later change by anyone, a different desired
        object or a change of ``Validate`` or ``ServerSideApply`` misses and dry-runs as usual.
        """
        key = ResourceKey.of(desired)
        version = str(metadata_of(applied).get("resourceVersion", ""))
        if not version or (key.group == "" and key.kind == "Secret"):
            return  # Secrets are dry-run with stringData folded: not the object applied
        prediction = Prediction(dict(applied), diff.digest(applied))
        self._cache[(key, diff.digest(desired), version, strict, server_side)] = prediction


def written_client_side(
    options: sync_options.Effective, live: Manifest | None, named: str = ""
) -> bool:
    """Whether the sync writes the object client-side, or it is still managed client-side.

    An object client-side appliers still own (before the sync migrates it) is compared with
    what writing it client-side would do: its last-applied annotation says which fields Git
    dropped since, the fields the migration hands to the apply that then removes them.
    ``named`` is the manager migrated by name (``""``: kubectl's).
    """
    if not options.server_side_apply:
        return True
    pending = options.client_side_apply_migration and live is not None
    named = named or clientside.KUBECTL_MANAGER
    return pending and bool(migration.client_side_managers(live or {}, named))
