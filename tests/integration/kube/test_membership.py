"""Sharded replicas' membership Leases on a real API server: seen, settled, released, fenced."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest

from tether.adapters.kube.client import KubeClient
from tether.adapters.kube.membership import REPLICA_LABEL, Membership
from tether.adapters.kube.reflector import cancel

pytestmark = pytest.mark.timeout(60)


def member(client: KubeClient, namespace: str, replica: str, identity: str) -> Membership:
    # Short periods: a replica settles 2 s after it first holds its Lease.
    return Membership(
        client,
        namespace,
        "tether-controller-shard",
        replica,
        identity,
        lease_duration_s=2,
        renew_deadline_s=1.5,
        retry_period_s=0.1,
        connect=client.twin,  # as bootstrap wires it: renewals on their own thread
    )


async def until(check: Callable[[], bool], what: str, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


async def test_replicas_see_each_other_settle_and_a_stopped_one_leaves_at_once(
    client: KubeClient, namespace: str
):
    a, b = member(client, namespace, "a", "a-1"), member(client, namespace, "b", "b-1")
    tasks = {a: asyncio.create_task(a.run()), b: asyncio.create_task(b.run())}
    try:
        both = frozenset({"a", "b"})
        await until(lambda: a.current.settled == both == b.current.settled, "both settled")
        assert a.current.active and b.current.active
        assert a.may_write() and b.may_write()
        lease = await client.get(
            "coordination.k8s.io/v1", "Lease", "tether-controller-shard-a", namespace
        )
        assert lease is not None and lease["metadata"]["labels"] == {REPLICA_LABEL: "a"}

        await cancel(tasks.pop(a))  # released on the way out: b need not wait for expiry
        await until(lambda: b.current.seen == {"b"}, "a gone")
        assert not a.may_write()
    finally:
        for task in tasks.values():
            await cancel(task)


async def test_a_second_process_with_a_live_replicas_name_waits_and_writes_nothing(
    client: KubeClient, namespace: str
):
    first, second = member(client, namespace, "a", "a-1"), member(client, namespace, "a", "a-2")
    tasks = [asyncio.create_task(first.run())]
    try:
        await until(lambda: first.current.active, "the first settled")
        tasks.append(asyncio.create_task(second.run()))
        await until(lambda: second.current.seen == {"a"}, "the second sees the Lease")
        await asyncio.sleep(0.5)  # several retry periods: the first still holds it
        assert not second.current.active and not second.may_write()
        assert first.may_write()
    finally:
        for task in tasks:
            await cancel(task)
