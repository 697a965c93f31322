"""HTTP/2 against HTTP/1.1 for the controller's requests: client CPU per request, and wall time.

``python -m bench.transport_cpu [N] [ROUNDS]``: a minimal control plane of its own, then per
round and protocol (alternating, so load on a shared machine hits both alike) N server-side
applies of new ConfigMaps, N merge patches of them and N Event creates, 20 in flight as the
controller's workers, through tether's own ``KubeClient``. Reports the client process's CPU
(``time.process_time``: what the controller pays) and wall seconds per protocol.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
import uuid
from typing import Any

from tether import bootstrap
from tether.adapters.kube import transport
from tether.adapters.kube.client import KubeClient

CONCURRENCY = 20


async def workload(client: KubeClient, namespace: str, n: int, tag: str) -> None:
    slots = asyncio.Semaphore(CONCURRENCY)

    async def one(i: int) -> None:
        async with slots:
            cm: dict[str, Any] = {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": f"{tag}-{i}", "namespace": namespace},
                "data": {"value": "v0"},
            }
            await client.apply(cm, field_manager="bench", force=True)
            await client.patch(
                "v1", "ConfigMap", f"{tag}-{i}", namespace, patch={"data": {"value": "v1"}}
            )
            event = {
                "apiVersion": "v1",
                "kind": "Event",
                "metadata": {"name": f"{tag}-{i}.{uuid.uuid4().hex[:8]}", "namespace": namespace},
                "involvedObject": {
                    "kind": "ConfigMap",
                    "name": f"{tag}-{i}",
                    "namespace": namespace,
                },
                "reason": "Bench",
                "message": "a sentence of about the length tether writes",
                "type": "Normal",
            }
            await client.create(event, field_manager="bench")

    await asyncio.gather(*(one(i) for i in range(n)))


async def measure(
    kubeconfig: str, namespace: str, n: int, http2: bool, tag: str
) -> tuple[float, float]:
    transport.REQUESTS_HTTP2 = http2
    client = KubeClient.from_kubeconfig(kubeconfig)
    try:
        await workload(client, namespace, 20, tag + "-warm")  # connections open, discovery read
        cpu, wall = time.process_time(), time.perf_counter()
        await workload(client, namespace, n, tag)
        return time.process_time() - cpu, time.perf_counter() - wall
    finally:
        await client.aclose()


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    with bootstrap.temporary_dev_cluster("minimal", prefix="tether-bench-h2-") as cluster:
        import lightkube
        from lightkube.models.meta_v1 import ObjectMeta
        from lightkube.resources.core_v1 import Namespace

        with lightkube.Client(lightkube.KubeConfig.from_file(str(cluster.kubeconfig))) as kube:
            kube.create(Namespace(metadata=ObjectMeta(name="h2bench")))
        found: dict[str, list[tuple[float, float]]] = {"HTTP/2": [], "HTTP/1.1": []}
        for r in range(rounds):
            for name, http2 in (
                (("HTTP/2", True), ("HTTP/1.1", False))
                if r % 2 == 0
                else (
                    ("HTTP/1.1", False),
                    ("HTTP/2", True),
                )
            ):
                tag = f"r{r}-{'h2' if http2 else 'h1'}"
                cpu, wall = asyncio.run(measure(str(cluster.kubeconfig), "h2bench", n, http2, tag))
                found[name].append((cpu, wall))
                print(
                    f"round {r} {name}: {3 * n} requests, CPU {cpu:.2f} s "
                    f"({1000 * cpu / (3 * n):.3f} ms per request), wall {wall:.2f} s",
                    flush=True,
                )
        for name, runs in found.items():
            cpu = statistics.median(c for c, _ in runs)
            wall = statistics.median(w for _, w in runs)
            print(
                f"{name}: median CPU {1000 * cpu / (3 * n):.3f} ms per request, "
                f"median wall {wall:.2f} s for {3 * n} requests ({3 * n / wall:.0f} per s)"
            )


if __name__ == "__main__":
    main()
