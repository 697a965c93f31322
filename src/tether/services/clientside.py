"""Objects written client-side: ``kubectl apply``'s writes, and moving them to server-side apply.

``ServerSideApply=false`` writes as ``kubectl apply`` does (``core.sync.clientside``: a create
carrying the last-applied annotation, or a three-way patch), under tether's field manager, as
Argo CD uses its own (``argocd-controller``) for both. The migration merges the entries of
client-side appliers into tether's server-side apply entry before tether applies server-side
(``core.diff.migration``), so fields they set and Git no longer has are removed.
"""

from __future__ import annotations

import asyncio
import copy
import logging
from typing import Any

from tether import ports
from tether.core.diff import migration
from tether.core.sync import clientside, patchschema
from tether.model import resources
from tether.model.errors import ConflictError, InvalidInputError
from tether.model.resources import Manifest

log = logging.getLogger(__name__)

MIGRATION_ATTEMPTS = 5
"""Tries of the migration patch when the object keeps changing under it (client-go's
``retry.DefaultRetry``, which Argo CD uses)."""


class ClientSide:
    """Client-side writes and migrations for one process; caches each kind's patch schema."""

    def __init__(self, cluster: ports.Cluster, *, field_manager: str) -> None:
        self._cluster = cluster
        self._field_manager = field_manager
        self._schemas: dict[tuple[str, str], patchschema.PatchSchema | None] = {}
        self._loading = asyncio.Lock()

    def as_user(self, user: str) -> ClientSide:
        """These writes made as ``user`` (impersonated); the schema cache is shared."""
        view = copy.copy(self)
        view._cluster = self._cluster.impersonating(user)
        return view

    async def apply(
        self,
        desired: Manifest,
        live: Manifest | None,
        *,
        dry_run: bool = False,
        validation: ports.FieldValidation = "",
    ) -> dict[str, Any]:
        """``kubectl apply`` of ``desired`` over ``live``; returns what the server stored.

        Raises:
            InvalidInputError: a merged list holds an item without its merge key.
            TetherError: the API server refused the write.
        """
        if live is None:
            return await self._cluster.create(
                clientside.for_create(desired),
                field_manager=self._field_manager,
                dry_run=dry_run,
                validation=validation,
            )
        api_version = str(desired.get("apiVersion", ""))
        schema = await self.schema(api_version, resources.kind_of(desired))
        try:
            body = clientside.patch(desired, live, schema)
        except clientside.PatchError as err:
            raise InvalidInputError(
                f"{resources.kind_of(desired)} {resources.name_of(desired)}: {err}"
            ) from err
        if not body:
            return dict(live)  # kubectl sends nothing either
        return await self._cluster.patch(
            api_version,
            resources.kind_of(desired),
            resources.name_of(desired),
            resources.namespace_of(desired),
            patch=body,
            patch_type="merge" if schema is None else "strategic",
            field_manager=self._field_manager,
            dry_run=dry_run,
            validation=validation,
        )

    async def schema(self, api_version: str, kind: str) -> patchschema.PatchSchema | None:
        """The kind's strategic merge patch schema; ``None`` for a JSON merge patch."""
        key = (api_version, kind)
        if key not in self._schemas:
            async with self._loading:  # one download of a group version's document at a time
                if key not in self._schemas:
                    document = await self._cluster.openapi_v3(api_version)
                    found = patchschema.of_kind(document, api_version, kind) if document else None
                    self._schemas[key] = found
        return self._schemas[key]

    async def migrate(self, live: Manifest, named: str) -> bool:
        """Move client-side appliers' fields in ``live`` to tether's apply entry, if it has any.

        ``named`` is the manager migrated by name (``migration.client_side_managers``).

        ``live`` may be a cached copy: only when it shows such entries is the object read again,
        and the patch is refused if it changed meanwhile, then computed afresh. Returns whether
        a migration was written.

        Raises:
            TetherError: the object could not be read or patched.
        """
        if migration.patch(live, self._field_manager, named) is None:
            return False
        api_version = str(live.get("apiVersion", ""))
        kind, name = resources.kind_of(live), resources.name_of(live)
        namespace = resources.namespace_of(live)
        for attempt in range(MIGRATION_ATTEMPTS):
            fresh = await self._cluster.get(api_version, kind, name, namespace)
            body = migration.patch(fresh, self._field_manager, named) if fresh else None
            if body is None:
                return False
            try:
                await self._cluster.patch(
                    api_version, kind, name, namespace, patch=body, patch_type="json"
                )
            except ConflictError:
                if attempt + 1 == MIGRATION_ATTEMPTS:
                    raise
                continue
            log.info("migrated %s %s/%s from client-side apply", kind, namespace, name)
            return True
        return False
