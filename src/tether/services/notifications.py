"""Argo CD Notifications for the Applications this replica reconciles: triggers in, messages out.

Fed by the controller's watch cache (:meth:`Notifier.offer`), never by reconciliation itself: its
own bounded queue and workers, so a slow receiver or a bad template never delays a sync. Each
pass over an app evaluates its subscribed triggers, sends what the de-duplication state
(``core.notify.state``) has not seen, and writes that state back as the controller.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import datetime
import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any

from tether import ports
from tether.core.notify import config as notifyconfig, env as notifyenv, state, subscriptions
from tether.core.notify.config import Condition, NotificationConfig
from tether.model.errors import ClusterError, EvaluationError
from tether.services.appwriter import AppWriter
from tether.services.notifydelivery import Deliveries

log = logging.getLogger(__name__)

AppKey = tuple[str, str]

QUEUE_LIMIT = 10_000
"""Apps waiting for a pass; past it a change is dropped (counted): the next one brings it back."""

RETRY_BACKOFF_S = (5.0, 15.0, 60.0, 300.0)
"""When an app whose message could not be delivered is looked at again; the last repeats."""

WARNED_LIMIT = 10_000
"""Warnings remembered as said; past it they are forgotten (and may be said once more)."""

CATCH_UP_S = 1.0
"""When to look again at an app whose cached copy predates our own write."""


@dataclasses.dataclass
class Counts:
    """What notifications did, for metrics. Written by the event loop, read under ``lock``."""

    deliveries: collections.Counter[tuple[str, str, bool]] = dataclasses.field(
        default_factory=collections.Counter
    )
    """By (trigger, service, succeeded)."""
    errors: collections.Counter[str] = dataclasses.field(default_factory=collections.Counter)
    """By kind: ``expression`` (a condition failed), ``dropped`` (the queue was full),
    ``state`` (the de-duplication state could not be written)."""
    lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)

    def delivered(self, trigger: str, service: str, succeeded: bool) -> None:
        """Count one delivery."""
        with self.lock:
            self.deliveries[(trigger, service, succeeded)] += 1

    def error(self, kind: str) -> None:
        """Count one error of ``kind``."""
        with self.lock:
            self.errors[kind] += 1


class Notifier:
    """Sends the notifications of the apps ``owns`` says are this replica's."""

    def __init__(
        self,
        *,
        deliveries: Deliveries,
        evaluator: ports.Evaluator,
        apps: AppWriter,
        read: Callable[[AppKey], Mapping[str, Any] | None],
        read_project: Callable[[str], Mapping[str, Any] | None],
        owns: Callable[[AppKey], bool],
        clock: Callable[[], datetime.datetime],
        counts: Counts | None = None,
        queue_limit: int = QUEUE_LIMIT,
    ) -> None:
        self._deliveries = deliveries
        self._evaluator = evaluator
        self._apps = apps
        self._read = read
        self._read_project = read_project
        self._owns = owns
        self._clock = clock
        self._limit = queue_limit
        self._pending: dict[AppKey, None] = {}
        self._busy: set[AppKey] = set()
        self._again: set[AppKey] = set()
        self._wake = asyncio.Event()
        self._failures: dict[AppKey, int] = {}
        self._timers: dict[AppKey, asyncio.TimerHandle] = {}
        self._warned: set[tuple[AppKey, str]] = set()
        self.config: NotificationConfig = notifyconfig.EMPTY
        self.secret: Mapping[str, str] = {}
        self.counts = counts or Counts()

    # ---- input ---------------------------------------------------------------------------------

    def configure(self, config: NotificationConfig) -> None:
        """Use ``config`` from now on (its watch logs its warnings)."""
        self.config = config
        self._warned.clear()

    def offer(self, key: AppKey) -> None:
        """Look at ``key`` soon (an app changed); never blocks, never raises."""
        if key in self._busy:
            self._again.add(key)  # one pass at a time per app: no message sent twice
        elif key not in self._pending:
            if len(self._pending) >= self._limit:
                self.counts.error("dropped")
                return
            self._pending[key] = None
            self._wake.set()

    def later(self, key: AppKey, delay: float) -> None:
        """Look at ``key`` again in ``delay`` seconds."""
        if key in self._timers:
            return
        loop = asyncio.get_running_loop()
        self._timers[key] = loop.call_later(delay, self._due, key)

    def _due(self, key: AppKey) -> None:
        self._timers.pop(key, None)
        self.offer(key)

    # ---- workers -------------------------------------------------------------------------------

    async def run(self, workers: int = 2) -> None:
        """Work the queue until cancelled."""
        try:
            await asyncio.gather(*(self._worker() for _ in range(workers)))
        finally:
            for timer in self._timers.values():
                timer.cancel()
            self._timers.clear()

    async def _worker(self) -> None:
        while True:
            if not self._pending:
                self._wake.clear()
                await self._wake.wait()
                continue
            key = next(iter(self._pending))
            del self._pending[key]
            self._busy.add(key)
            try:
                await self.process(key)
            except Exception:  # one app's failure must not end notifications for all
                log.exception("notifications for %s/%s failed", *key)
            finally:
                self._busy.discard(key)
                if key in self._again:
                    self._again.discard(key)
                    self.offer(key)

    # ---- one pass ------------------------------------------------------------------------------

    async def process(self, key: AppKey) -> None:
        """Evaluate ``key``'s subscriptions now and send what is due."""
        obj = self._read(key)
        if obj is None or not self._owns(key):
            self._failures.pop(key, None)
            return
        if self._apps.predates_own_write(key[0], key[1], obj):
            self.later(key, CATCH_UP_S)
            return
        status = obj.get("status") or {}
        if state.is_stale(status):
            return  # the comparison after the operation brings it back
        config = self.config
        metadata = obj.get("metadata") or {}
        project = self._read_project(str((obj.get("spec") or {}).get("project") or "default"))
        subscribed = subscriptions.of(
            config,
            metadata.get("annotations") or {},
            ((project or {}).get("metadata") or {}).get("annotations") or {},
            metadata.get("labels") or {},
        )
        for warning in subscribed.warnings:
            self._warn_once(key, warning)
        if not subscribed.destinations:
            return
        env = notifyenv.of(obj, project)
        notified = state.load(metadata.get("annotations") or {})
        before = dict(notified)
        retry = False
        by_trigger: dict[str, list[subscriptions.Destination]] = {}
        for destination in subscribed.destinations:
            by_trigger.setdefault(destination.trigger, []).append(destination)
        for trigger_name, destinations in by_trigger.items():
            trigger = config.triggers.get(trigger_name)
            if trigger is None:
                self._warn_once(key, f"trigger {trigger_name!r} is not configured")
                continue
            for index, condition in enumerate(trigger.conditions):
                retry |= await self._condition(
                    key, env, notified, trigger_name, index, condition, destinations
                )
        if notified != before:
            await self._write_state(key, notified)
        self._schedule_retry(key, retry)

    async def _condition(
        self,
        key: AppKey,
        env: Mapping[str, Any],
        notified: dict[str, int],
        trigger: str,
        index: int,
        condition: Condition,
        destinations: list[subscriptions.Destination],
    ) -> bool:
        """Send one condition's templates to its destinations; True when one must be retried."""
        holds = await self._evaluate(key, trigger, condition.when, env)
        once_per = ""
        if holds and condition.once_per:
            value = await self._evaluate(key, trigger, condition.once_per, env, value=True)
            once_per = "" if value is None or value is False else str(value)
        retry = False
        for destination in destinations:
            entry = state.key(
                once_per, trigger, index, condition.when, destination.service, destination.recipient
            )
            if not holds:
                state.on_false(notified, entry, condition.once_per)
                continue
            if not state.should_send(notified, entry):
                continue
            service = self.config.services.get(destination.service)
            if service is None:
                self._warn_once(key, f"service {destination.service!r} is not configured")
                continue
            delivered = True
            for template in condition.send:
                outcome = await self._deliveries.deliver(
                    self.config, self.secret, template, service, destination.recipient, env
                )
                self.counts.delivered(trigger, service.name, outcome.sent)
                if not outcome.sent:
                    log.warning(
                        "notification %s to %s for %s/%s not sent%s: %s",
                        trigger,
                        service.name,
                        *key,
                        " (will retry)" if outcome.retry else "",
                        outcome.reason,
                        extra={"app": f"{key[0]}/{key[1]}", "trigger": trigger},
                    )
                    delivered = delivered and not outcome.retry
            if delivered:  # a message that can never go is not tried forever
                notified[entry] = int(self._clock().timestamp())
            else:
                retry = True
        return retry

    async def _evaluate(
        self,
        key: AppKey,
        trigger: str,
        program: str,
        env: Mapping[str, Any],
        *,
        value: bool = False,
    ) -> Any:
        try:
            result = await self._evaluator.expr(program, env)
        except EvaluationError as err:
            # As in Argo CD, a condition that errors counts as false; the operator hears of it.
            self.counts.error("expression")
            self._warn_once(key, f"trigger {trigger}: expression failed: {err}")
            return None if value else False
        return result if value else result is True

    async def _write_state(self, key: AppKey, notified: Mapping[str, int]) -> None:
        patch = {"metadata": {"annotations": {state.ANNOTATION: state.dump(notified)}}}
        try:
            await self._apps.patch(key[0], key[1], patch)
        except ClusterError as err:
            # The messages went; without the state they may go again: at least once.
            self.counts.error("state")
            log.warning("could not record notifications sent for %s/%s: %s", *key, err)

    def _schedule_retry(self, key: AppKey, retry: bool) -> None:
        if not retry:
            self._failures.pop(key, None)
            return
        failures = self._failures[key] = self._failures.get(key, 0) + 1
        self.later(key, RETRY_BACKOFF_S[min(failures, len(RETRY_BACKOFF_S)) - 1])

    def _warn_once(self, key: AppKey, warning: str) -> None:
        # Once per app and text until the configuration changes: each resync would repeat it.
        if (key, warning) in self._warned:
            return
        if len(self._warned) >= WARNED_LIMIT:
            self._warned.clear()  # bounded: at worst a warning is said again
        self._warned.add((key, warning))
        log.warning(
            "notifications for %s/%s: %s", *key, warning, extra={"app": f"{key[0]}/{key[1]}"}
        )


async def stop(task: asyncio.Task[None]) -> None:
    """Cancel a running :meth:`Notifier.run` and wait for it."""
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
