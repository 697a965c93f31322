"""Run a sync operation: loop the core's state machine, perform its actions, persist progress.

One call of :meth:`SyncRunner.step` is one pass: compare at the pinned revision, ask the core
for the next step, have the writer carry out its actions, and write ``status.operationState``.
All progress lives in that status, so a controller killed between passes resumes where it
stopped; server-side apply is idempotent, so a pass replayed after a crash writes nothing new.

Writes are few, since each one is a request the API server must serve: an automated sync's
request carries its Running state (``starting.py``), so its first pass goes straight to work;
a sync that succeeds hands its caller the comparison after its writes (``settle``), whose
status its final write carries with the operation's end.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from tether import ports
from tether.core.app import compatibility, dependencies, policy, syncwindows
from tether.core.sync import actions as act, backoff, machine, request
from tether.core.sync.results import Results, record
from tether.model import timestamps
from tether.model.application import Application
from tether.model.errors import InvalidInputError
from tether.model.operation import Operation, OperationState, ResourceResult, SyncOperation
from tether.model.project import AppProject
from tether.model.status import OperationPhase
from tether.services.appwriter import AppWriter
from tether.services.compare import Comparer, Comparison
from tether.services.sync import observe, waiting
from tether.services.sync.oplog import OperationLog
from tether.services.sync.starting import STARTING, Settle, running_state
from tether.services.sync.writer import SyncWriter

MAX_WAIT_S = 30.0
"""Re-check a running operation at least this often, even without a cluster event."""

AppKey = tuple[str, str]
"""(namespace, name) of an Application."""


@dataclasses.dataclass(frozen=True)
class Pass:
    """What one pass of an operation did."""

    phase: OperationPhase
    message: str
    completed: bool
    requeue_after: float
    """Seconds until the operation should be looked at again (cluster events may come sooner)."""
    settled: Comparison | None = None
    """The comparison after the sync whose status the final write carried, if it carried one."""


class SyncRunner:
    """Drives sync operations of Applications; one per process."""

    def __init__(
        self,
        live: ports.LiveState,
        comparer: Comparer,
        writer: SyncWriter,
        apps: AppWriter,
        *,
        clock: Callable[[], datetime.datetime],
        sync_timeout: datetime.timedelta | Callable[[], datetime.timedelta | None] | None = None,
        depends: waiting.Dependencies | None = None,
    ) -> None:
        """``sync_timeout``: an operation's limit (``None``: none), or what says it now.

        ``depends`` reads the Applications an app depends on (``None``: nothing waits for them).
        """
        self._depends = depends
        self._live = live
        self._comparer = comparer
        self._writer = writer
        self._apps = apps
        self._clock = clock
        self._sync_timeout = sync_timeout
        self._not_before: dict[AppKey, datetime.datetime] = {}
        """Per app: the end of the pause between waves."""
        self._log = OperationLog()
        self._views = observe.Views(live, comparer, writer)

    async def step(
        self, app: Application, project: AppProject, *, settle: Settle | None = None
    ) -> Pass:
        """Advance ``app``'s requested operation by one pass and persist the outcome.

        ``settle``: what status a successful sync's final write carries (see ``Settle``).
        """
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
        stored = app.status.operation_state if app.status else None
        state = (
            stored
            if stored is not None and not stored.completed and stored.operation == operation
            else None
        )
        if state is None or state.sync_result is None:  # None: held by sync windows so far
            if state is not None and state.phase == OperationPhase.TERMINATING.value:
                # Terminated before it started: nothing ran, so nothing is to stop.
                message = "Operation terminated"
                return await self._finish(
                    app, operation, state, OperationPhase.FAILED, message, (), now
                )
            held = await self._held(app, project, operation, state, now)
            held = held or await self._waiting(app, operation, state, now)
            return held or await self._start(app, project, operation, now, settle)
        if state.finished_at and state.phase == OperationPhase.RUNNING.value:
            return await self._maybe_restart_retry(app, project, operation, state, now)
        held = await self._held(app, project, operation, state, now)
        begun = bool(state.sync_result.resources)
        if not begun and (state.message == STARTING or waiting.is_waiting_message(state.message)):
            # An automated sync's request carries its Running state: it has applied nothing yet.
            held = held or await self._waiting(app, operation, state, now)
            if held is None:
                self._log.started(app, operation, state)  # written with the request (automated)
        if held is not None:
            return held
        return await self._advance(app, project, operation, state, now, settle=settle)

    async def _held(
        self,
        app: Application,
        project: AppProject,
        operation: Operation,
        state: OperationState | None,
        now: datetime.datetime,
    ) -> Pass | None:
        """Hold the operation while the project's sync windows refuse it, as Argo CD does.

        It stays Running with a message saying which windows, and goes on when they change.
        Stopping an operation is never refused, and an operation under way goes on where its
        windows allow overrun. ``state`` is this operation's (``None`` before any was written).
        """
        if state is not None and state.phase == OperationPhase.TERMINATING.value:
            return None
        under_way = state if state is not None and state.sync_result is not None else None
        initiator = operation.initiated_by
        verdict = syncwindows.check(
            project,
            app,
            now=now,
            manual=not (initiator is not None and initiator.automated),
            started_at=timestamps.parse(under_way.started_at) if under_way else None,
        )
        if verdict.allowed:
            return None
        message = f"Sync operation blocked by sync window: {verdict.reason()}"
        if under_way is None:
            # Written though not started, so whoever watches sees why nothing happens.
            under_way = OperationState(
                operation=operation,
                phase=OperationPhase.RUNNING.value,
                started_at=timestamps.format_time(now),
            )
        held = under_way.model_copy(update={"message": message})
        unstamped = {"started_at": None}
        if state is None or held.model_copy(update=unstamped) != state.model_copy(update=unstamped):
            await self._save(app, held)
        until = verdict.changes_at
        wait = MAX_WAIT_S if until is None else (until - now).total_seconds()
        return Pass(OperationPhase.RUNNING, message, False, min(max(wait, 0.0), MAX_WAIT_S))

    async def _waiting(
        self,
        app: Application,
        operation: Operation,
        state: OperationState | None,
        now: datetime.datetime,
    ) -> Pass | None:
        """Hold an operation that has applied nothing while its dependencies are not ready.

        Like a sync window's hold: Running, a ``Waiting for ...`` message and a condition, looked
        at again every ``RECHECK_S`` (a dependency's change wakes it sooner). A dependency cycle
        or a bad annotation ends it with an Error instead: waiting could never end.
        """
        if self._depends is None or (
            state is not None and state.phase == OperationPhase.TERMINATING.value
        ):
            return None
        verdict = self._depends.check(app)
        if verdict.refused:
            status = waiting.conditions_patch(app, waiting.DEPENDENCY_ERROR, verdict.refused, now)
            if state is None:
                state = OperationState(
                    operation=operation, started_at=timestamps.format_time(now), retry_count=0
                )
            return await self._abort(app, state, verdict.refused, status=status)
        kind = dependencies.DEPENDENCY_WARNING if verdict.waiting else None
        status = dict(waiting.conditions_patch(app, kind, verdict.waiting, now) or {})
        if not verdict.waiting:
            if status:
                await self._apps.patch(app.namespace, app.name, {"status": status})
            return None
        held = waiting.held_state(operation, state, verdict.waiting, now)
        if state is None or held != state or status:
            status["operationState"] = held.to_manifest()
            await self._apps.patch(app.namespace, app.name, {"status": status})
        return Pass(OperationPhase.RUNNING, verdict.waiting, False, dependencies.RECHECK_S)

    async def _start(
        self,
        app: Application,
        project: AppProject,
        operation: Operation,
        now: datetime.datetime,
        settle: Settle | None,
    ) -> Pass:
        refused = compatibility.operation_problems(app)
        if refused:
            # Ended before anything is resolved or written: the request asks for something
            # tether does not do, and no retry of the same request can change that.
            state = OperationState(
                operation=operation, started_at=timestamps.format_time(now), retry_count=0
            )
            return await self._abort(app, state, "; ".join(refused))
        target = request.at_operation_revision(app, operation)
        # A sync resolves its revision afresh (as Argo CD does): a push moments ago counts.
        comparison = await self._comparer.compare(target, project, resolve=True)
        state = running_state(app, operation, comparison.revisions, now)
        # Written before anything is applied, as Argo CD does: a watcher (``tether app sync``,
        # a UI) sees the operation Running even when it finishes in this very pass.
        await self._save(app, state)
        self._log.started(app, operation, state)
        app = app.with_operation_state(state)
        return await self._advance(
            app, project, operation, state, now, comparison=comparison, settle=settle
        )

    async def _maybe_restart_retry(
        self,
        app: Application,
        project: AppProject,
        operation: Operation,
        state: OperationState,
        now: datetime.datetime,
    ) -> Pass:
        """A failed attempt waiting for its retry: restart it once the backoff has passed."""
        strategy = request.retry_strategy(app, operation)
        finished = timestamps.parse(state.finished_at) or now
        retries = state.retry_count or 0
        due = finished + backoff.delay(strategy, retries)
        if due > now:
            wait = (due - now).total_seconds()
            return Pass(OperationPhase.RUNNING, state.message or "", False, wait)
        held = await self._held(app, project, operation, state, now)
        if held is not None:
            return held
        pinned = state.pinned_revisions()
        comparison = None
        if strategy.refresh:
            # The newest commit of the spec's revision, as Argo CD drops the operation's pinned
            # one; pinned again here, as at the start: an empty revision would leave the old one
            # in place (a merge patch keeps a field it does not name), and the retry would go on
            # at the commit that failed.
            target = request.at_operation_revision(app, request.without_pinned_revisions(operation))
            comparison = await self._comparer.compare(target, project, resolve=True)
            pinned = comparison.revisions or pinned
        restarted = state.model_copy(
            update={
                "finished_at": None,
                "sync_result": request.result(app, pinned),
                "message": f"retrying (attempt #{retries})",
            }
        )
        await self._save(app, restarted)
        self._log.started(app, operation, restarted)
        return await self._advance(app, project, operation, restarted, now, comparison=comparison)

    async def _advance(
        self,
        app: Application,
        project: AppProject,
        operation: Operation,
        state: OperationState,
        now: datetime.datetime,
        *,
        comparison: Comparison | None = None,
        settle: Settle | None = None,
    ) -> Pass:
        sync = operation.sync or SyncOperation()
        target = request.at_operation_revision(app, operation)
        if comparison is None:
            pinned = state.pinned_revisions()
            comparison = await self._comparer.compare(target, project, revisions=pinned or None)
        options = request.options_of(app, sync)
        if isinstance(options, str):
            return await self._finish(app, operation, state, OperationPhase.ERROR, options, (), now)
        try:
            # The project's destination service account, when it names one: the sync can do
            # no more than that account may (Argo CD's impersonation).
            server = self._comparer.destination(app).server
            writer = self._writer.as_user(policy.service_account(app, project, server=server))
        except InvalidInputError as err:
            return await self._finish(
                app, operation, state, OperationPhase.ERROR, str(err), (), now
            )
        wanted = request.build(
            app,
            sync,
            state,
            options=options,
            known=(r.key for r in comparison.resources),
            now=now,
            timeout=self._sync_timeout() if callable(self._sync_timeout) else self._sync_timeout,
            instance=self._comparer.instance_of(app),
        )
        results = tuple(state.sync_result.resources or []) if state.sync_result else ()
        observed = observe.first(
            self._views, comparison, results, now, state, wanted.destination_namespace
        )
        # Prune=confirm waits for Argo CD's approval annotation, given after the start.
        observed = dataclasses.replace(observed, prune_approved_at=app.deletion_approved_at)
        # Fields the app ignores (with RespectIgnoreDifferences) and a rolled-back child's
        # automated sync keep their live values: a sync never reverts them.
        observed = dataclasses.replace(
            observed,
            desired=await self._comparer.respecting_ignored_fields(
                target,
                observed.desired,
                observed.live,
                every_rule=bool(options.respect_ignore_differences),
            ),
        )
        step = machine.advance(wanted, observed)
        results = step.results
        failed_checks = []
        for check in step.checks:
            outcome = await writer.dry_run(check)
            if not outcome.ok:
                failed_checks.append((check, outcome))
        for check, outcome in failed_checks:
            results = record(results, check, outcome)
        if not failed_checks:
            self._log.actions(app, step.actions)
            results = await writer.perform(step.actions, results)
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
                wanted, observe.again(self._views, observed, comparison, results, wanted)
            )
            if after.phase is OperationPhase.SUCCEEDED:
                results = await writer.perform(after.actions, after.results)
                step, phase = after, after.phase
        if phase is OperationPhase.SUCCEEDED and settle is not None:
            # The comparison after this pass's writes (their responses stand in for a cache
            # that has not seen them yet), so the final write carries the status it shows.
            shown = await self._comparer.compare(
                target,
                project,
                revisions=state.pinned_revisions() or None,
                fresher=self._writer.freshest,
            )
            if shown.desired_known:
                settled = (shown, await settle(app, shown))
                message = step.message
                return await self._finish(
                    app, operation, state, phase, message, results, now, settled=settled
                )
        if phase.completed:
            return await self._finish(app, operation, state, phase, step.message, results, now)
        delay = step.delay.total_seconds()
        if delay > 0:
            # The pause between waves holds whatever wakes the app next (cluster events too). It
            # counts from now, after the wave's writes, as Argo CD sleeps after a wave: counted
            # from the pass's start, slow writes under load shortened it below 2 s.
            self._not_before[(app.namespace, app.name)] = self._clock() + step.delay
        requeue = 0.0 if wrote and not delay else (delay or 1.0)
        return await self._progress(app, state, results, step.message, requeue)

    async def _progress(
        self,
        app: Application,
        state: OperationState,
        results: Results,
        message: str,
        requeue_after: float,
    ) -> Pass:
        persisted = request.with_results(state, results)
        if persisted is None:
            return await self._too_many(app, state, len(results))
        updated = persisted.model_copy(update={"message": message})
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
        results: Sequence[ResourceResult],
        now: datetime.datetime,
        *,
        settled: tuple[Comparison, Mapping[str, Any] | None] | None = None,
    ) -> Pass:
        with_results = request.with_results(state, results)
        if with_results is None:
            return await self._too_many(app, state, len(results))
        retries = state.retry_count or 0
        failed = phase in (OperationPhase.FAILED, OperationPhase.ERROR)
        if failed and state.phase != OperationPhase.TERMINATING.value:
            strategy = request.retry_strategy(app, operation)
            upcoming = backoff.next_retry(strategy, retries, now)
            if upcoming is not None:
                retrying = with_results.model_copy(
                    update={
                        "phase": OperationPhase.RUNNING.value,
                        "message": f"{message}. Retrying attempt #{upcoming.attempt} at "
                        f"{timestamps.format_time(upcoming.at)}",
                        "finished_at": timestamps.format_time(now),
                        "retry_count": upcoming.attempt,
                    }
                )
                await self._save(app, retrying)
                self._log.retrying(app, retrying.message or "", upcoming.attempt)
                wait = (upcoming.at - now).total_seconds()
                return Pass(OperationPhase.RUNNING, retrying.message or "", False, wait)
        final = with_results.model_copy(
            update={
                "phase": phase.value,
                "message": message,
                "finished_at": timestamps.format_time(now),
            }
        )
        patch: dict[str, Any] = {
            "operation": None,
            "status": {"operationState": final.to_manifest()},
        }
        if phase is OperationPhase.SUCCEEDED:
            history = request.history(app, operation, final, now)
            if history is not None:
                patch["status"]["history"] = [entry.to_manifest() for entry in history]
        after = None
        if settled is not None and settled[1] is not None:
            # One write for the operation's end and the status after it, not two.
            after = settled[0]
            patch["status"] = {**settled[1].get("status", {}), **patch["status"]}
        await self._apps.patch(app.namespace, app.name, patch)
        self._log.finished(app, final, phase.value, message, now)
        return Pass(phase, message, True, 0.0, settled=after)

    async def _too_many(self, app: Application, state: OperationState, count: int) -> Pass:
        """End an operation whose results cannot be persisted: Error, and no retry."""
        return await self._abort(app, state, request.TOO_MANY_RESULTS.format(count=count))

    async def _abort(
        self,
        app: Application,
        state: OperationState,
        message: str,
        *,
        status: Mapping[str, Any] | None = None,
    ) -> Pass:
        """End an operation that cannot go on: Error, and no retry (``status``: more of it)."""
        final = state.model_copy(
            update={
                "phase": OperationPhase.ERROR.value,
                "message": message,
                "finished_at": timestamps.format_time(self._clock()),
                "sync_result": request.result(app, state.pinned_revisions()),
            }
        )
        patch = {
            "operation": None,
            "status": {**(status or {}), "operationState": final.to_manifest()},
        }
        await self._apps.patch(app.namespace, app.name, patch)
        self._log.finished(app, final, OperationPhase.ERROR.value, message, self._clock())
        return Pass(OperationPhase.ERROR, message, True, 0.0)

    async def _save(self, app: Application, state: OperationState) -> None:
        patch = {"status": {"operationState": state.to_manifest()}}
        await self._apps.patch(app.namespace, app.name, patch)
