"""Leader election between real candidates on a real Lease."""

from __future__ import annotations

import asyncio

import pytest

from tether.adapters.kube.client import KubeClient
from tether.adapters.kube.lease import LeaderElector
from tether.adapters.kube.reflector import cancel

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
