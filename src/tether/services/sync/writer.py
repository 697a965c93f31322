"""Carry out a sync's actions against the cluster: apply, create, replace, prune, dry-run.

Also the writer's short memory: the object each write returned, which stands in for a watch
cache that has not caught up yet (``freshest``), so the next step never acts on an older state.
"""

from __future__ import annotations

import asyncio
import copy
import dataclasses
from collections.abc import Sequence
from typing import Any, Protocol

from tether import ports
from tether.core.diff import tracking
from tether.core.sync import actions as act, hooks, options as sync_options
from tether.core.sync.results import Results, record
from tether.model import resources
from tether.model.errors import NotFoundError, TetherError
from tether.model.resources import GroupKind, Manifest, ResourceKey
from tether.services.clientside import ClientSide

RECENT_WRITE_TTL_S = 30.0
"""How long a write's response stands in for a cache that has not caught up with it yet."""

WRITE_PARALLELISM = 20
"""Concurrent writes within one group of same-kind actions (Argo CD's kubectl parallelism)."""


class AppliedListener(Protocol):
    """Told about each real apply (the comparer keeps it as that object's dry run)."""

    def remember_applied(
        self, desired: Manifest, applied: Manifest, *, strict: bool, server_side: bool
    ) -> None:
        """Keep ``applied`` as what applying ``desired`` again would return (so validated)."""
        ...


