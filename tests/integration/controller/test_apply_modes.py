"""Apply modes: objects ``kubectl apply`` wrote client-side, and ``ServerSideApply=false``.

Found: ``ServerSideApply=false`` still applied server-side, and ``ClientSideApplyMigration`` was
never carried out, so fields a client-side ``kubectl apply`` (or Argo CD syncing client-side) had
set stayed owned by it after tether took the object over: removed from Git, they stayed in the
cluster while the app showed Synced.
"""

from __future__ import annotations

import shutil
import subprocess
from typing import Any

import pytest
import yaml
from lightkube import ApiError
from lightkube.resources.apps_v1 import Deployment
from lightkube.resources.core_v1 import ConfigMap

from tests.support import tetherenv
from tether.core.diff import tracking
from tether.settings import FIELD_MANAGER

pytestmark = pytest.mark.timeout(180)

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def config_map(namespace: str, *, dropped: bool = False) -> dict[str, Any]:
    labels = {"team": "ml"} if dropped else {"team": "ml", "tier": "web"}
    data = {"a": "1", "c": "3"} if dropped else {"a": "1", "b": "2", "c": "3"}
    metadata = {"name": "settings", "namespace": namespace, "labels": labels}
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, "data": data}


def deployment(namespace: str, *, dropped: bool = False) -> dict[str, Any]:
    env = [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]
    container = {"name": "web", "image": "nginx:1.27", "env": env[:1] if dropped else env}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": namespace},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [container]},
            },
        },
    }


def manifests(namespace: str, *, dropped: bool = False) -> dict[str, str]:
    return {
        "app/cm.yaml": yaml.safe_dump(config_map(namespace, dropped=dropped)),
        "app/deploy.yaml": yaml.safe_dump(deployment(namespace, dropped=dropped)),
    }


