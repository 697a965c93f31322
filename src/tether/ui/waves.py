"""An operation's progress by sync wave: which waves are done, running, failed or still to come.

Argo CD's ``operationState.syncResult.resources`` records each task's phase and outcome but not
its wave. The wave is the one ``status.resources`` lists for the same object (``syncWave``, read
from its ``argocd.argoproj.io/sync-wave`` annotation when the app was compared), which is the
wave the sync plan ordered it by. A hook whose generated name is not listed counts in wave 0 of
its phase. The app's resources without a result yet are the tasks still to come while the
operation runs, and the ones it never ran once it failed or was terminated (of the selection, for
a partial sync; the out-of-sync ones, with ``ApplyOutOfSyncOnly``).
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterable, Sequence

from tether.core.sync import ordering
from tether.model.app_status import ResourceStatus
from tether.model.application import Application
from tether.model.operation import ResourceResult, SyncOperation
from tether.model.status import HookPhase, OperationPhase, ResultCode, SyncPhase, SyncStatus


class TaskState(enum.Enum):
    """Where one task of the operation is; the value is what the page says."""

    DONE = "done"
    RUNNING = "running"
    FAILED = "failed"
    PENDING = "pending"
    STOPPED = "stopped"
    """Under way when the operation ended (terminated, or failed elsewhere)."""
    NOT_RUN = "not run"
    """Still to come when the operation ended."""


STILL_RUNNING: frozenset[HookPhase] = frozenset({HookPhase.RUNNING, HookPhase.TERMINATING})
"""Hook phases of a task still under way: applied and waiting for health, or a hook running."""

FAILED_PHASES: frozenset[HookPhase] = frozenset({HookPhase.FAILED, HookPhase.ERROR})

OUT_OF_SYNC_ONLY = "ApplyOutOfSyncOnly=true"


@dataclasses.dataclass(frozen=True)
class Task:
    """One object in one wave, as the page lists it."""

    kind: str
    name: str
    state: TaskState
    message: str = ""


@dataclasses.dataclass(frozen=True)
class Wave:
    """One (phase, wave) step of the operation and its tasks."""

    phase: str
    wave: int
    tasks: tuple[Task, ...]

    def count(self, state: TaskState) -> int:
        """How many of its tasks are in ``state``."""
        return sum(1 for t in self.tasks if t.state is state)

    @property
    def done(self) -> int:
        """How many of its tasks are done."""
        return self.count(TaskState.DONE)

    @property
    def state(self) -> TaskState:
        """The wave as a whole: the worst task's state, or all tasks' one when they agree.

        Some tasks done and others to come is a wave under way, or one stopped short.
        """
        states = {t.state for t in self.tasks}
        for worst in (TaskState.FAILED, TaskState.STOPPED, TaskState.RUNNING):
            if worst in states:
                return worst
        if len(states) == 1:
            return states.pop()
        return TaskState.STOPPED if TaskState.NOT_RUN in states else TaskState.RUNNING

    @property
    def label(self) -> str:
        """``Wave 2``, or ``PreSync wave 0`` outside the Sync phase."""
        if self.phase == SyncPhase.SYNC.value:
            return f"Wave {self.wave}"
        return f"{self.phase} wave {self.wave}"


def progress(app: Application) -> list[Wave]:
    """The current or last operation's waves in the order they run; none before any sync."""
    status = app.status
    state = status.operation_state if status is not None else None
    if status is None or state is None:
        return []
    listed = {r.key: r for r in status.resources or ()}
    results = list(state.sync_result.resources or ()) if state.sync_result else []
    running = not state.completed
    ended_early = state.completed and state.phase != OperationPhase.SUCCEEDED.value
    steps: dict[tuple[SyncPhase, int], list[Task]] = {}
    for result in results:
        entry = listed.get(result.key)
        wave = entry.sync_wave if entry is not None else 0
        steps.setdefault((result.sync_phase, wave), []).append(_task(result, running, ended_early))
    if running or ended_early:
        left = TaskState.PENDING if running else TaskState.NOT_RUN
        started = {r.key for r in results if r.sync_phase is SyncPhase.SYNC}
        operation = state.operation.sync if state.operation is not None else None
        for entry in _planned(status.resources or (), operation):
            if entry.key not in started:
                task = Task(entry.key.kind, entry.key.name, left)
                steps.setdefault((SyncPhase.SYNC, entry.sync_wave), []).append(task)
    order = sorted(steps, key=lambda step: (ordering.PHASE_RANK[step[0]], step[1]))
    return [Wave(phase.value, wave, tuple(steps[(phase, wave)])) for phase, wave in order]


def _task(result: ResourceResult, running: bool, ended_early: bool) -> Task:
    failed = result.status is ResultCode.SYNC_FAILED or result.hook_phase in FAILED_PHASES
    under_way = result.hook_phase in STILL_RUNNING
    if failed:
        state = TaskState.FAILED
    elif result.hook_phase is None and result.status is None:
        # Planned, not started.
        state = TaskState.PENDING if running else TaskState.NOT_RUN
    elif under_way and running:
        state = TaskState.RUNNING
    elif under_way and ended_early:
        state = TaskState.STOPPED
    else:
        # Argo CD leaves applied resources "Running" in a successful operation's results.
        state = TaskState.DONE
    return Task(result.key.kind, result.key.name, state, result.message)


def _planned(
    resources: Iterable[ResourceStatus], operation: SyncOperation | None
) -> Sequence[ResourceStatus]:
    """The app's resources this operation applies: not hooks, not prunes, selected ones."""
    selected = operation.resources if operation is not None else None
    only_out_of_sync = OUT_OF_SYNC_ONLY in (operation.sync_options or ()) if operation else False
    return [
        r
        for r in resources
        if not r.hook
        and r.status is not None
        and not r.requires_pruning
        and (not selected or any(s.selects(r.key) for s in selected))
        and (not only_out_of_sync or r.status is SyncStatus.OUT_OF_SYNC)
    ]
