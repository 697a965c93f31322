"""The server-side dry runs a comparison reads: what applying Git's object would store.

The only requests a comparison makes. Each result is kept by the desired object's digest, the
live resourceVersion and the field validation, so an unchanged app costs no request at all; a
real apply's response stands in for the dry run of the same object afterwards.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Mapping
from typing import Any

import cachetools

from tether import ports
from tether.core.diff import diff, normalize
from tether.core.sync import options as sync_options
from tether.model.errors import TetherError
from tether.model.resources import ResourceKey, metadata_of

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


_DryRunKey = tuple[ResourceKey, str, str, bool]
"""A dry run's memo key: the object, its digest, the live resourceVersion, strict validation."""


class DryRuns:
    """Memoised server-side dry-run applies; one per comparer."""

    def __init__(
        self, cluster: ports.Cluster, live: ports.LiveState, *, field_manager: str
    ) -> None:
        self._cluster = cluster
        self._live = live
        self._field_manager = field_manager
        self._dry_runs: cachetools.LRUCache[_DryRunKey, Prediction] = cachetools.LRUCache(
            DRY_RUN_CACHE_SIZE
        )
        self._slots = asyncio.Semaphore(DRY_RUN_PARALLELISM)

    def remember_applied(
        self, desired: Mapping[str, Any], applied: Mapping[str, Any], *, strict: bool
    ) -> None:
        """Keep a real server-side apply's response as the dry run of the same object.

        Applying ``desired`` again onto the object the apply produced changes nothing, so a dry
        run would return exactly ``applied``: the comparison after a sync then needs no request.
        Keyed like ``predict`` (the object's digest, the resulting resourceVersion and the
        field validation), so a later change by anyone, a different desired object or a change
        of ``Validate`` misses and dry-runs as usual.
        """
        key = ResourceKey.of(desired)
        version = str(metadata_of(applied).get("resourceVersion", ""))
        if not version or (key.group == "" and key.kind == "Secret"):
            return  # Secrets are dry-run with stringData folded: not the object applied
        prediction = Prediction(dict(applied), diff.digest(applied))
        self._dry_runs[(key, diff.digest(desired), version, strict)] = prediction

    async def predict(
        self,
        key: ResourceKey,
        desired: Mapping[str, Any] | None,
        live: Mapping[str, Any] | None,
        desired_digest: str | None,
        *,
        strict: bool,
    ) -> Prediction | None:
        """The server-side dry-run result of ``desired``, cached by content and live version.

        ``strict`` validates fields as the sync will: a field the schema does not know fails
        the dry run, so the comparison falls back to the fields Git sets and shows the typo as
        OutOfSync instead of a Synced object with the field silently dropped.
        """
        if desired is None or live is None or desired_digest is None:
            return None
        if self._live.preferred_version(key.group_kind) is None:
            return None  # the kind is not served (yet): compare the fields Git sets
        live_version = str(metadata_of(live).get("resourceVersion", ""))
        cache_key = (key, desired_digest, live_version, strict)
        cached = self._dry_runs.get(cache_key)
        if cached is not None:
            return cached
        if key.group == "" and key.kind == "Secret":
            desired = normalize.with_string_data_folded(desired)
        async with self._slots:
            try:
                predicted = await self._cluster.apply(
                    desired,
                    field_manager=self._field_manager,
                    force=True,
                    dry_run=True,
                    validation=sync_options.field_validation(strict),
                )
            except TetherError as err:
                # An invalid object shows as OutOfSync with the server's reason on sync; the
                # comparison itself stays usable.
                log.info("dry run of %s failed: %s", key, err)
                return None
        # Hashed once here, so the comparison memo keys on it without hashing it every resync.
        prediction = Prediction(predicted, diff.digest(predicted))
        self._dry_runs[cache_key] = prediction
        return prediction