class SyncWriter:
    """Performs sync actions for every operation of one process."""

    def __init__(
        self,
        cluster: ports.Cluster,
        live: ports.LiveState,
        applied: AppliedListener,
        client_side: ClientSide,
        *,
        field_manager: str,
    ) -> None:
        self._cluster = cluster
        self._live = live
        self._applied = applied
        self._client_side = client_side
        self._field_manager = field_manager
        self._recent: dict[ResourceKey, tuple[float, dict[str, Any] | None]] = {}
        """Per object: when this writer last wrote it, and what came back (``None``: deleted)."""

    def as_user(self, user: str) -> SyncWriter:
        """This writer making every write as ``user`` (a project's destination service account).

        It shares the memory of recent writes: they are the same objects'.
        """
        if not user:
            return self
        view = copy.copy(self)
        view._cluster = self._cluster.impersonating(user)
        view._client_side = self._client_side.as_user(user)
        return view

    async def perform(self, actions: Sequence[act.Action], results: Results) -> Results:
        """Carry out actions in order; consecutive actions on one kind run concurrently."""
        groups: list[list[act.Action]] = []
        for action in actions:
            if isinstance(action, act.Wait):
                continue
            if groups and _same_kind(groups[-1][0], action):
                groups[-1].append(action)
            else:
                groups.append([action])
        slots = asyncio.Semaphore(WRITE_PARALLELISM)

        async def run(action: act.Action) -> act.Outcome:
            async with slots:
                return await self._execute(action)

        for group in groups:
            outcomes = await asyncio.gather(*(run(a) for a in group))
            for action, outcome in zip(group, outcomes, strict=True):
                results = record(results, action, outcome)
        return results

    async def dry_run(self, check: act.DryRun) -> act.Outcome:
        """Validate one object with a dry run of the write the sync will make."""
        try:
            if check.replace:
                await self._replace(check.key, check.manifest, dry_run=True, strict=check.strict)
            elif not check.server_side:
                await self._client_side.apply(
                    check.manifest,
                    await self._read(check.key, check.manifest),
                    dry_run=True,
                    validation=sync_options.field_validation(check.strict),
                )
            else:
                await self._cluster.apply(
                    check.manifest,
                    field_manager=self._field_manager,
                    force=True,
                    dry_run=True,
                    validation=sync_options.field_validation(check.strict),
                )
        except NotFoundError as err:
            # The namespace may be created earlier in this very sync; Argo CD's client-side dry
            # run cannot see that either, so a missing namespace does not count as a failure.
            namespace = resources.namespace_of(check.manifest)
            missing = ResourceKey("", "Namespace", "", namespace)
            if namespace and self.freshest(missing, self._live.manifest(missing)) is None:
                return act.Outcome(True)
            return act.Outcome(False, str(err))
        except TetherError as err:
            return act.Outcome(False, str(err))
        return act.Outcome(True)

    def freshest(self, key: ResourceKey, cached: Manifest | None) -> Manifest | None:
        """The cached object, unless this writer wrote a newer one moments ago."""
        recent = self._recent.get(key)
        if recent is None:
            return cached
        written_at, obj = recent
        if asyncio.get_running_loop().time() - written_at > RECENT_WRITE_TTL_S:
            del self._recent[key]
            return cached
        if obj is None:  # deleted by us; the cache may still hold it
            return cached if cached is not None and resources.is_being_deleted(cached) else None
        if cached is not None and _resource_version(cached) >= _resource_version(obj):
            return cached
        return obj

    async def _execute(self, action: act.Action) -> act.Outcome:
        if isinstance(action, act.Apply | act.Create | act.Update):
            # A hook named at sync time (generateName) carries the tracking id it was stamped
            # with before it had a name; it is written naming itself, or it is never the app's.
            action = dataclasses.replace(action, manifest=tracking.with_own_name(action.manifest))
        try:
            if isinstance(action, act.Apply):
                return await self._apply(action)
            if isinstance(action, act.Create):
                return await self._create(action)
            if isinstance(action, act.Update):
                done = await self._cluster.update(
                    action.manifest,
                    field_manager=self._field_manager,
                    dry_run=action.dry_run,
                    validation=sync_options.field_validation(action.strict),
                )
                self._remember(action.key, done, action.dry_run)
                return act.Outcome(True, "replaced")
            if isinstance(action, act.Prune | act.DeleteHook):
                return await self._delete(action.key, action.propagation.value)
            if isinstance(action, act.RemoveHookFinalizer):
                return await self._remove_hook_finalizer(action.key)
        except TetherError as err:
            return act.Outcome(False, str(err))
        return act.Outcome(True)

    async def _apply(self, action: act.Apply) -> act.Outcome:
        if action.replace:
            done, how = await self._replace(
                action.key, action.manifest, dry_run=action.dry_run, strict=action.strict
            )
            self._remember(action.key, done, action.dry_run)
            return act.Outcome(True, how)
        try:
            applied = await self._write(action)
        except TetherError as err:
            if not action.force or "immutable" not in str(err) or action.dry_run:
                # A dry run reports the conflict: deleting to re-create is a real write.
                raise
            # Force: an immutable field changed, so delete and create again (kubectl --force).
            await self._cluster.delete(
                str(action.manifest.get("apiVersion", "")),
                action.key.kind,
                action.key.name,
                action.key.namespace,
            )
            self._recent[action.key] = (asyncio.get_running_loop().time(), None)
            applied = await self._write(action)
        self._remember(action.key, applied, action.dry_run)
        if not action.dry_run:
            self._applied.remember_applied(
                action.manifest, applied, strict=action.strict, server_side=action.server_side
            )
        return act.Outcome(True, "configured")

    async def _write(self, action: act.Apply) -> dict[str, Any]:
        """Apply server-side (after any migration), or client-side as ``kubectl apply``."""
        validation = sync_options.field_validation(action.strict)
        if not action.server_side:
            live = await self._read(action.key, action.manifest)
            return await self._client_side.apply(
                action.manifest, live, dry_run=action.dry_run, validation=validation
            )
        if action.migrate and not action.dry_run:
            live = self.freshest(action.key, self._live.manifest(action.key))
            if live is None and self._live.exists(action.key):
                live = await self._read(action.key, action.manifest)  # cached slim: untracked
            if live is not None:
                await self._client_side.migrate(live, action.migrate)
        return await self._cluster.apply(
            action.manifest,
            field_manager=self._field_manager,
            force=True,
            dry_run=action.dry_run,
            validation=validation,
        )

    async def _read(self, key: ResourceKey, manifest: Manifest) -> Manifest | None:
        """The object now: this writer's last write or the cache's copy, else read from the API.

        The cache keeps objects nobody tracks only slim, and may not have seen one created
        moments ago; a client-side write must patch what is there, never create it again.
        """
        found = self.freshest(key, self._live.manifest(key))
        if found is not None:
            return found
        if key in self._recent or not key.name:
            return None  # deleted by this writer moments ago, or not named yet: a create
        version = str(manifest.get("apiVersion", ""))
        return await self._cluster.get(version, key.kind, key.name, key.namespace)

    async def _replace(
        self, key: ResourceKey, manifest: Manifest, *, dry_run: bool, strict: bool
    ) -> tuple[dict[str, Any], str]:
        """``kubectl replace``: create the object, or update it over the live resourceVersion."""
        validation = sync_options.field_validation(strict)
        existing = self.freshest(key, self._live.manifest(key))
        if existing is None:
            made = await self._cluster.create(
                manifest, field_manager=self._field_manager, dry_run=dry_run, validation=validation
            )
            return made, "created"
        version = resources.resource_version(existing)
        metadata = {**resources.metadata_of(manifest), "resourceVersion": version}
        done = await self._cluster.update(
            {**manifest, "metadata": metadata},
            field_manager=self._field_manager,
            dry_run=dry_run,
            validation=validation,
        )
        return done, "replaced"

    async def _create(self, action: act.Apply | act.Create) -> act.Outcome:
        made = await self._cluster.create(
            action.manifest,
            field_manager=self._field_manager,
            dry_run=action.dry_run,
            validation=sync_options.field_validation(action.strict),
        )
        self._remember(action.key, made, action.dry_run)
        return act.Outcome(True, "created")

    async def _delete(self, key: ResourceKey, propagation: str) -> act.Outcome:
        version = self._api_version_of(key)
        if version is None:
            return act.Outcome(True, "already gone")
        await self._cluster.delete(
            version, key.kind, key.name, key.namespace, propagation=propagation
        )
        self._recent[key] = (asyncio.get_running_loop().time(), None)
        return act.Outcome(True, "pruned")

    async def _remove_hook_finalizer(self, key: ResourceKey) -> act.Outcome:
        version = self._api_version_of(key)
        if version is None:
            return act.Outcome(True)
        live = await self._cluster.get(version, key.kind, key.name, key.namespace)
        if live is None:
            return act.Outcome(True)
        finalizers = resources.metadata_of(live).get("finalizers") or []
        kept = [f for f in finalizers if f != hooks.FINALIZER]
        await self._cluster.patch(
            version,
            key.kind,
            key.name,
            key.namespace,
            patch={"metadata": {"finalizers": kept or None}},
        )
        return act.Outcome(True)

    def _api_version_of(self, key: ResourceKey) -> str | None:
        recent = self._recent.get(key)
        if recent and recent[1] is not None:
            return str(recent[1].get("apiVersion", ""))
        live = self._live.manifest(key)
        if live is not None:
            return str(live.get("apiVersion", ""))
        return self._live.preferred_version(GroupKind(key.group, key.kind))

    def _remember(self, key: ResourceKey, obj: dict[str, Any], dry_run: bool) -> None:
        if not dry_run:
            self._recent[key] = (asyncio.get_running_loop().time(), obj)


def _same_kind(first: act.Action, action: act.Action) -> bool:
    """Whether two actions are of one type on one kind (a group that may run concurrently)."""
    if isinstance(first, act.Wait) or isinstance(action, act.Wait):
        return False
    return (type(first), first.key.kind) == (type(action), action.key.kind)


def _resource_version(obj: Manifest) -> int:
    return resources.version_number(resources.resource_version(obj))
