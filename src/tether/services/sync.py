"""Run a sync operation: loop the core's state machine, perform its actions, persist progress.

One call of :meth:`SyncRunner.step` is one pass: compare at the pinned revision, ask the core
for the next step, carry out its actions, and write ``status.operationState``. All progress
lives in that status, so a controller killed between passes resumes where it stopped; server-side
apply is idempotent, so a pass replayed after a crash writes nothing new.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from tether import ports
from tether.core import health
from tether.core.sync import (
    actions as act,
    backoff,
    hooks,
    machine,
    options as sync_options,
    plan,
    results as sync_results,
)
from tether.model import timestamps
from tether.model.app_status import (
    ApplicationStatus,
    RevisionHistory,
    append_history,
    next_history_id,
)
from tether.model.application import Application
from tether.model.errors import NotFoundError, TetherError
from tether.model.operation import (
    Operation,
    OperationState,
    ResourceResult,
    SyncOperation,
    SyncOperationResult,
)
from tether.model.project import AppProject
from tether.model.resources import GroupKind, Manifest, ResourceKey, metadata_of, namespace_of
from tether.model.status import HookPhase, OperationPhase, ResultCode, SyncPhase
from tether.services.compare import Comparer, Comparison

log = logging.getLogger(__name__)

RECENT_WRITE_TTL_S = 30.0
"""How long a write's response stands in for a cache that has not caught up with it yet."""

MAX_WAIT_S = 30.0
"""Re-check a running operation at least this often, even without a cluster event."""

WRITE_PARALLELISM = 20
"""Concurrent writes within one group of same-kind actions (Argo CD's kubectl parallelism)."""


@dataclasses.dataclass(frozen=True)
class Pass:
    """What one pass of an operation did."""

    phase: OperationPhase
    message: str
    completed: bool
    requeue_after: float
    """Seconds until the operation should be looked at again (cluster events may come sooner)."""


