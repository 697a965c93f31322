"""A ``KubeClient`` on the test control plane, and a namespace fixture that closes its client."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from tether import bootstrap
from tether.adapters.kube.client import KubeClient


@pytest.fixture
async def client(kube_cluster: bootstrap.DevCluster) -> AsyncIterator[KubeClient]:
    """A client for the shared control plane, closed after the test."""
    async with KubeClient.from_kubeconfig(kube_cluster.kubeconfig) as kube:
        yield kube


@pytest.fixture
async def namespace(client: KubeClient, request: pytest.FixtureRequest) -> AsyncIterator[str]:
    """A fresh namespace for this test.

    Overrides the root fixture of the same name, whose synchronous lightkube client is never
    closed (its leaked socket fails the next test under ``filterwarnings=error``); drop this
    once the root fixture closes its client.
    """
    stem = request.node.name[:40].lower().replace("_", "-").strip("-")
    name = "".join(c for c in f"t-{stem}-{uuid.uuid4().hex[:6]}" if c.isalnum() or c == "-")
    await client.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    yield name
    await client.delete("v1", "Namespace", name, propagation="Background")
