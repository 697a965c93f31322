"""The API's reads of Argo CD's settings objects, with a short cache, and its locked writes.

``argocd-cm``, ``argocd-rbac-cm``, ``argocd-secret`` and AppProjects are read at most once per
``ttl`` seconds per object (every replica reads the same objects, so no second source of truth
is kept), requests finding an object stale together share one read, and what is decoded from an
object (text fields, a parsed AppProject) is decoded once per read; a write goes through
``update_secret``: read, change, write with the read's resourceVersion, retried on a conflict,
so two replicas changing one Secret never lose a write.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from tether import ports
from tether.model import application, project as project_model
from tether.model.errors import ConflictError, InvalidInputError, TetherError

T = TypeVar("T")

PART_OF_LABEL = {"app.kubernetes.io/part-of": "argocd"}
"""Argo CD's label on its settings Secrets, kept on the ones tether creates."""

FIELD_MANAGER = "tether-api"

WRITE_ATTEMPTS = 8
"""Optimistic writes retried on conflict; more would mean a storm of writers, not bad luck."""

Change = Callable[[dict[str, str]], Mapping[str, str | None] | None]
"""Given a Secret's text fields, the keys to set (``None`` deletes), or ``None`` for no write."""


_Key = tuple[str, str]
"""A cached object: ``(kind, name)``."""


class WriteConflictError(TetherError):
    """Another writer kept winning; the request can be tried again."""


