"""The cluster cache's in-memory store: records, their indexes, and change notifications.

Synchronous and single-threaded (the event loop serialises calls); ``cache.py`` feeds it from
reflectors. Full manifests are kept as raw JSON bytes, and only where ``cachepolicy`` says so.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

import msgspec

from tether.adapters.kube.discovery import ApiResource
from tether.adapters.kube.reflector import OwnerRef, SlimObject
from tether.core.cluster import cachepolicy, reflection
from tether.core.diff import tracking
from tether.model.resources import GroupKind, Manifest, ResourceKey

HealthFingerprint = Callable[[Manifest], object]
"""Returns what health-relevant state an object is in (e.g. its health status and message)."""


class Record(msgspec.Struct, gc=False):
    """One cached object: always its identity and ownership, its manifest only when kept.

    ``gc=False``: records never form reference cycles, so the collector need not scan them
    (a full collection over 50k dicts took over 1 s in the brief's measurements).
    """

    key: ResourceKey
    api_version: str
    uid: str
    resource_version: str
    owners: tuple[OwnerRef, ...]
    deletion_timestamp: str
    app: str
    in_tree: bool
    raw: bytes | None = None
    fingerprint: cachepolicy.Fingerprint | None = None

    @property
    def owner_uids(self) -> tuple[str, ...]:
        """The UIDs of the owners."""
        return tuple(o.uid for o in self.owners if o.uid)

    def manifest(self) -> dict[str, Any] | None:
        """The full object, decoded now, or ``None`` when only the slim record is kept."""
        if self.raw is None:
            return None
        obj: dict[str, Any] = msgspec.json.decode(self.raw)
        # List items carry no apiVersion and kind; the record knows them.
        obj.setdefault("apiVersion", self.api_version)
        obj.setdefault("kind", self.key.kind)
        return obj


class Index:
    """Records by key, by UID, by owner UID, by tracking app and by type."""

    def __init__(
        self,
        notify: Callable[[cachepolicy.Change], None],
        *,
        tracking_config: tracking.Tracking | None = None,
        health: HealthFingerprint | None = None,
        ignored_paths: Sequence[str] = (),
    ) -> None:
        self._notify = notify
        self._tracking = tracking_config or tracking.Tracking()
        self._health = health
        self._ignored_paths = tuple(ignored_paths)
        self.records: dict[ResourceKey, Record] = {}
        self._by_uid: dict[str, ResourceKey] = {}
        self._children: dict[str, set[ResourceKey]] = {}
        self._by_app: dict[str, set[ResourceKey]] = {}
        self._by_type: dict[GroupKind, set[ResourceKey]] = {}

    # Queries.

    def get(self, key: ResourceKey) -> Record | None:
        """The record of one object."""
        return self.records.get(key)

    def by_uid(self, uid: str) -> Record | None:
        """The record of the object with a UID."""
        key = self._by_uid.get(uid)
        return self.records.get(key) if key else None

    def managed_by(self, app: str) -> list[Record]:
        """The root objects tracked by an app instance, sorted by key."""
        return sorted((self.records[k] for k in self._by_app.get(app, ())), key=lambda r: r.key)

    def children_of(self, uid: str) -> list[Record]:
        """The objects whose owner references name a UID, sorted by key."""
        return sorted((self.records[k] for k in self._children.get(uid, ())), key=lambda r: r.key)

    def keys_of(self, group_kind: GroupKind) -> set[ResourceKey]:
        """The cached keys of one type."""
        return set(self._by_type.get(group_kind, ()))

    def apps_of(self, record: Record) -> frozenset[str]:
        """The app whose tree holds the record: its own tracking, else its nearest tracked owner."""
        seen: set[str] = set()
        todo = [record]
        apps: set[str] = set()
        while todo:
            current = todo.pop()
            if current.app:
                apps.add(current.app)
                continue
            for uid in current.owner_uids:
                owner = self.by_uid(uid)
                if uid not in seen and owner is not None:
                    seen.add(uid)  # ownership cycles exist in broken clusters
                    todo.append(owner)
        return frozenset(apps)

    # Updates.

    def upsert(self, resource: ApiResource, obj: SlimObject, raw: bytes) -> None:
        """Apply an ADDED or MODIFIED object, notifying unless the update is a no-op."""
        record = self._record(resource, obj, raw)
        old = self.records.get(record.key)
        if old is not None:
            self._unindex(old)
        self._index(record)
        if not cachepolicy.reports_changes(record.key.group_kind, record.app):
            return  # a tree-only object (an EndpointSlice): trees read it when they are asked
        if old is not None and cachepolicy.is_noop_update(old.fingerprint, record.fingerprint):
            return
        apps = self.apps_of(record) | (self.apps_of(old) if old else frozenset())
        if old is not None and record.raw is None and not apps:
            return  # churn of an object in no app's tree: nobody shows it
        self._notify(cachepolicy.Change(apps, record.key, "MODIFIED" if old else "ADDED"))

    def remove(self, key: ResourceKey) -> None:
        """Apply a deletion, notifying the apps whose trees held the object."""
        old = self.records.get(key)
        if old is None:
            return
        apps = self.apps_of(old)
        self._unindex(old)
        if cachepolicy.reports_changes(key.group_kind, old.app):
            self._notify(cachepolicy.Change(apps, key, "DELETED"))

    def delete(self, resource: ApiResource, obj: SlimObject) -> None:
        """Apply a DELETED watch event."""
        self.remove(_key(resource, obj))

    def replace(self, resource: ApiResource, items: Iterable[tuple[SlimObject, bytes]]) -> None:
        """Make a type's objects exactly ``items`` (a list or re-list), reporting only changes."""
        listed = {_key(resource, obj): (obj, raw) for obj, raw in items}
        cached = {k: self.records[k].resource_version for k in self.keys_of(resource.group_kind)}
        plan = reflection.plan_replace(
            cached, {k: obj.metadata.resourceVersion for k, (obj, _) in listed.items()}
        )
        for key in plan.deleted:
            self.remove(key)
        for key in sorted(plan.added | plan.modified):
            obj, raw = listed[key]
            self.upsert(resource, obj, raw)

    def drop_type(self, group_kind: GroupKind) -> None:
        """Forget every object of a type (its API is gone or no longer watched)."""
        for key in sorted(self.keys_of(group_kind)):
            self.remove(key)

    def prune(self) -> int:
        """Drop manifests of objects that turned out to be in no tree; returns how many.

        While syncing, an object whose owner has not arrived yet is kept in case the owner is
        tracked; once everything is listed the question has an answer.
        """
        memo: dict[str, bool] = {}
        dropped = 0
        for key, record in list(self.records.items()):
            if record.raw is None or record.app or not record.owners:
                continue
            if record.key.group_kind in cachepolicy.ALWAYS_FULL or self._in_tree(record, memo):
                continue
            self.records[key] = msgspec.structs.replace(
                record, in_tree=False, raw=None, fingerprint=None
            )
            dropped += 1
        return dropped

    def _in_tree(self, record: Record, memo: dict[str, bool], depth: int = 0) -> bool:
        if record.app:
            return True
        if record.uid in memo:
            return memo[record.uid]
        memo[record.uid] = False  # cycle guard
        result = False
        for uid in record.owner_uids:
            owner = self.by_uid(uid)
            if owner is not None and depth < 32 and self._in_tree(owner, memo, depth + 1):
                result = True
                break
        memo[record.uid] = result
        return result

    def _record(self, resource: ApiResource, obj: SlimObject, raw: bytes) -> Record:
        meta = obj.metadata
        key = _key(resource, obj)
        # Argo CD: only roots (no owners) carry an app; descendants belong through their owners.
        app = "" if meta.ownerReferences else self._app(meta.labels, meta.annotations)
        in_tree = any(
            (owner := self.by_uid(ref.uid)) is None or owner.app or owner.in_tree
            for ref in meta.ownerReferences
        )
        keep = cachepolicy.keeps_full(key.group_kind, app, in_tree)
        fingerprint = None
        if keep and self._hashed(key.group_kind, app, in_tree, meta.annotations):
            full: dict[str, Any] = msgspec.json.decode(raw)
            full.setdefault("apiVersion", resource.api_version)
            full.setdefault("kind", resource.kind)
            fingerprint = cachepolicy.Fingerprint(
                cachepolicy.update_hash(
                    full, self._ignored_paths, include_status=self._health is None
                ),
                self._health(full) if self._health else None,
            )
        return Record(
            key=key,
            api_version=resource.api_version,
            uid=meta.uid,
            resource_version=meta.resourceVersion,
            owners=meta.ownerReferences,
            deletion_timestamp=meta.deletionTimestamp or "",
            app=app,
            in_tree=in_tree,
            raw=raw if keep else None,
            fingerprint=fingerprint,
        )

    def _app(self, labels: dict[str, str], annotations: dict[str, str]) -> str:
        if not labels and not annotations:
            return ""
        return tracking.app_name_of(
            {"metadata": {"labels": labels, "annotations": annotations}}, self._tracking
        )

    def _hashed(
        self, group_kind: GroupKind, app: str, in_tree: bool, annotations: dict[str, str]
    ) -> bool:
        # Argo CD hashes tracked objects, Applications and opted-in objects; with a health
        # fingerprint tether also hashes tree members, so their status churn is filtered too.
        if not cachepolicy.reports_changes(group_kind, app):
            return False  # never reported, so never compared with its previous version
        return (
            bool(app)
            or group_kind == cachepolicy.APPLICATION
            or annotations.get(cachepolicy.IGNORE_UPDATES_ANNOTATION) == "true"
            or (in_tree and self._health is not None)
        )

    def _index(self, record: Record) -> None:
        self.records[record.key] = record
        self._by_type.setdefault(record.key.group_kind, set()).add(record.key)
        if record.uid:
            self._by_uid[record.uid] = record.key
        for uid in record.owner_uids:
            self._children.setdefault(uid, set()).add(record.key)
        if record.app:
            self._by_app.setdefault(record.app, set()).add(record.key)

    def _unindex(self, record: Record) -> None:
        self.records.pop(record.key, None)
        _discard(self._by_type, record.key.group_kind, record.key)
        if record.uid and self._by_uid.get(record.uid) == record.key:
            del self._by_uid[record.uid]
        for uid in record.owner_uids:
            _discard(self._children, uid, record.key)
        if record.app:
            _discard(self._by_app, record.app, record.key)


def _key(resource: ApiResource, obj: SlimObject) -> ResourceKey:
    namespace = obj.metadata.namespace if resource.namespaced else ""
    return ResourceKey(resource.group, resource.kind, namespace, obj.metadata.name)


_K = TypeVar("_K")
_V = TypeVar("_V")


def _discard(index: dict[_K, set[_V]], key: _K, value: _V) -> None:
    values = index.get(key)
    if values is not None:
        values.discard(value)
        if not values:
            del index[key]
