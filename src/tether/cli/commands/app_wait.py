"""Following an Application while the controller works: wait conditions, progress, outcome.

Shared by ``tether app sync``, ``wait``, ``rollback``, ``refresh`` and ``delete --wait``.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Coroutine, Mapping
from typing import Any, TypeVar

import click
from rich.console import Console

from tether import bootstrap
from tether.cli import output
from tether.cli.commands import app_common as common
from tether.model.errors import TetherError
from tether.model.status import OperationPhase
from tether.services import apps

T = TypeVar("T")

COMPLETED = frozenset(p.value for p in OperationPhase if p.completed)


class WaitTimeout(TetherError):
    """The Application did not reach the awaited state in time."""


@dataclasses.dataclass(frozen=True)
class Awaited:
    """What ``wait`` waits for."""

    sync: bool = False
    health: bool = False
    operation: bool = False
    deleted: bool = False

    def unmet(self, obj: Mapping[str, Any] | None) -> list[str]:
        """What does not hold yet (empty: done)."""
        if self.deleted:
            return [] if obj is None else ["the Application still exists"]
        if obj is None:
            raise TetherError("the Application was deleted while waiting")
        status = obj.get("status") or {}
        missing = []
        if self.operation and not operation_done(obj):
            phase = (status.get("operationState") or {}).get("phase") or "requested"
            missing.append(f"operation {phase}")
        sync = (status.get("sync") or {}).get("status") or "Unknown"
        if self.sync and sync != "Synced":
            missing.append(f"sync {sync}")
        health = (status.get("health") or {}).get("status") or "Unknown"
        if self.health and health != "Healthy":
            missing.append(f"health {health}")
        return missing


def operation_done(obj: Mapping[str, Any]) -> bool:
    """Whether no operation is requested or running."""
    state = (obj.get("status") or {}).get("operationState") or {}
    return obj.get("operation") is None and (not state or state.get("phase") in COMPLETED)


def succeeded(obj: Mapping[str, Any]) -> bool:
    """Whether the last operation succeeded."""
    state = (obj.get("status") or {}).get("operationState") or {}
    return state.get("phase") == OperationPhase.SUCCEEDED.value


async def follow_until(
    rt: bootstrap.Runtime,
    namespace: str,
    name: str,
    awaited: Awaited,
    timeout: float,
    show: Callable[[Mapping[str, Any]], None] | None = None,
) -> dict[str, Any] | None:
    """Watch the Application until ``awaited`` holds; the last version seen.

    Raises:
        WaitTimeout: ``timeout`` seconds (0: no limit) passed first; says what was missing.
    """
    last: dict[str, Any] | None = None
    missing: list[str] = ["nothing seen yet"]

    async def watch() -> None:
        nonlocal last, missing
        stream = apps.follow(rt.cluster, namespace, name)
        try:
            async for obj in stream:
                last = obj
                if obj is not None and show is not None:
                    show(obj)
                missing = awaited.unmet(obj)
                if not missing:
                    return
        finally:
            await stream.aclose()

    try:
        await asyncio.wait_for(watch(), timeout or None)
    except TimeoutError:
        raise WaitTimeout(
            f"timed out after {timeout:g}s waiting for {namespace}/{name}: " + ", ".join(missing)
        ) from None
    return last


def progress() -> output.Progress:
    """A live table on a terminal, plain lines otherwise."""
    return output.progress_for(Console(), click.echo, bootstrap.now)


async def follow_operation(
    rt: bootstrap.Runtime, target: common.Target, name: str, timeout: float
) -> dict[str, Any]:
    """Follow the requested operation to its end, showing progress; the app afterwards."""
    shown = progress()
    try:
        done = await follow_until(
            rt, target.namespace, name, Awaited(operation=True), timeout, shown.update
        )
    finally:
        shown.close()
    assert done is not None
    return done


def run_or_time_out(target: common.Target, work: Coroutine[Any, Any, T]) -> T:
    """Run ``work``; a timeout exits 1 (the awaited state was not reached), not 2 (an error)."""
    try:
        return common.run(target, work)
    except WaitTimeout as err:
        click.echo(f"error: {err}", err=True)
        raise SystemExit(1) from None


def report(obj: Mapping[str, Any]) -> None:
    """Print the operation's outcome; exit 1 unless it succeeded."""
    click.echo("")
    click.echo(output.operation_summary(obj))
    if not succeeded(obj):
        raise SystemExit(1)


async def refreshed(
    rt: bootstrap.Runtime, target: common.Target, name: str, *, hard: bool, timeout: float
) -> dict[str, Any]:
    """Request a refresh and wait until the controller has honoured it; the app afterwards."""
    await apps.refresh(
        rt.cluster, target.namespace, name, hard=hard, field_manager=rt.settings.field_manager
    )
    refreshed_app = Refreshed()
    done = await follow_until(rt, target.namespace, name, refreshed_app, timeout)
    assert done is not None
    return done


@dataclasses.dataclass(frozen=True)
class Refreshed(Awaited):
    """Waits until the controller has removed the refresh annotation (honoured the request)."""

    def unmet(self, obj: Mapping[str, Any] | None) -> list[str]:
        """What does not hold yet (empty: done)."""
        if obj is None:
            raise TetherError("the Application was deleted while waiting")
        return ["the controller to honour the refresh"] if apps.refresh_pending(obj) else []
