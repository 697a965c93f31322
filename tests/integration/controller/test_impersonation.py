"""A project's ``destinationServiceAccounts``: a sync does what that account may, no more.

Found: the field was parsed and ignored, so every sync ran with the controller's own (broad)
credentials, whatever the project said. Tested with real RBAC on the real API server.
"""

from __future__ import annotations

from typing import Any

import pytest
from lightkube.resources.core_v1 import ConfigMap, Service

from tests.support import tetherenv

pytestmark = pytest.mark.timeout(150)

OBJECTS = """apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {a: "1"}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  ports: [{port: 80}]
"""

WRITE = ["get", "list", "watch", "create", "update", "patch", "delete"]


def role(namespace: str, resources: list[str]) -> dict[str, Any]:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": {"name": "deployer", "namespace": namespace},
        "rules": [{"apiGroups": [""], "resources": resources, "verbs": WRITE}],
    }


def refused_as(kube: Any, namespace: str, user: str) -> str | None:
    """The operation's message once a write was refused to ``user``."""
    state = tetherenv.app_status(kube, namespace, "limited").get("operationState") or {}
    message = str(state.get("message") or "")
    return message if user in message and "forbidden" in message.lower() else None


async def test_a_sync_runs_as_the_projects_service_account_and_fails_where_it_may_not_write(
    crds, kube, full_namespace, tmp_path
):
    ns = full_namespace
    user = f"system:serviceaccount:{ns}:deployer"
    bodies: list[dict[str, Any]] = [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "deployer"}},
        role(ns, ["configmaps"]),
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": "deployer", "namespace": ns},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "Role",
                "name": "deployer",
            },
            "subjects": [{"kind": "ServiceAccount", "name": "deployer", "namespace": ns}],
        },
        {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "AppProject",
            "metadata": {"name": "limited", "namespace": ns},
            "spec": {
                "sourceRepos": ["*"],
                "destinations": [{"server": "*", "namespace": ns}],
                "destinationServiceAccounts": [
                    {
                        "server": "https://kubernetes.default.svc",
                        "namespace": ns,
                        "defaultServiceAccount": "deployer",
                    }
                ],
            },
        },
    ]
    for body in bodies:
        body["metadata"].setdefault("namespace", ns)
        tetherenv.create(kube, body)
    repo = tetherenv.serve_repo(tmp_path / "git", {"app/all.yaml": OBJECTS})
    try:
        app = tetherenv.application(
            "limited",
            ns,
            repo.url,
            "app",
            ns,
            syncPolicy={
                "automated": {},
                "retry": {"limit": -1, "backoff": {"duration": "1s", "maxDuration": "2s"}},
            },
        )
        app["spec"]["project"] = "limited"
        tetherenv.create(kube, app)
        async with tetherenv.running_controller(crds.kubeconfig, ns, tmp_path / "cache"):
            message = await tetherenv.eventually(
                lambda: refused_as(kube, ns, user), 60, f"a write refused to {user}"
            )
            assert "services" in message
            # Checked before anything was written: the permitted object waits too.
            assert not tetherenv.exists(kube, ConfigMap, "settings", ns)
            assert not tetherenv.exists(kube, Service, "web", ns)

            # Granted the rest, the account completes the sync on the next retry.
            from lightkube.resources.rbac_authorization_v1 import Role

            kube.replace(Role.from_dict(role(ns, ["configmaps", "services"])))
            await tetherenv.eventually(
                lambda: tetherenv.synced_healthy(kube, ns, "limited"), 60, "Synced as deployer"
            )
            assert tetherenv.exists(kube, Service, "web", ns)
    finally:
        repo.server.stop()