def kubectl_apply(kubeconfig: Any, *objects: dict[str, Any], manager: str = "") -> None:
    """``kubectl apply`` as a person runs it: client-side, the default."""
    kubectl = shutil.which("kubectl")
    assert kubectl, "kubectl is needed for this test (installed by hack/system-deps.sh)"
    as_manager = [f"--field-manager={manager}"] if manager else []
    done = subprocess.run(
        [kubectl, "--kubeconfig", str(kubeconfig), "apply", *as_manager, "-f", "-"],
        input=yaml.safe_dump_all(list(objects)),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def live(kube: Any, namespace: str) -> tuple[dict[str, Any], dict[str, Any]]:
    cm = tetherenv.get(kube, ConfigMap, "settings", namespace)
    deploy = tetherenv.get(kube, Deployment, "web", namespace)
    return cm, deploy


def dropped_everywhere(kube: Any, namespace: str) -> bool:
    """Whether the data key, the label and the env var Git dropped are gone from the cluster."""
    cm, deploy = live(kube, namespace)
    [container] = deploy["spec"]["template"]["spec"]["containers"]
    env = [e["name"] for e in container.get("env") or []]
    labels = cm["metadata"].get("labels") or {}
    return "b" not in cm["data"] and "tier" not in labels and env == ["A"]


def managers(obj: dict[str, Any]) -> set[tuple[str, str]]:
    return {(e["manager"], e["operation"]) for e in obj["metadata"].get("managedFields") or []}


async def test_fields_kubectl_applied_client_side_are_removed_once_git_drops_them(
    crds, kube, full_namespace, tmp_path
):
    ns = full_namespace
    kubectl_apply(crds.kubeconfig, config_map(ns), deployment(ns))
    cm, _ = live(kube, ns)
    assert ("kubectl-client-side-apply", "Update") in managers(cm)
    repo = tetherenv.serve_repo(tmp_path / "git", manifests(ns))
    try:
        app = tetherenv.application("taken", ns, repo.url, "app", ns, syncPolicy={"automated": {}})
        tetherenv.create(kube, app)
        async with tetherenv.running_controller(crds.kubeconfig, ns, tmp_path / "cache"):
            await tetherenv.eventually(lambda: tetherenv.synced_healthy(kube, ns, "taken"), 90)
            for obj in live(kube, ns):
                # Migrated: tether's apply entry owns what kubectl set; no client entry is left.
                assert ("kubectl-client-side-apply", "Update") not in managers(obj)
                assert (FIELD_MANAGER, "Apply") in managers(obj)
            repo.commit(manifests(ns, dropped=True))
            await tetherenv.eventually(
                lambda: dropped_everywhere(kube, ns), 90, "the dropped fields removed"
            )
            await tetherenv.eventually(lambda: tetherenv.synced_healthy(kube, ns, "taken"), 90)
    finally:
        repo.server.stop()


async def test_what_argo_cd_applied_client_side_loses_the_fields_git_dropped_before_the_takeover(
    crds, kube, full_namespace, tmp_path
):
    ns = full_namespace
    # As Argo CD syncing client-side left them: its manager, its tracking, all of them Synced.
    synced_by_argo_cd = tracking.stamp([config_map(ns), deployment(ns)], "argo", ns)
    kubectl_apply(crds.kubeconfig, *synced_by_argo_cd, manager="argocd-controller")
    repo = tetherenv.serve_repo(tmp_path / "git", manifests(ns, dropped=True))
    try:
        app = tetherenv.application("argo", ns, repo.url, "app", ns, syncPolicy={"automated": {}})
        tetherenv.create(kube, app)
        async with tetherenv.running_controller(crds.kubeconfig, ns, tmp_path / "cache"):
            await tetherenv.eventually(
                lambda: dropped_everywhere(kube, ns), 90, "the dropped fields removed"
            )
            await tetherenv.eventually(lambda: tetherenv.synced_healthy(kube, ns, "argo"), 90)
            for obj in live(kube, ns):
                assert ("argocd-controller", "Update") not in managers(obj)
    finally:
        repo.server.stop()


async def test_server_side_apply_false_writes_client_side_and_removes_what_git_drops(
    crds, kube, full_namespace, tmp_path
):
    ns = full_namespace
    repo = tetherenv.serve_repo(tmp_path / "git", manifests(ns))
    try:
        policy = {"automated": {}, "syncOptions": ["ServerSideApply=false"]}
        tetherenv.create(
            kube, tetherenv.application("csa", ns, repo.url, "app", ns, syncPolicy=policy)
        )
        async with tetherenv.running_controller(crds.kubeconfig, ns, tmp_path / "cache"):
            await tetherenv.eventually(lambda: tetherenv.synced_healthy(kube, ns, "csa"), 90)
            for obj in live(kube, ns):
                assert LAST_APPLIED in obj["metadata"]["annotations"]
                ours = {op for manager, op in managers(obj) if manager == FIELD_MANAGER}
                assert ours == {"Update"}, "written client-side, never applied server-side"
            repo.commit(manifests(ns, dropped=True))
            await tetherenv.eventually(
                lambda: dropped_everywhere(kube, ns), 90, "the dropped fields removed"
            )
            await tetherenv.eventually(lambda: tetherenv.synced_healthy(kube, ns, "csa"), 90)
            cm, _ = live(kube, ns)
            assert '"b"' not in cm["metadata"]["annotations"][LAST_APPLIED]
    finally:
        repo.server.stop()


async def test_force_true_replaces_an_object_whose_immutable_field_changed(
    crds, kube, full_namespace, tmp_path
):
    ns = full_namespace

    def frozen(value: str) -> str:
        cm = config_map(ns)
        cm["metadata"]["annotations"] = {"argocd.argoproj.io/sync-options": "Force=true"}
        return yaml.safe_dump({**cm, "data": {"a": value}, "immutable": True})

    repo = tetherenv.serve_repo(tmp_path / "git", {"app/cm.yaml": frozen("1")})
    try:
        app = tetherenv.application("forced", ns, repo.url, "app", ns, syncPolicy={"automated": {}})
        tetherenv.create(kube, app)
        async with tetherenv.running_controller(crds.kubeconfig, ns, tmp_path / "cache"):
            await tetherenv.eventually(lambda: tetherenv.synced_healthy(kube, ns, "forced"), 90)
            uid = tetherenv.get(kube, ConfigMap, "settings", ns)["metadata"]["uid"]
            repo.commit({"app/cm.yaml": frozen("2")})

            def replaced() -> bool:
                try:
                    cm = tetherenv.get(kube, ConfigMap, "settings", ns)
                except ApiError as err:  # between the delete and the create
                    assert err.status.code == 404
                    return False
                return bool(cm["metadata"]["uid"] != uid and cm["data"] == {"a": "2"})

            await tetherenv.eventually(replaced, 90, "deleted and created again")
            await tetherenv.eventually(lambda: tetherenv.synced_healthy(kube, ns, "forced"), 90)
    finally:
        repo.server.stop()
