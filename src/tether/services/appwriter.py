"""Every write tether makes to an Application object: status, operation, annotations, finalizers.

One writer per field manager (the controller's, or a CLI user's), so each write is attributed the
same way; the optimistic locks live here too, where a user's request may race the controller. It
remembers the resourceVersion of its last write of each app, so the controller can tell a cached
read that predates its own write (the watch event is still on its way) from the app as it is.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from tether import ports
from tether.model.application import API_VERSION, KIND, Application, parse_application
from tether.model.errors import ConflictError, TetherError
from tether.model.resources import resource_version, version_number

CONFLICT_RETRIES = 5
"""Re-reads after a 409 in ``update``: the controller writes status often, so a conflict is
ordinary for a user's request."""

Change = Callable[[dict[str, Any], Application], dict[str, Any] | None]
"""Given the stored object and its parsed form, the object to write (``None``: nothing to do)."""


class AppNotFoundError(TetherError):
    """The Application does not exist (in that namespace)."""


class AppWriter:
    """Writes Applications with one field manager."""

    def __init__(self, cluster: ports.Cluster, field_manager: str) -> None:
        self._cluster = cluster
        self._field_manager = field_manager
        self._written: dict[tuple[str, str], int] = {}
        """Per app: the resourceVersion our last write of it left, until a read catches up."""

    def predates_own_write(self, namespace: str, name: str, read: Mapping[str, Any]) -> bool:
        """Whether ``read`` (a cached copy of the app) is older than our last write of it.

        Acting on such a read would compare against the status we already replaced and write
        it again; the write's own watch event brings the newer copy.
        """
        written = self._written.get((namespace, name))
        if written is None:
            return False
        if version_number(resource_version(read)) < written:
            return True
        del self._written[(namespace, name)]  # caught up: nothing to remember any more
        return False

    def forget(self, namespace: str, name: str) -> None:
        """Drop what is remembered of an app (deleted, or reconciled by another replica)."""
        self._written.pop((namespace, name), None)

    def _remember(self, namespace: str, name: str, stored: dict[str, Any]) -> dict[str, Any]:
        version = version_number(resource_version(stored))
        if version:
            self._written[(namespace, name)] = version
        return stored

    async def patch(self, namespace: str, name: str, patch: Mapping[str, Any]) -> dict[str, Any]:
        """Merge-patch an Application (``status`` too: tether's CRD has no status subresource).

        Returns the Application as stored after the write.
        """
        stored = await self._cluster.patch(
            API_VERSION, KIND, name, namespace, patch=patch, field_manager=self._field_manager
        )
        return self._remember(namespace, name, stored)

    async def patch_if_unchanged(
        self, app: Application, patch: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Merge-patch ``app`` only if nobody wrote it since it was read.

        Raises:
            ConflictError: The Application changed since ``app`` was read (a user's sync, say).
        """
        meta = dict(patch.get("metadata") or {})
        meta["resourceVersion"] = app.metadata.resource_version
        return await self.patch(app.namespace, app.name, {**patch, "metadata": meta})

    async def remove_annotation(self, app: Application, key: str) -> None:
        """Remove an annotation, unless its value changed since ``app`` was read.

        Raises:
            ClusterError: The value changed (the JSON patch's test failed), or the write failed.
        """
        value = (app.metadata.annotations or {}).get(key)
        path = "/metadata/annotations/" + key.replace("~", "~0").replace("/", "~1")
        stored = await self._cluster.patch(
            API_VERSION,
            KIND,
            app.name,
            app.namespace,
            patch=[{"op": "test", "path": path, "value": value}, {"op": "remove", "path": path}],
            patch_type="json",
            field_manager=self._field_manager,
        )
        self._remember(app.namespace, app.name, stored)

    async def set_finalizers(self, app: Application, finalizers: Sequence[str]) -> dict[str, Any]:
        """Replace the finalizers ``app`` was read with (none left: the app may go).

        Conditional, as the list is replaced whole: written over a newer app, it could drop a
        finalizer someone added since, or bring back one removed.

        Raises:
            ConflictError: The Application changed since ``app`` was read.
        """
        return await self.patch_if_unchanged(
            app, {"metadata": {"finalizers": list(finalizers) or None}}
        )

    async def update(
        self, namespace: str, name: str, change: Change
    ) -> tuple[dict[str, Any], Application]:
        """Read, change and write back under the read's resourceVersion; again on a conflict.

        Returns the Application as stored (as read, when ``change`` wanted no write).

        Raises:
            AppNotFoundError: There is no such Application.
            ConflictError: Still conflicting after ``CONFLICT_RETRIES`` re-reads.
        """
        for attempt in range(CONFLICT_RETRIES + 1):
            obj = await self._cluster.get(API_VERSION, KIND, name, namespace)
            if obj is None:
                raise AppNotFoundError(f"application {name!r} not found in namespace {namespace!r}")
            app = parse_application(obj)
            updated = change(obj, app)
            if updated is None:
                return obj, app
            try:
                stored = await self._cluster.update(updated, field_manager=self._field_manager)
            except ConflictError:
                if attempt < CONFLICT_RETRIES:
                    continue
                raise
            self._remember(namespace, name, stored)
            return stored, parse_application(stored)
        raise AssertionError("unreachable")  # pragma: no cover
