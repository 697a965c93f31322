"""Untracked objects an app wants (CRDs carry no tracking) still refresh it when they change.

The resync period is set far beyond every wait, so only a watch event can move the status.
"""

from __future__ import annotations

import contextlib
import uuid
from typing import Any

import pytest
import yaml
from lightkube import ApiError
from lightkube.resources.apiextensions_v1 import CustomResourceDefinition

from tests.support import tetherenv

pytestmark = pytest.mark.timeout(120)

LONG_RESYNC_S = 900.0
"""Far beyond every wait below: a status that only a resync would fix fails the test."""


def crd(group: str, kind: str, plural: str) -> dict[str, Any]:
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{group}"},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {"kind": kind, "plural": plural, "listKind": f"{kind}List"},
            "versions": [
                {
                    "name": "v1",
                    "served": True,
                    "storage": True,
                    "schema": {
                        "openAPIV3Schema": {
                            "type": "object",
                            "x-kubernetes-preserve-unknown-fields": True,
                        }
                    },
                }
            ],
        },
    }


def health_of(kube: Any, namespace: str, name: str) -> str:
    return str(tetherenv.app_status(kube, namespace, name).get("health", {}).get("status"))


async def test_a_crd_whose_names_get_accepted_later_turns_its_app_healthy_at_once(
    crds, full_namespace, tmp_path
):
    group = f"t{uuid.uuid4().hex[:8]}.example.com"
    # Another CRD of the group already claims the kind: the app's CRD is refused its names
    # (Degraded) until that one goes; its status then changes, with no tracking on it.
    squatter = crd(group, "Widget", "squatters")
    wanted = crd(group, "Widget", "widgets")
    kube = tetherenv.client(crds.kubeconfig)
    tetherenv.create(kube, squatter)
    repo = tetherenv.serve_repo(tmp_path / "git", {"crds/widgets.yaml": yaml.safe_dump(wanted)})
    try:
        tetherenv.create(
            kube,
            tetherenv.application(
                "crds",
                full_namespace,
                repo.url,
                "crds",
                full_namespace,
                syncPolicy={"automated": {"prune": True}},
            ),
        )
        async with tetherenv.running_controller(
            crds.kubeconfig, full_namespace, tmp_path / "cache", resync_s=LONG_RESYNC_S
        ):
            await tetherenv.eventually(
                lambda: health_of(kube, full_namespace, "crds") == "Degraded",
                60,
                "Degraded while the kind is taken",
            )
            kube.delete(CustomResourceDefinition, squatter["metadata"]["name"])
            await tetherenv.eventually(
                lambda: tetherenv.synced_healthy(kube, full_namespace, "crds"),
                30,
                "Healthy from the CRD's status event, not from a resync",
            )
    finally:
        repo.server.stop()
        for name in (squatter["metadata"]["name"], wanted["metadata"]["name"]):
            with contextlib.suppress(ApiError):  # cluster-scoped: clean up for other tests
                kube.delete(CustomResourceDefinition, name)
        kube.close()


async def test_deleting_a_crd_an_app_wants_makes_the_app_out_of_sync_at_once(
    crds, full_namespace, tmp_path
):
    group = f"t{uuid.uuid4().hex[:8]}.example.com"
    wanted = crd(group, "Gadget", "gadgets")
    kube = tetherenv.client(crds.kubeconfig)
    repo = tetherenv.serve_repo(tmp_path / "git", {"crds/gadgets.yaml": yaml.safe_dump(wanted)})
    try:
        # Automated without self-heal: after the first sync, drift is reported, not undone.
        tetherenv.create(
            kube,
            tetherenv.application(
                "crds",
                full_namespace,
                repo.url,
                "crds",
                full_namespace,
                syncPolicy={"automated": {"prune": False, "selfHeal": False}},
            ),
        )
        async with tetherenv.running_controller(
            crds.kubeconfig, full_namespace, tmp_path / "cache", resync_s=LONG_RESYNC_S
        ):
            await tetherenv.eventually(
                lambda: tetherenv.synced_healthy(kube, full_namespace, "crds"),
                60,
                "Synced and Healthy",
            )
            kube.delete(CustomResourceDefinition, wanted["metadata"]["name"])
            await tetherenv.eventually(
                lambda: (
                    tetherenv.app_status(kube, full_namespace, "crds")["sync"]["status"]
                    == "OutOfSync"
                ),
                30,
                "OutOfSync from the CRD's deletion event, not from a resync",
            )
    finally:
        repo.server.stop()
        with contextlib.suppress(ApiError):  # cluster-scoped: clean up for other tests
            kube.delete(CustomResourceDefinition, wanted["metadata"]["name"])
        kube.close()


async def test_a_crd_and_its_custom_resources_sync_in_one_attempt(crds, full_namespace, tmp_path):
    group = f"t{uuid.uuid4().hex[:8]}.example.com"
    definition = crd(group, "Gizmo", "gizmos")
    gizmos = [
        {"apiVersion": f"{group}/v1", "kind": "Gizmo", "metadata": {"name": f"g{index}"}}
        for index in range(3)
    ]
    kube = tetherenv.client(crds.kubeconfig)
    repo = tetherenv.serve_repo(
        tmp_path / "git",
        {
            "app/crd.yaml": yaml.safe_dump(definition),
            "app/gizmos.yaml": tetherenv.yaml_docs(*gizmos),
        },
    )
    try:
        tetherenv.create(
            kube,
            tetherenv.application(
                "gizmos",
                full_namespace,
                repo.url,
                "app",
                full_namespace,
                syncPolicy={"automated": {}, "syncOptions": ["SkipDryRunOnMissingResource=true"]},
            ),
        )
        async with tetherenv.running_controller(
            crds.kubeconfig, full_namespace, tmp_path / "cache", resync_s=LONG_RESYNC_S
        ):
            status = await tetherenv.eventually(
                lambda: tetherenv.synced_healthy(kube, full_namespace, "gizmos"),
                60,
                "Synced and Healthy",
            )
        state = status["operationState"]
        assert state["phase"] == "Succeeded"
        assert not state.get("retryCount"), state.get("message")
        names = {r["name"] for r in state["syncResult"]["resources"] if r["kind"] == "Gizmo"}
        assert names == {"g0", "g1", "g2"}
    finally:
        repo.server.stop()
        with contextlib.suppress(ApiError):  # cluster-scoped: clean up for other tests
            kube.delete(CustomResourceDefinition, definition["metadata"]["name"])
        kube.close()
