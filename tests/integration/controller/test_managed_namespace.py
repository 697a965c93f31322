"""``managedNamespaceMetadata``: the destination namespace of ``CreateNamespace=true`` carries
the app's labels and annotations, and follows their changes, whether tether created it or not."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from lightkube import ApiError
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import ConfigMap, Namespace

from tests.support import tetherenv

pytestmark = pytest.mark.timeout(90)

CM = """apiVersion: v1
kind: ConfigMap
metadata: {name: settings}
data: {a: "1"}
"""

SSA_MARK = {"argocd.argoproj.io/sync-options": "ServerSideApply=true"}
"""What Argo CD's managed namespace carries besides the app's annotations."""


def metadata_of(kube, name: str) -> tuple[dict[str, str], dict[str, str]]:
    """The namespace's labels and annotations (the API server's own label left out)."""
    ns = kube.get(Namespace, name)
    labels = dict(ns.metadata.labels or {})
    labels.pop("kubernetes.io/metadata.name", None)
    return labels, dict(ns.metadata.annotations or {})


def managed_app(name: str, namespace: str, repo_url: str, dest: str, **metadata: Any) -> Any:
    body = tetherenv.application(
        name,
        namespace,
        repo_url,
        "app",
        dest,
        syncPolicy={
            "automated": {},
            "syncOptions": ["CreateNamespace=true"],
            "managedNamespaceMetadata": metadata,
        },
    )
    body["metadata"]["finalizers"] = ["resources-finalizer.argocd.argoproj.io"]
    return body


def app_exists(kube, namespace: str, name: str) -> bool:
    return any(
        a.metadata.name == name for a in kube.list(tetherenv.Application, namespace=namespace)
    )


def delete_namespace(kube, name: str) -> None:
    with contextlib.suppress(ApiError):
        kube.delete(Namespace, name)


async def test_the_namespace_create_namespace_makes_carries_the_managed_metadata_and_follows_it(
    crds, full_namespace, tmp_path
):
    ns, dest = full_namespace, f"{full_namespace}-made"
    repo = tetherenv.serve_repo(tmp_path / "git", {"app/cm.yaml": CM})
    kube = tetherenv.client(crds.kubeconfig)
    labels = {"istio-injection": "enabled", "pod-security.kubernetes.io/enforce": "baseline"}
    try:
        tetherenv.create(
            kube,
            managed_app("kf", ns, repo.url, dest, labels=labels, annotations={"owner": "ml"}),
        )
        async with tetherenv.running_controller(
            crds.kubeconfig, ns, tmp_path / "cache", resync_s=300.0
        ):
            status = await tetherenv.eventually(
                lambda: tetherenv.synced_healthy(kube, ns, "kf"), 60, "Synced and Healthy"
            )
            assert metadata_of(kube, dest) == (labels, {"owner": "ml", **SSA_MARK})
            assert status["operationState"]["syncResult"]["managedNamespaceMetadata"] == {
                "labels": labels,
                "annotations": {"owner": "ml"},
            }
            # As in Argo CD, the namespace is none of the app's resources.
            assert [r["kind"] for r in status["resources"]] == ["ConfigMap"]

            # One label changed, one removed, the annotations dropped: the app is OutOfSync
            # (no resource differs), and the next sync brings the namespace in step.
            changed = {"istio-injection": "disabled"}
            tetherenv.patch_app(
                kube,
                ns,
                "kf",
                {"spec": {"syncPolicy": {"managedNamespaceMetadata": {
                    "labels": {**changed, "pod-security.kubernetes.io/enforce": None},
                    "annotations": None,
                }}}},
            )  # fmt: skip
            await tetherenv.eventually(
                lambda: tetherenv.sync_status(kube, ns, "kf") == "OutOfSync", 30, "OutOfSync"
            )
            tetherenv.start_sync(kube, ns, "kf")
            app = await tetherenv.eventually(
                lambda: tetherenv.finished_app(kube, ns, "kf"), 30, "the sync finished"
            )
            assert app["status"]["operationState"]["phase"] == "Succeeded"
            assert metadata_of(kube, dest) == (changed, SSA_MARK)
            await tetherenv.eventually(
                lambda: tetherenv.synced_healthy(kube, ns, "kf"), 30, "Synced again"
            )

            # Deleting the app deletes its resources, never the namespace it created.
            kube.delete(tetherenv.Application, "kf", namespace=ns)
            await tetherenv.eventually(
                lambda: not app_exists(kube, ns, "kf"), 30, "the app deleted"
            )
        with pytest.raises(ApiError):
            kube.get(ConfigMap, "settings", namespace=dest)
        namespace = kube.get(Namespace, dest)
        assert namespace.status is not None and namespace.status.phase == "Active"
    finally:
        delete_namespace(kube, dest)
        repo.server.stop()
        kube.close()


async def test_an_existing_namespace_gets_the_managed_metadata_and_keeps_everyone_elses(
    crds, full_namespace, tmp_path
):
    ns, dest = full_namespace, f"{full_namespace}-there"
    repo = tetherenv.serve_repo(tmp_path / "git", {"app/cm.yaml": CM})
    kube = tetherenv.client(crds.kubeconfig)
    theirs = {"team": "data"}
    kube.create(Namespace(metadata=ObjectMeta(name=dest, labels=theirs, annotations=theirs)))
    try:
        tetherenv.create(
            kube, managed_app("there", ns, repo.url, dest, labels={"istio-injection": "enabled"})
        )
        async with tetherenv.running_controller(
            crds.kubeconfig, ns, tmp_path / "cache", resync_s=300.0
        ):
            await tetherenv.eventually(
                lambda: tetherenv.synced_healthy(kube, ns, "there"), 60, "Synced and Healthy"
            )
            assert metadata_of(kube, dest) == (
                {**theirs, "istio-injection": "enabled"},
                {**theirs, **SSA_MARK},
            )
            tetherenv.patch_app(
                kube,
                ns,
                "there",
                {"spec": {"syncPolicy": {"managedNamespaceMetadata": {"labels": None}}}},
            )
            await tetherenv.eventually(
                lambda: tetherenv.sync_status(kube, ns, "there") == "OutOfSync", 30, "OutOfSync"
            )
            tetherenv.start_sync(kube, ns, "there")
            await tetherenv.eventually(
                lambda: tetherenv.finished_app(kube, ns, "there"), 30, "the sync finished"
            )
            # Only what the app had put there goes.
            assert metadata_of(kube, dest) == (theirs, {**theirs, **SSA_MARK})
    finally:
        delete_namespace(kube, dest)
        repo.server.stop()
        kube.close()
