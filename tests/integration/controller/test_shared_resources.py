"""Two apps claiming one object: both are told, and FailOnSharedResource stops the sync."""

from __future__ import annotations

import pytest
from lightkube.resources.core_v1 import ConfigMap

from tests.support import tetherenv

pytestmark = pytest.mark.timeout(180)

SHARED = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: shared}\ndata: {owner: %s}\n"


def warning(kube, namespace: str, name: str) -> str:
    status = tetherenv.app_status(kube, namespace, name)
    found = [c for c in status.get("conditions", []) if c["type"] == "SharedResourceWarning"]
    return found[0]["message"] if found else ""


async def test_both_apps_are_warned_and_fail_on_shared_resource_refuses_the_sync(
    crds, full_namespace, tmp_path
):
    ns = full_namespace
    first = tetherenv.serve_repo(tmp_path / "git-a", {"app/cm.yaml": SHARED % "a"})
    second = tetherenv.serve_repo(tmp_path / "git-b", {"app/cm.yaml": SHARED % "b"})
    kube = tetherenv.client(crds.kubeconfig)
    try:
        tetherenv.create(
            kube,
            tetherenv.application("a", ns, first.url, "app", ns, syncPolicy={"automated": {}}),
        )
        async with tetherenv.running_controller(crds.kubeconfig, ns, tmp_path / "cache"):
            await tetherenv.eventually(
                lambda: tetherenv.synced_healthy(kube, ns, "a"), 60, "a Synced"
            )
            tetherenv.create(kube, tetherenv.application("b", ns, second.url, "app", ns))
            b_warned = await tetherenv.eventually(lambda: warning(kube, ns, "b"), 60, "b warned")
            assert b_warned == "ConfigMap/shared is part of applications a and b"
            a_warned = await tetherenv.eventually(lambda: warning(kube, ns, "a"), 60, "a warned")
            assert a_warned == "ConfigMap/shared is part of applications b and a"

            tetherenv.start_sync(kube, ns, "b", syncOptions=["FailOnSharedResource=true"])

            def failed() -> str:
                state = tetherenv.app_status(kube, ns, "b").get("operationState") or {}
                return state.get("message", "") if state.get("phase") == "Failed" else ""

            message = await tetherenv.eventually(failed, 60, "b's sync refused")
            assert "Shared resource found: ConfigMap/shared is part of applications a and b" in (
                message
            )
            cm = kube.get(ConfigMap, "shared", namespace=ns)
            assert cm.data == {"owner": "a"}, "the refused sync wrote nothing"
    finally:
        first.server.stop()
        second.server.stop()
        kube.close()
