"""Leader election between real candidates on a real Lease."""

from __future__ import annotations

import asyncio
import time

import pytest

from tether.adapters.kube.client import KubeClient
from tether.adapters.kube.lease import LeaderElector
from tether.adapters.kube.reflector import cancel
from tether.core.cluster import leasing
from tether.model.errors import NotLeaderError

pytestmark = pytest.mark.timeout(60)

FAST = {"lease_duration_s": 2, "renew_deadline_s": 1.5, "retry_period_s": 0.1}
"""Short periods so a takeover after expiry happens within seconds."""


def candidate(client: KubeClient, namespace: str, identity: str, log: list[str]) -> LeaderElector:
    return LeaderElector(
        client,
        "tether-controller",
        namespace,
        identity,
        on_started_leading=lambda: log.append(f"{identity} started"),
        on_stopped_leading=lambda: log.append(f"{identity} stopped"),
        **FAST,  # type: ignore[arg-type]
    )


async def first_leader(*electors: LeaderElector, timeout: float = 10) -> LeaderElector:
    waits = {asyncio.create_task(e.leading.wait()): e for e in electors}
    done, pending = await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    for task in pending:
        task.cancel()
    assert done, "nobody became leader"
    return waits[done.pop()]


async def test_only_one_candidate_leads_and_the_other_takes_over_when_the_leader_releases(
    client: KubeClient, namespace: str
):
    log: list[str] = []
    a, b = candidate(client, namespace, "a", log), candidate(client, namespace, "b", log)
    tasks = {a: asyncio.create_task(a.run()), b: asyncio.create_task(b.run())}
    try:
        leader = await first_leader(a, b)
        follower = b if leader is a else a
        # Several retry periods later the follower still waits.
        await asyncio.sleep(1.0)
        assert not follower.leading.is_set()
        lease = await client.get("coordination.k8s.io/v1", "Lease", "tether-controller", namespace)
        assert lease is not None
        assert lease["spec"]["holderIdentity"] == leader.identity

        # Shutting the leader down releases the Lease; the follower need not wait for expiry.
        await cancel(tasks[leader])
        assert leader.stopped_leading.is_set()
        await asyncio.wait_for(follower.leading.wait(), 1.5)
        assert log == [
            f"{leader.identity} started",
            f"{leader.identity} stopped",
            f"{follower.identity} started",
        ]
    finally:
        for task in tasks.values():
            await cancel(task)


async def test_a_candidate_takes_over_a_lease_whose_holder_stopped_renewing(
    client: KubeClient, namespace: str
):
    log: list[str] = []
    crashed = candidate(client, namespace, "crashed", log)
    assert await crashed.try_once()  # acquires, then "crashes": never renews, never releases
    successor = candidate(client, namespace, "successor", log)
    task = asyncio.create_task(successor.run())
    try:
        await asyncio.sleep(1.0)
        assert not successor.leading.is_set()  # the Lease is still live
        await asyncio.wait_for(successor.leading.wait(), 5)
        lease = await client.get("coordination.k8s.io/v1", "Lease", "tether-controller", namespace)
        assert lease is not None
        assert lease["spec"]["holderIdentity"] == "successor"
        assert lease["spec"]["leaseTransitions"] == 1
    finally:
        await cancel(task)


async def test_a_leader_that_cannot_renew_stops_writing_before_a_successor_leads(
    client: KubeClient, namespace: str, kube_cluster
):
    """Fencing: the old leader's last write lands before the new leader's first chance."""
    log: list[str] = []
    async with KubeClient.from_kubeconfig(kube_cluster.kubeconfig) as fenced:
        old = candidate(fenced, namespace, "old", log)
        fenced.fence(old.may_write)
        old_task = asyncio.create_task(old.run())
        await asyncio.wait_for(old.leading.wait(), 5)

        async def hang() -> bool:
            await asyncio.sleep(3600)  # the API stops answering this replica
            return False

        old.try_once = hang  # type: ignore[method-assign]
        loop = asyncio.get_running_loop()
        written: list[float] = []
        refused: list[float] = []

        async def keep_writing() -> None:
            for n in range(10_000):
                obj = {
                    "apiVersion": "v1",
                    "kind": "ConfigMap",
                    "metadata": {"name": "work", "namespace": namespace},
                    "data": {"n": str(n)},
                }
                try:
                    await fenced.apply(obj, field_manager="old")
                    written.append(loop.time())
                except NotLeaderError:
                    refused.append(loop.time())
                await asyncio.sleep(0.05)

        writer = asyncio.create_task(keep_writing())
        new = candidate(client, namespace, "new", log)
        new_task = asyncio.create_task(new.run())
        try:
            await asyncio.wait_for(new.leading.wait(), 10)
            took_over = loop.time()
            assert written, "the old leader never wrote"
            assert refused, "the old leader was never fenced"
            assert max(written) < took_over, "the old leader wrote after the new one led"
            assert not old.may_write()
        finally:
            for task in (writer, old_task, new_task):
                await cancel(task)


def busy(seconds: float) -> None:
    """Hold the interpreter as CPU-bound reconciles do (not a sleep: the GIL stays contended)."""
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        sum(range(1000))


async def test_a_leader_renewing_on_its_own_thread_keeps_the_lease_while_its_loop_is_blocked(
    client: KubeClient, namespace: str
):
    """S9: a main loop busy for longer than the renew deadline must not cost the Lease."""
    log: list[str] = []
    periods = {"lease_duration_s": 4, "renew_deadline_s": 3.0, "retry_period_s": 0.2}
    leader = LeaderElector(
        client,
        "tether-controller",
        namespace,
        "busy",
        on_started_leading=lambda: log.append("started"),
        on_stopped_leading=lambda: log.append("stopped"),
        connect=client.twin,
        **periods,  # type: ignore[arg-type]
    )
    task = asyncio.create_task(leader.run())
    try:
        await asyncio.wait_for(leader.leading.wait(), 10)
        before = await client.get("coordination.k8s.io/v1", "Lease", "tether-controller", namespace)
        assert before is not None
        blocked = asyncio.get_running_loop().create_future()

        def block() -> None:
            busy(periods["renew_deadline_s"] + 2)  # longer than the deadline minus a retry
            blocked.set_result(leader.may_write())  # renewed within the deadline, meanwhile

        asyncio.get_running_loop().call_soon(block)
        assert await blocked, "the leader could not write right after the block"
        after = await client.get("coordination.k8s.io/v1", "Lease", "tether-controller", namespace)
        assert after is not None
        assert after["spec"]["holderIdentity"] == "busy"
        renewed = leasing.parse_microtime(after["spec"]["renewTime"])
        earlier = leasing.parse_microtime(before["spec"]["renewTime"])
        assert renewed is not None and earlier is not None
        assert renewed > earlier
        await asyncio.sleep(0)  # a loss announced during the block would be delivered by now
        assert leader.leading.is_set()
        assert not leader.stopped_leading.is_set()
        assert log == ["started"]

        # Shutting down joins the thread, which released the Lease first.
        await cancel(task)
        assert log == ["started", "stopped"]
        released = await client.get(
            "coordination.k8s.io/v1", "Lease", "tether-controller", namespace
        )
        assert released is not None
        assert not released["spec"].get("holderIdentity")
    finally:
        await cancel(task)