class SyncRunner:
    """Drives sync operations of Applications; one per process."""

    def __init__(
        self,
        cluster: ports.Cluster,
        live: ports.LiveState,
        comparer: Comparer,
        *,
        field_manager: str,
        clock: Callable[[], datetime.datetime],
        sync_timeout: datetime.timedelta | None = None,
        status_field_manager: str = "",
    ) -> None:
        self._cluster = cluster
        self._live = live
        self._comparer = comparer
        self._field_manager = field_manager
        self._status_field_manager = status_field_manager or field_manager
        self._clock = clock
        self._sync_timeout = sync_timeout
        self._recent: dict[ResourceKey, tuple[float, dict[str, Any] | None]] = {}
        self._written: dict[tuple[str, str], tuple[int, OperationState, bool]] = {}
        self._not_before: dict[tuple[str, str], datetime.datetime] = {}
        """Per app: the resourceVersion, state and completion of our last operation write."""

    async def step(self, app: Application, project: AppProject) -> Pass:
        """Advance ``app``'s requested operation by one pass and persist the outcome."""
        operation = app.operation
        if operation is None or operation.sync is None:
            return Pass(OperationPhase.SUCCEEDED, "no operation", True, 0.0)
        now = self._clock()
        key = (app.namespace, app.name)
        not_before = self._not_before.get(key)
        if not_before is not None:
            if now < not_before:
                wait = (not_before - now).total_seconds()
                return Pass(OperationPhase.RUNNING, "waiting between waves", False, wait)
            del self._not_before[key]
        written = self._written.get(key)
        if written is not None:
            version, remembered, finished = written
            if _int(app.metadata.resource_version) < version:
                # The watch has not delivered our last write yet: trust what we wrote, never an
                # older state (acting on it would redo or restart work).
                if finished:
                    return Pass(
                        OperationPhase.RUNNING, "waiting for the cache to catch up", False, 0.2
                    )
                app = _with_state(app, remembered)
            else:
                del self._written[key]
        state = app.status.operation_state if app.status else None
        if state is None or _completed(state) or state.operation != operation:
            return await self._start(app, project, operation, now)
        if state.finished_at and state.phase == OperationPhase.RUNNING.value:
            return await self._maybe_restart_retry(app, project, operation, state, now)
        return await self._advance(app, project, operation, state, now)

    async def _start(
        self, app: Application, project: AppProject, operation: Operation, now: datetime.datetime
    ) -> Pass:
        target = _at_operation_revision(app, operation)
        # A sync resolves its revision afresh (as Argo CD does): a push moments ago counts.
        comparison = await self._comparer.compare(target, project, resolve=True)
        state = OperationState(
            operation=operation,
            phase=OperationPhase.RUNNING.value,
            message="starting sync",
            started_at=timestamps.format_time(now),
            retry_count=0,
            sync_result=_sync_result(app, comparison.revisions, ()),
        )
        # Written before anything is applied, as Argo CD does: a watcher (``tether app sync``,
        # a UI) sees the operation Running even when it finishes in this very pass.
        await self._save(app, state)
        app = _with_state(app, state)
        return await self._advance(app, project, operation, state, now, comparison=comparison)

    async def _maybe_restart_retry(
        self,
        app: Application,
        project: AppProject,
        operation: Operation,
        state: OperationState,
        now: datetime.datetime,
    ) -> Pass:
        """A failed attempt waiting for its retry: restart it once the backoff has passed."""
        strategy = _retry_strategy(app, operation)
        finished = timestamps.parse(state.finished_at) or now
        retries = state.retry_count or 0
        due = finished + backoff.delay(strategy, retries)
        if due > now:
            return Pass(
                OperationPhase.RUNNING, state.message or "", False, (due - now).total_seconds()
            )
        revisions = () if (operation.retry and operation.retry.refresh) else _pinned(state)
        restarted = state.model_copy(
            update={
                "finished_at": None,
                "sync_result": _sync_result(app, revisions, ()),
                "message": f"retrying (attempt #{retries})",
            }
        )
        await self._save(app, restarted)
        return await self._advance(app, project, operation, restarted, now)

    async def _advance(
        self,
        app: Application,
        project: AppProject,
        operation: Operation,
        state: OperationState,
        now: datetime.datetime,
        *,
        comparison: Comparison | None = None,
    ) -> Pass:
        sync = operation.sync or SyncOperation()
        target = _at_operation_revision(app, operation)
        pinned = _pinned(state)
        if comparison is None:
            comparison = await self._comparer.compare(target, project, revisions=pinned or None)
        options = sync_options.parse(
            list((app.spec.sync_policy.sync_options if app.spec.sync_policy else None) or [])
            + list(sync.sync_options or [])
        )
        if isinstance(options, sync_options.OptionError):
            return await self._finish(
                app,
                operation,
                state,
                OperationPhase.ERROR,
                f"invalid sync option: {options.message}",
                (),
                now,
            )
        request = plan.Request(
            revision=(pinned[0] if pinned else ""),
            started_at=timestamps.parse(state.started_at) or now,
            destination_namespace=app.spec.destination.namespace or "",
            prune=bool(sync.prune),
            dry_run=bool(sync.dry_run),
            resources=_selected(sync, comparison),
            options=options,
            strategy=plan.Strategy.APPLY if _apply_strategy(sync) else plan.Strategy.HOOK,
            force=_forced(sync),
            allow_empty=_allow_empty(app),
            timeout=self._sync_timeout,
        )
        results = (
            tuple(_to_core(r) for r in (state.sync_result.resources or []) if state.sync_result)
            if state.sync_result
            else ()
        )
        observed = self._observe(comparison, results, now, state, request.destination_namespace)
        if options.respect_ignore_differences:
            # Fields the app ignores keep their live values: a sync never reverts them.
            observed = dataclasses.replace(
                observed,
                desired=self._comparer.respecting_ignored_fields(
                    target, observed.desired, observed.live
                ),
            )
        step = machine.advance(request, observed)
        results = step.results
        failed_checks = []
        for check in step.checks:
            outcome = await self._dry_run(check)
            if not outcome.ok:
                failed_checks.append((check, outcome))
        for check, outcome in failed_checks:
            results = sync_results.record(results, check, outcome)
        if not failed_checks:
            results = await self._perform(step.actions, results)
        phase = step.phase
        if failed_checks and not phase.completed:
            # The dry-run failures are recorded: the next pass fails the operation with them.
            return await self._progress(app, state, results, "dry run failed", 0.0)
        wrote = any(not isinstance(a, act.Wait) for a in step.actions)
        only_writes = all(isinstance(a, act.Apply | act.Create | act.Update) for a in step.actions)
        if not phase.completed and wrote and only_writes and not step.delay:
            # Argo CD ends a sync right after applying its final wave (no hooks there); ask the
            # core at once with what the writes returned instead of a pass later, which would
            # cost a status write, a comparison and a dry run of what was just applied. Not
            # after deletions: only the cache shows when a pruned object is really gone.
            after = machine.advance(
                request, self._reobserve(observed, comparison, results, request)
            )
            if after.phase is OperationPhase.SUCCEEDED:
                results = await self._perform(after.actions, after.results)
                step, phase = after, after.phase
        if phase.completed:
            return await self._finish(
                app,
                operation,
                state,
                phase,
                step.message,
                results,
                now,
            )
        delay = step.delay.total_seconds()
        if delay > 0:
            # The pause between waves holds whatever wakes the app next (cluster events too).
            self._not_before[(app.namespace, app.name)] = now + step.delay
        return await self._progress(
            app, state, results, step.message, 0.0 if wrote and not delay else (delay or 1.0)
        )

    def _reobserve(
        self,
        observed: plan.Observed,
        comparison: Comparison,
        results: tuple[sync_results.ResourceResult, ...],
        request: plan.Request,
    ) -> plan.Observed:
        """``observed`` after this pass's writes: their responses and results."""
        live = dict(observed.live)
        verdicts = dict(observed.health)
        for resource in comparison.resources:
            obj = self._freshest(resource.key, resource.live)
            if obj is None:
                live.pop(resource.key, None)
                verdicts.pop(resource.key, None)
            elif obj is not live.get(resource.key):
                live[resource.key] = obj
                verdicts[resource.key] = health.assess(obj)
        namespace_key = ResourceKey("", "Namespace", "", request.destination_namespace)
        return dataclasses.replace(
            observed,
            live=live,
            health=verdicts,
            results=results,
            namespace_live=self._freshest(namespace_key, self._live.manifest(namespace_key)),
        )

    def _observe(
        self,
        comparison: Comparison,
        results: tuple[sync_results.ResourceResult, ...],
        now: datetime.datetime,
        state: OperationState,
        destination: str,
    ) -> plan.Observed:
        live: dict[ResourceKey, Manifest] = {}
        verdicts: dict[ResourceKey, Any] = {}
        out_of_sync: dict[ResourceKey, bool] = {}
        for resource in comparison.resources:
            obj = self._freshest(resource.key, resource.live)
            if obj is not None:
                live[resource.key] = obj
                verdicts[resource.key] = health.assess(obj)
            out_of_sync[resource.key] = resource.difference.modified or resource.live is None
        server_kinds = self._live.served_kinds()
        namespace_key = ResourceKey("", "Namespace", "", destination)
        return plan.Observed(
            desired=comparison.desired,
            live=live,
            now=now,
            results=results,
            health=verdicts,
            out_of_sync=out_of_sync,
            server_kinds=server_kinds,
            namespace_live=self._freshest(namespace_key, self._live.manifest(namespace_key)),
            desired_known=comparison.desired_known,
            terminating=state.phase == OperationPhase.TERMINATING.value,
        )

    def _freshest(self, key: ResourceKey, cached: Manifest | None) -> Manifest | None:
        """The cached object, unless this runner wrote a newer one moments ago."""
        recent = self._recent.get(key)
        if recent is None:
            return cached
        written_at, obj = recent
        loop_now = asyncio.get_running_loop().time()
        if loop_now - written_at > RECENT_WRITE_TTL_S:
            del self._recent[key]
            return cached
        if obj is None:  # deleted by us; the cache may still hold it
            return cached if cached is not None and _is_deleting(cached) else None
        if cached is not None and _rv(cached) >= _rv(obj):
            return cached
        return obj

    async def _perform(
        self, actions: Sequence[act.Action], results: tuple[sync_results.ResourceResult, ...]
    ) -> tuple[sync_results.ResourceResult, ...]:
        """Carry out actions in order; consecutive actions on one kind run concurrently."""
        groups: list[list[act.Action]] = []
        for action in actions:
            if isinstance(action, act.Wait):
                continue
            kind = (type(action), action.key.kind)
            if groups and (type(groups[-1][0]), groups[-1][0].key.kind) == kind:  # type: ignore[union-attr]
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
                results = sync_results.record(results, action, outcome)
        return results

    async def _execute(self, action: act.Action) -> act.Outcome:
        try:
            if isinstance(action, act.Apply):
                return await self._apply(action)
            if isinstance(action, act.Create):
                made = await self._cluster.create(
                    action.manifest, field_manager=self._field_manager, dry_run=action.dry_run
                )
                self._remember(action.key, made, action.dry_run)
                return act.Outcome(True, "created")
            if isinstance(action, act.Update):
                done = await self._cluster.update(
                    action.manifest, field_manager=self._field_manager, dry_run=action.dry_run
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
            existing = self._live.manifest(action.key)
            if existing is None:
                made = await self._cluster.create(
                    action.manifest, field_manager=self._field_manager, dry_run=action.dry_run
                )
                self._remember(action.key, made, action.dry_run)
                return act.Outcome(True, "created")
            body = {
                **action.manifest,
                "metadata": {**metadata_of(action.manifest), "resourceVersion": _rv_text(existing)},
            }
            done = await self._cluster.update(
                body, field_manager=self._field_manager, dry_run=action.dry_run
            )
            self._remember(action.key, done, action.dry_run)
            return act.Outcome(True, "replaced")
        try:
            applied = await self._cluster.apply(
                action.manifest,
                field_manager=self._field_manager,
                force=True,
                dry_run=action.dry_run,
            )
        except TetherError as err:
            if not action.force or "immutable" not in str(err):
                raise
            # Force: an immutable field changed, so delete and create again (kubectl --force).
            await self._cluster.delete(
                _api_version(action.manifest),
                action.key.kind,
                action.key.name,
                action.key.namespace,
            )
            applied = await self._cluster.apply(
                action.manifest,
                field_manager=self._field_manager,
                force=True,
                dry_run=action.dry_run,
            )
        self._remember(action.key, applied, action.dry_run)
        if not action.dry_run:
            self._comparer.remember_applied(action.manifest, applied)
        return act.Outcome(True, "configured")

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
        kept = [f for f in metadata_of(live).get("finalizers") or [] if f != hooks.FINALIZER]
        await self._cluster.patch(
            version,
            key.kind,
            key.name,
            key.namespace,
            patch={"metadata": {"finalizers": kept or None}},
        )
        return act.Outcome(True)

    async def _dry_run(self, check: act.DryRun) -> act.Outcome:
        try:
            await self._cluster.apply(
                check.manifest, field_manager=self._field_manager, force=True, dry_run=True
            )
        except NotFoundError as err:
            # The namespace may be created earlier in this very sync; Argo CD's client-side dry
            # run cannot see that either, so a missing namespace does not count as a failure.
            namespace = namespace_of(check.manifest)
            missing = ResourceKey("", "Namespace", "", namespace)
            if namespace and self._freshest(missing, self._live.manifest(missing)) is None:
                return act.Outcome(True)
            return act.Outcome(False, str(err))
        except TetherError as err:
            return act.Outcome(False, str(err))
        return act.Outcome(True)

    def _api_version_of(self, key: ResourceKey) -> str | None:
        recent = self._recent.get(key)
        if recent and recent[1] is not None:
            return str(recent[1].get("apiVersion", ""))
        live = self._live.manifest(key)
        if live is not None:
            return str(live.get("apiVersion", ""))
        version = self._live.preferred_version(GroupKind(key.group, key.kind))
        return version

    def _remember(self, key: ResourceKey, obj: dict[str, Any], dry_run: bool) -> None:
        if not dry_run:
            self._recent[key] = (asyncio.get_running_loop().time(), obj)

    async def _progress(
        self,
        app: Application,
        state: OperationState,
        results: tuple[sync_results.ResourceResult, ...],
        message: str,
        requeue_after: float,
    ) -> Pass:
        sync_result = (state.sync_result or SyncOperationResult()).model_copy(
            update={"resources": [_to_model(r) for r in results]}
        )
        updated = state.model_copy(update={"message": message, "sync_result": sync_result})
        if updated != state:
            await self._save(app, updated)
        return Pass(OperationPhase.RUNNING, message, False, min(requeue_after, MAX_WAIT_S))

    async def _finish(
        self,
        app: Application,
        operation: Operation,
        state: OperationState,
        phase: OperationPhase,
        message: str,
        results: Sequence[sync_results.ResourceResult],
        now: datetime.datetime,
    ) -> Pass:
        sync_result = (state.sync_result or SyncOperationResult()).model_copy(
            update={"resources": [_to_model(r) for r in results]}
        )
        retries = state.retry_count or 0
        strategy = _retry_strategy(app, operation)
        if phase in (OperationPhase.FAILED, OperationPhase.ERROR) and state.phase != (
            OperationPhase.TERMINATING.value
        ):
            upcoming = backoff.next_retry(strategy, retries, now)
            if upcoming is not None:
                retrying = state.model_copy(
                    update={
                        "phase": OperationPhase.RUNNING.value,
                        "message": f"{message}. Retrying attempt #{upcoming.attempt} at "
                        f"{timestamps.format_time(upcoming.at)}",
                        "finished_at": timestamps.format_time(now),
                        "retry_count": upcoming.attempt,
                        "sync_result": sync_result,
                    }
                )
                await self._save(app, retrying)
                return Pass(
                    OperationPhase.RUNNING,
                    retrying.message or "",
                    False,
                    (upcoming.at - now).total_seconds(),
                )
        final = state.model_copy(
            update={
                "phase": phase.value,
                "message": message,
                "finished_at": timestamps.format_time(now),
                "sync_result": sync_result,
            }
        )
        patch: dict[str, Any] = {
            "operation": None,
            "status": {"operationState": final.to_manifest()},
        }
        sync = operation.sync or SyncOperation()
        if phase is OperationPhase.SUCCEEDED and not sync.dry_run and not sync.is_partial:
            history = list((app.status.history if app.status else None) or [])
            entry = RevisionHistory(
                id=next_history_id(history),
                revision=(sync_result.revision if not app.has_multiple_sources else None),
                revisions=(list(sync_result.revisions or []) if app.has_multiple_sources else None),
                source=(app.spec.source if not app.has_multiple_sources else None),
                sources=(app.spec.sources if app.has_multiple_sources else None),
                deployed_at=timestamps.format_time(now),
                deploy_started_at=state.started_at,
                initiated_by=operation.initiated_by,
            )
            if sync.source is not None:
                entry = entry.model_copy(update={"source": sync.source})
            kept = append_history(history, entry, app.spec.revision_history_limit)
            patch["status"]["history"] = [h.to_manifest() for h in kept]
        await self._patch_app(app, patch, final, finished=True)
        return Pass(phase, message, True, 0.0)

    async def _save(self, app: Application, state: OperationState) -> None:
        await self._patch_app(app, {"status": {"operationState": state.to_manifest()}}, state)

    async def _patch_app(
        self,
        app: Application,
        patch: Mapping[str, Any],
        state: OperationState,
        *,
        finished: bool = False,
    ) -> None:
        stored = await self._cluster.patch(
            "argoproj.io/v1alpha1",
            "Application",
            app.name,
            app.namespace,
            patch=patch,
            field_manager=self._status_field_manager,
        )
        version = _int(str((stored.get("metadata") or {}).get("resourceVersion") or ""))
        self._written[(app.namespace, app.name)] = (version, state, finished)


def _completed(state: OperationState) -> bool:
    return state.phase in {p.value for p in OperationPhase if p.completed}


def _with_state(app: Application, state: OperationState) -> Application:
    status = app.status.model_copy(update={"operation_state": state}) if app.status else None
    if status is None:
        status = ApplicationStatus(operation_state=state)
    return app.model_copy(update={"status": status})


def _at_operation_revision(app: Application, operation: Operation) -> Application:
    """The app as the operation wants it synced: its revision or source override the spec's."""
    sync = operation.sync
    if sync is None:
        return app
    spec = app.spec
    if sync.source is not None:
        spec = spec.model_copy(update={"source": sync.source})
    if sync.sources:
        spec = spec.model_copy(update={"sources": sync.sources})
    if sync.revision and spec.source is not None and not spec.sources:
        spec = spec.model_copy(
            update={"source": spec.source.model_copy(update={"target_revision": sync.revision})}
        )
    if sync.revisions and spec.sources:
        sources = [
            s.model_copy(update={"target_revision": r})
            for s, r in zip(spec.sources, sync.revisions, strict=False)
        ]
        spec = spec.model_copy(update={"sources": sources})
    return app.model_copy(update={"spec": spec})


def _sync_result(
    app: Application, revisions: Sequence[str], resources: Sequence[ResourceResult]
) -> SyncOperationResult:
    if app.has_multiple_sources:
        return SyncOperationResult(
            revisions=list(revisions), sources=app.spec.sources, resources=list(resources)
        )
    return SyncOperationResult(
        revision=revisions[0] if revisions else None,
        source=app.spec.source,
        resources=list(resources),
    )


def _pinned(state: OperationState) -> tuple[str, ...]:
    result = state.sync_result
    if result is None:
        return ()
    if result.revisions:
        return tuple(result.revisions)
    return (result.revision,) if result.revision else ()


def _selected(sync: SyncOperation, comparison: Comparison) -> frozenset[ResourceKey] | None:
    """The keys a selective sync names; one without a namespace matches every namespace.

    That is Argo CD's rule (``argocd app sync --resource :ConfigMap:a`` writes no namespace).
    """
    if not sync.resources:
        return None
    known = [r.key for r in comparison.resources]
    chosen: set[ResourceKey] = set()
    for wanted in sync.resources:
        group, namespace = wanted.group or "", wanted.namespace or ""
        exact = ResourceKey(group, wanted.kind, namespace, wanted.name)
        chosen.add(exact)
        if not namespace:
            chosen.update(
                k for k in known if (k.group, k.kind, k.name) == (group, wanted.kind, wanted.name)
            )
    return frozenset(chosen)


def _apply_strategy(sync: SyncOperation) -> bool:
    return bool(sync.sync_strategy and sync.sync_strategy.apply is not None)


def _forced(sync: SyncOperation) -> bool:
    strategy = sync.sync_strategy
    if strategy is None:
        return False
    chosen = strategy.apply or strategy.hook
    return bool(chosen and chosen.force)


def _allow_empty(app: Application) -> bool:
    policy = app.spec.sync_policy
    return bool(policy and policy.automated and policy.automated.allow_empty)


def _retry_strategy(app: Application, operation: Operation) -> backoff.RetryStrategy:
    retry = operation.retry
    if retry is None and app.spec.sync_policy is not None:
        retry = app.spec.sync_policy.retry
    if retry is None:
        automated = bool(operation.initiated_by and operation.initiated_by.automated)
        # Argo CD gives automated syncs five retries when the policy names none.
        return backoff.RetryStrategy(limit=5 if automated else 0)
    parsed = backoff.parse_retry(retry.to_manifest())
    return parsed if isinstance(parsed, backoff.RetryStrategy) else backoff.RetryStrategy()


def _to_core(result: ResourceResult) -> sync_results.ResourceResult:
    return sync_results.ResourceResult(
        key=ResourceKey(
            result.group or "", result.kind or "", result.namespace or "", result.name or ""
        ),
        sync_phase=SyncPhase(result.sync_phase or SyncPhase.SYNC.value),
        status=ResultCode(result.status) if result.status else None,
        hook_phase=HookPhase(result.hook_phase) if result.hook_phase else None,
        message=result.message or "",
        hook_type=SyncPhase(result.hook_type) if result.hook_type else None,
        version=result.version or "",
    )


def _to_model(result: sync_results.ResourceResult) -> ResourceResult:
    return ResourceResult(
        group=result.key.group,
        version=result.version,
        kind=result.key.kind,
        namespace=result.key.namespace,
        name=result.key.name,
        status=result.status.value if result.status else None,
        message=result.message or None,
        hook_type=result.hook_type.value if result.hook_type else None,
        hook_phase=result.hook_phase.value if result.hook_phase else None,
        sync_phase=result.sync_phase.value,
    )


def _int(text: str | None) -> int:
    try:
        return int(text or 0)
    except ValueError:
        return 0


def _rv_text(obj: Manifest) -> str:
    return str(metadata_of(obj).get("resourceVersion", ""))


def _rv(obj: Manifest) -> int:
    return _int(_rv_text(obj))


def _is_deleting(obj: Manifest) -> bool:
    return bool(metadata_of(obj).get("deletionTimestamp"))


def _api_version(obj: Manifest) -> str:
    return str(obj.get("apiVersion", ""))