class SettingsStore:
    """Reads and writes the control-plane namespace's settings objects."""

    def __init__(self, cluster: ports.Cluster, namespace: str, *, ttl: float = 1.0) -> None:
        self._cluster = cluster
        self.namespace = namespace
        self._ttl = ttl
        self._cache: dict[_Key, tuple[float, dict[str, Any] | None]] = {}
        self._reading: dict[_Key, asyncio.Future[dict[str, Any] | None]] = {}
        self._forgotten: dict[_Key, int] = {}
        # What was decoded from each cached object, kept while that object is the one read: a
        # list of 10,000 apps checks RBAC per app, and each check asks for its AppProject.
        self._decoded: dict[_Key, tuple[dict[str, Any] | None, Any]] = {}

    async def _read(self, api_version: str, kind: str, name: str) -> dict[str, Any] | None:
        key = (kind, name)
        cached = self._cache.get(key)
        if cached is not None and time.monotonic() - cached[0] < self._ttl:
            return cached[1]
        # Every request of a busy server (a hundred streams hearing one change) finds the object
        # stale at once: they wait for one read instead of each sending its own.
        reading = self._reading.get(key)
        if reading is None:
            reading = asyncio.ensure_future(
                self._fetch(key, api_version, self._forgotten.get(key, 0))
            )
            self._reading[key] = reading
            reading.add_done_callback(lambda done: self._finished(key, done))
        return await asyncio.shield(reading)  # a caller giving up leaves the read to the others

    async def _fetch(self, key: _Key, api_version: str, forgotten: int) -> dict[str, Any] | None:
        kind, name = key
        obj = await self._cluster.get(api_version, kind, name, self.namespace)
        if self._forgotten.get(key, 0) == forgotten:  # else a write ended it: never cached
            self._cache[key] = (time.monotonic(), obj)
        return obj

    def _finished(self, key: _Key, done: asyncio.Future[dict[str, Any] | None]) -> None:
        if self._reading.get(key) is done:
            del self._reading[key]
        if not done.cancelled():
            done.exception()  # retrieved: every waiter may have gone, and the next read retries

    def forget(self, kind: str, name: str) -> None:
        """Drop a cached object (after this process wrote it); a read under way is not kept."""
        key = (kind, name)
        self._cache.pop(key, None)
        self._reading.pop(key, None)
        self._forgotten[key] = self._forgotten.get(key, 0) + 1

    def _decode(self, key: _Key, obj: dict[str, Any] | None, decode: Callable[[Any], T]) -> T:
        """``decode(obj)``, computed once per object read."""
        found = self._decoded.get(key)
        if found is not None and found[0] is obj:
            known: T = found[1]
            return known
        value = decode(obj)
        self._decoded[key] = (obj, value)
        return value

    async def configmap(self, name: str) -> dict[str, str]:
        """A ConfigMap's ``data`` (empty when it does not exist)."""
        obj = await self._read("v1", "ConfigMap", name)
        return dict(self._decode(("ConfigMap", name), obj, _configmap_data))

    async def configmap_decoded(
        self, name: str, decoding: str, decode: Callable[[dict[str, str]], T]
    ) -> T:
        """``decode`` of a ConfigMap's ``data``, computed once per read (``decoding`` names it)."""
        obj = await self._read("v1", "ConfigMap", name)
        return self._decode(
            (f"ConfigMap:{decoding}", name), obj, lambda found: decode(_configmap_data(found))
        )

    async def secret(self, name: str) -> dict[str, str]:
        """A Secret's text fields (empty when it does not exist); binary values are skipped."""
        obj = await self._read("v1", "Secret", name)
        return dict(self._decode(("Secret", name), obj, _text_fields))

    async def project(self, name: str) -> project_model.AppProject | None:
        """An AppProject, or ``None`` when it is missing or invalid (shared: it is frozen)."""
        if not name:
            return None
        obj = await self._read(application.API_VERSION, project_model.KIND, name)
        return self._decode((project_model.KIND, name), obj, _project)

    async def update_secret(self, name: str, change: Change) -> dict[str, str]:
        """Apply ``change`` to a Secret (created when missing) under optimistic locking.

        Returns the text fields as written (or as found, when ``change`` wanted no write).
        """
        for _attempt in range(WRITE_ATTEMPTS):
            obj = await self._cluster.get("v1", "Secret", name, self.namespace)
            fields = _text_fields(obj)
            updates = change(dict(fields))
            if not updates:
                self.forget("Secret", name)  # what was just read is newer than the cache
                return fields
            data = dict((obj or {}).get("data") or {})
            for key, value in updates.items():
                if value is None:
                    data.pop(key, None)
                    fields.pop(key, None)
                else:
                    data[key] = base64.b64encode(value.encode()).decode()
                    fields[key] = value
            try:
                if obj is None:
                    await self._cluster.create(
                        self._new_secret(name, data),
                        field_manager=FIELD_MANAGER,
                    )
                else:
                    written = {k: v for k, v in obj.items() if k != "stringData"}
                    written["data"] = data
                    await self._cluster.update(written, field_manager=FIELD_MANAGER)
            except ConflictError:
                continue  # someone else wrote first: read their version and decide again
            self.forget("Secret", name)
            return fields
        raise WriteConflictError(f"Secret {self.namespace}/{name}: too many concurrent writers")

    def _new_secret(self, name: str, data: Mapping[str, str]) -> dict[str, Any]:
        """A Secret of the control-plane namespace, labelled as Argo CD labels its own."""
        return {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": name, "namespace": self.namespace, "labels": dict(PART_OF_LABEL)},
            "type": "Opaque",
            "data": dict(data),
        }

    async def create_secret_once(self, name: str, fields: Mapping[str, str]) -> dict[str, str]:
        """Create a Secret unless it exists; returns the fields of the one that exists now."""
        data = {k: base64.b64encode(v.encode()).decode() for k, v in fields.items()}
        try:
            await self._cluster.create(
                self._new_secret(name, data),
                field_manager=FIELD_MANAGER,
            )
        except ConflictError:
            return _text_fields(await self._cluster.get("v1", "Secret", name, self.namespace))
        return dict(fields)

    async def update_project(
        self, name: str, change: Callable[[dict[str, Any]], bool]
    ) -> dict[str, Any] | None:
        """Change an AppProject in place (``change`` returns whether it changed anything).

        ``None`` when there is no such project.
        """
        for _attempt in range(WRITE_ATTEMPTS):
            obj = await self._cluster.get(
                application.API_VERSION, project_model.KIND, name, self.namespace
            )
            if obj is None:
                return None
            if not change(obj):
                return obj
            try:
                written = await self._cluster.update(obj, field_manager=FIELD_MANAGER)
            except ConflictError:
                continue
            self.forget(project_model.KIND, name)
            return written
        raise WriteConflictError(f"AppProject {self.namespace}/{name}: too many concurrent writers")


def _configmap_data(configmap: Mapping[str, Any] | None) -> dict[str, str]:
    data = (configmap or {}).get("data") or {}
    return {str(k): str(v) for k, v in data.items()}


def _project(obj: dict[str, Any] | None) -> project_model.AppProject | None:
    if obj is None:
        return None
    try:
        return project_model.parse_project(obj)
    except InvalidInputError:
        return None


def _text_fields(secret: Mapping[str, Any] | None) -> dict[str, str]:
    fields: dict[str, str] = {}
    for key, raw in ((secret or {}).get("data") or {}).items():
        try:
            fields[str(key)] = base64.b64decode(str(raw), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            continue  # not text (a key tether does not read); kept as is on writes
    for key, value in ((secret or {}).get("stringData") or {}).items():
        fields[str(key)] = str(value)
    return fields
