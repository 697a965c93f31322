"""Untracked objects an app wants (CRDs carry no tracking) still refresh it when they change.

The resync period is set far beyond every wait, so only a watch event can move the status.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from lightkube import ApiError, Client
from lightkube.resources.apiextensions_v1 import CustomResourceDefinition

from tests.support import tetherenv

pytestmark = pytest.mark.timeout(120)

LONG_RESYNC_S = 900.0
"""Far beyond every wait below: a status that only a resync would fix fails the test."""


@pytest.fixture
def crd_cleanup(crds: Any) -> Iterator[list[str]]:
    """Names of cluster-scoped CRDs to delete after the test, so they do not leak into others."""
    names: list[str] = []
    yield names
    kube = tetherenv.client(crds.kubeconfig)
    try:
        for name in names:
            with contextlib.suppress(ApiError):
                kube.delete(CustomResourceDefinition, name)
    finally:
        kube.close()


def unique_group() -> str:
    return f"t{uuid.uuid4().hex[:8]}.example.com"


def status_of(kube: Client, namespace: str) -> dict[str, Any]:
    return tetherenv.app_status(kube, namespace, "crds")


async def test_a_crd_whose_names_get_accepted_later_turns_its_app_healthy_at_once(
    crds, full_namespace, tmp_path, crd_cleanup
):
    group = unique_group()
    # Another CRD of the group already claims the kind: the app's CRD is refused its names
    # (Degraded) until that one goes; its status then changes, with no tracking on it.
    squatter = tetherenv.crd_manifest(group, "Widget", "squatters")
    wanted = tetherenv.crd_manifest(group, "Widget", "widgets")
    crd_cleanup += [squatter["metadata"]["name"], wanted["metadata"]["name"]]
    kube = tetherenv.client(crds.kubeconfig)
    try:
        tetherenv.create(kube, squatter)
    finally:
        kube.close()
    async with tetherenv.app_under_controller(
        crds.kubeconfig,
        full_namespace,
        tmp_path,
        "crds",
        {"app/widgets.yaml": yaml.safe_dump(wanted)},
        resync_s=LONG_RESYNC_S,
        syncPolicy={"automated": {"prune": True}},
    ) as (kube, _):
        await tetherenv.eventually(
            lambda: status_of(kube, full_namespace).get("health", {}).get("status") == "Degraded",
            60,
            "Degraded while the kind is taken",
        )
        kube.delete(CustomResourceDefinition, squatter["metadata"]["name"])
        await tetherenv.eventually(
            lambda: tetherenv.synced_healthy(kube, full_namespace, "crds"),
            30,
            "Healthy from the CRD's status event, not from a resync",
        )


async def test_deleting_a_crd_an_app_wants_makes_the_app_out_of_sync_at_once(
    crds, full_namespace, tmp_path, crd_cleanup
):
    wanted = tetherenv.crd_manifest(unique_group(), "Gadget", "gadgets")
    crd_cleanup.append(wanted["metadata"]["name"])
    # Automated without self-heal: after the first sync, drift is reported, not undone.
    async with tetherenv.app_under_controller(
        crds.kubeconfig,
        full_namespace,
        tmp_path,
        "crds",
        {"app/gadgets.yaml": yaml.safe_dump(wanted)},
        resync_s=LONG_RESYNC_S,
        syncPolicy={"automated": {"prune": False, "selfHeal": False}},
    ) as (kube, _):
        await tetherenv.eventually(
            lambda: tetherenv.synced_healthy(kube, full_namespace, "crds"), 60, "Synced and Healthy"
        )
        kube.delete(CustomResourceDefinition, wanted["metadata"]["name"])
        await tetherenv.eventually(
            lambda: status_of(kube, full_namespace)["sync"]["status"] == "OutOfSync",
            30,
            "OutOfSync from the CRD's deletion event, not from a resync",
        )


async def test_a_crd_and_its_custom_resources_sync_in_one_attempt(
    crds, full_namespace, tmp_path, crd_cleanup
):
    group = unique_group()
    definition = tetherenv.crd_manifest(group, "Gizmo", "gizmos")
    crd_cleanup.append(definition["metadata"]["name"])
    gizmos = [
        {"apiVersion": f"{group}/v1", "kind": "Gizmo", "metadata": {"name": f"g{index}"}}
        for index in range(3)
    ]
    files = {
        "app/crd.yaml": yaml.safe_dump(definition),
        "app/gizmos.yaml": tetherenv.yaml_docs(*gizmos),
    }
    async with tetherenv.app_under_controller(
        crds.kubeconfig,
        full_namespace,
        tmp_path,
        "crds",
        files,
        resync_s=LONG_RESYNC_S,
        syncPolicy={"automated": {}, "syncOptions": ["SkipDryRunOnMissingResource=true"]},
    ) as (kube, _):
        status = await tetherenv.eventually(
            lambda: tetherenv.synced_healthy(kube, full_namespace, "crds"), 60, "Synced and Healthy"
        )
    state = status["operationState"]
    assert state["phase"] == "Succeeded"
    assert not state.get("retryCount"), state.get("message")
    names = {r["name"] for r in state["syncResult"]["resources"] if r["kind"] == "Gizmo"}
    assert names == {"g0", "g1", "g2"}
