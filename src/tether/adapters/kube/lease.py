"""Leader election on a ``coordination.k8s.io/v1`` Lease, after client-go's leaderelection.

This module reads the clock and talks to the API; ``core.leasing`` decides. Renewals replace the
Lease with its resourceVersion, so two candidates can never both believe they won.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import logging
import random
import threading
from collections.abc import Callable, Mapping
from typing import Any

from tether.adapters.kube import errors
from tether.adapters.kube.client import KubeClient
from tether.core.cluster import leasing

log = logging.getLogger(__name__)

LEASE_DURATION_S = 15
"""client-go's default: a dead leader is replaced within 15 s."""

RENEW_DEADLINE_S = 10.0
"""A leader that cannot renew for this long stops leading before its Lease can expire."""

RETRY_PERIOD_S = 2.0
"""How often candidates retry and leaders renew (client-go default)."""

RETRY_JITTER = 1.2
"""Candidates retry at [1, 1.2) x the period, so they do not collide in lockstep."""

FIELD_MANAGER = "tether-leader-election"


def _utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


class LeaderElector:
    """One candidate for one Lease.

    With ``connect``, the campaign (reads, renewals, the deadline check, the release) runs on
    a thread of its own with its own event loop and a client from ``connect``, as client-go
    runs it in its own goroutine: a main loop busy with CPU-bound reconciles resumed the
    renewal too late and lost the Lease with a renewal the API had accepted (S9). Without it,
    the campaign runs on the caller's loop with ``client``.

    Attributes:
        leading: Set while this candidate leads (on the loop that called ``run``).
        stopped_leading: Set after this candidate stopped leading (lost or released).
    """

    def __init__(
        self,
        client: KubeClient,
        name: str,
        namespace: str,
        identity: str,
        *,
        lease_duration_s: int = LEASE_DURATION_S,
        renew_deadline_s: float = RENEW_DEADLINE_S,
        retry_period_s: float = RETRY_PERIOD_S,
        on_started_leading: Callable[[], None] | None = None,
        on_stopped_leading: Callable[[], None] | None = None,
        clock: Callable[[], datetime.datetime] = _utcnow,
        labels: Mapping[str, str] | None = None,
        connect: Callable[[], KubeClient] | None = None,
    ) -> None:
        self.name = name
        self.namespace = namespace
        self.identity = identity
        self.leading = asyncio.Event()
        self.stopped_leading = asyncio.Event()
        self._client = client
        """The client of the loop the campaign runs on: ``connect``'s while on its thread."""
        self._connect = connect
        self._duration = lease_duration_s
        self._renew_deadline = renew_deadline_s
        self._retry = retry_period_s
        self._on_started = on_started_leading
        self._on_stopped = on_stopped_leading
        self._clock = clock
        self._labels = dict(labels or {})
        self._rng = random.Random()
        self._lock = threading.Lock()
        """Guards ``_held`` and ``_last_renewed``: the campaign's thread writes them, writers
        on the main loop read them (``may_write``)."""
        self._held = False
        self._last_renewed: datetime.datetime | None = None
        self._home: asyncio.AbstractEventLoop | None = None
        """The loop that called ``run``: ``leading`` and the callbacks belong to it."""
        self._attempt_timeout = max(0.5, min(retry_period_s * 2, renew_deadline_s / 2))

    async def run(self) -> None:
        """Campaign and lead until cancelled; on cancellation, release the Lease if held."""
        self._home = asyncio.get_running_loop()
        if self._connect is None:
            await self._campaign()
        else:
            await self._run_on_own_thread(self._connect)

    async def _run_on_own_thread(self, connect: Callable[[], KubeClient]) -> None:
        home = asyncio.get_running_loop()
        ended: asyncio.Future[None] = home.create_future()
        loop = asyncio.new_event_loop()
        campaign = loop.create_task(self._campaign_connected(connect))

        def main() -> None:
            error: BaseException | None = None
            try:
                loop.run_until_complete(campaign)
            except asyncio.CancelledError:
                pass
            except BaseException as exc:  # handed to run()'s caller, as on one loop
                error = exc
            finally:
                loop.run_until_complete(loop.shutdown_asyncgens())
                loop.run_until_complete(loop.shutdown_default_executor())
                loop.close()
                with contextlib.suppress(RuntimeError):  # the caller's loop is closed
                    home.call_soon_threadsafe(_settle, ended, error)

        thread = threading.Thread(
            target=main, name=f"lease-{self.namespace}-{self.name}", daemon=True
        )
        thread.start()
        try:
            await asyncio.shield(ended)
        finally:
            if not ended.done():
                # Cancelled: stop the campaign, and wait for it to release the Lease.
                with contextlib.suppress(RuntimeError):  # it ended meanwhile
                    loop.call_soon_threadsafe(campaign.cancel)
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.shield(ended)
            if ended.done():
                thread.join()  # it has settled ``ended``: only its return is left

    async def _campaign_connected(self, connect: Callable[[], KubeClient]) -> None:
        given = self._client
        async with connect() as client:
            self._client = client
            try:
                await self._campaign()
            finally:
                self._client = given

    async def _campaign(self) -> None:
        try:
            while True:
                try:
                    # Bounded: a hung request must not keep a leader believing it leads past
                    # the renew deadline (it would go on writing while a successor takes over).
                    # A leader's bound is what is left of that deadline: a fixed 4 s lost the
                    # Lease under load (S9) while the deadline still had seconds to give.
                    async with asyncio.timeout(self._attempt_budget()):
                        await self.try_once()
                except (errors.ClusterError, TimeoutError) as exc:
                    log.info("lease %s/%s: %s", self.namespace, self.name, str(exc) or "timed out")
                self._check_deadline()
                await asyncio.sleep(self._retry * self._rng.uniform(1.0, RETRY_JITTER))
        finally:
            if self._holds():
                with contextlib.suppress(errors.ClusterError, asyncio.CancelledError):
                    await asyncio.shield(self.release())

    async def try_once(self) -> bool:
        """Read the Lease, then create, take or renew it if ``core.leasing`` says so.

        On the loop the campaign runs on (the caller's, without ``connect``).

        Returns:
            Whether this candidate leads after the attempt.
        """
        client = self._client
        now = self._clock()
        live = await client.get("coordination.k8s.io/v1", "Lease", self.name, self.namespace)
        state = state_of(live) if live else None
        verdict = leasing.decide(state, self.identity, now)
        if verdict is leasing.Verdict.WAIT:
            self._set_leading(False)
            return False
        spec = leasing.next_state(state, verdict, self.identity, self._duration, now)
        try:
            if verdict is leasing.Verdict.CREATE:
                await client.create(_lease(self.name, self.namespace, spec, "", self._labels))
            else:
                assert live is not None
                rv = str(live["metadata"]["resourceVersion"])
                await client.update(_lease(self.name, self.namespace, spec, rv, self._labels))
        except errors.ConflictError:
            # Someone else wrote first; we learn who on the next read.
            self._set_leading(False)
            return False
        self._set_leading(True, renewed=now)
        return True

    async def release(self) -> None:
        """Give the Lease up so a successor need not wait for it to expire."""
        client = self._client
        live = await client.get("coordination.k8s.io/v1", "Lease", self.name, self.namespace)
        if live:
            state = state_of(live)
            if state.holder == self.identity:
                spec = leasing.released(state, self._clock())
                rv = str(live["metadata"]["resourceVersion"])
                with contextlib.suppress(errors.ConflictError):
                    await client.update(_lease(self.name, self.namespace, spec, rv, self._labels))
        self._set_leading(False)

    def may_write(self) -> bool:
        """Whether this replica may write now: it leads and renewed within the renew deadline.

        Checked on every write (``KubeClient.fence``), not only when the renewal loop wakes up:
        a renewal that fails leaves at most ``renew_deadline`` of writes, and a successor can
        take over only ``lease_duration`` after the last renewal, which is longer. Safe from
        any thread.
        """
        with self._lock:
            held, renewed = self._held, self._last_renewed
        if not held or renewed is None:
            return False
        return (self._clock() - renewed).total_seconds() < self._renew_deadline

    def _holds(self) -> bool:
        with self._lock:
            return self._held

    def _attempt_budget(self) -> float:
        with self._lock:
            renewed = self._last_renewed if self._held else None
        return leasing.attempt_timeout(
            renewed, self._clock(), self._renew_deadline, self._attempt_timeout
        )

    def _check_deadline(self) -> None:
        with self._lock:
            held, renewed = self._held, self._last_renewed
        if not held or renewed is None:
            return
        if (self._clock() - renewed).total_seconds() > self._renew_deadline:
            log.warning("lease %s/%s: renew deadline passed", self.namespace, self.name)
            self._set_leading(False)

    def _set_leading(self, leading: bool, renewed: datetime.datetime | None = None) -> None:
        """Record the campaign's verdict, and tell the caller's loop when it changes."""
        with self._lock:
            changed = self._held != leading
            self._held = leading
            if renewed is not None:
                self._last_renewed = renewed
        if not changed:
            return
        home = self._home
        if home is None or _running_loop() is home:
            self._announce(leading)
        else:
            # In order: a quick win and loss reach the caller's loop as a win, then a loss.
            with contextlib.suppress(RuntimeError):  # the caller's loop is closed
                home.call_soon_threadsafe(self._announce, leading)

    def _announce(self, leading: bool) -> None:
        """On the caller's loop: set the events and call the callbacks."""
        if leading and not self.leading.is_set():
            self.stopped_leading.clear()
            self.leading.set()
            if self._on_started:
                self._on_started()
        elif not leading and self.leading.is_set():
            self.leading.clear()
            self.stopped_leading.set()
            if self._on_stopped:
                self._on_stopped()


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _settle(ended: asyncio.Future[None], error: BaseException | None) -> None:
    if ended.done():
        return
    if error is None:
        ended.set_result(None)
    else:
        ended.set_exception(error)


def state_of(lease: Mapping[str, Any]) -> leasing.LeaseState:
    """The election fields of a Lease as read."""
    spec = lease.get("spec") or {}
    return leasing.LeaseState(
        holder=str(spec.get("holderIdentity") or ""),
        duration_s=int(spec.get("leaseDurationSeconds") or 0),
        acquired=leasing.parse_microtime(spec.get("acquireTime")),
        renewed=leasing.parse_microtime(spec.get("renewTime")),
        transitions=int(spec.get("leaseTransitions") or 0),
    )


def _lease(
    name: str, namespace: str, state: leasing.LeaseState, rv: str, labels: Mapping[str, str]
) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name, "namespace": namespace}
    if labels:
        metadata["labels"] = dict(labels)
    if rv:
        metadata["resourceVersion"] = rv
    spec: dict[str, Any] = {
        "holderIdentity": state.holder or None,
        "leaseDurationSeconds": state.duration_s,
        "leaseTransitions": state.transitions,
    }
    if state.acquired:
        spec["acquireTime"] = leasing.format_microtime(state.acquired)
    if state.renewed:
        spec["renewTime"] = leasing.format_microtime(state.renewed)
    return {
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": metadata,
        "spec": spec,
    }
