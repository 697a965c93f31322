"""argocd-cm's compare options and masked annotations, against a real control plane."""

from __future__ import annotations

import contextlib
from typing import Any

import httpx2
import pytest
import yaml
from lightkube import ApiError, Client, codecs
from lightkube.generic_resource import create_namespaced_resource
from lightkube.resources.apiextensions_v1 import CustomResourceDefinition
from lightkube.resources.rbac_authorization_v1 import ClusterRole
from lightkube.types import PatchType

from tests.integration.controller.test_system_config import set_config
from tests.support import tetherenv
from tether import bootstrap
from tether.core.app import policy
from tether.model.application import parse_application
from tether.model.resources import ResourceKey
from tether.settings import Settings

pytestmark = pytest.mark.timeout(180)


def aggregated_role(name: str, label: str) -> str:
    return yaml.safe_dump(
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": name},
            "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {label: "true"}}]},
            # What Git says; the aggregation controller replaces it with the selected roles'.
            "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]}],
        }
    )


async def test_ignore_aggregated_roles_stops_an_aggregated_role_showing_as_drift(
    crds, full_namespace, tmp_path
):
    ns = full_namespace
    name = f"{ns}-aggregate"
    try:
        async with tetherenv.app_under_controller(
            crds.kubeconfig,
            ns,
            tmp_path,
            "roles",
            {"app/role.yaml": aggregated_role(name, f"example.com/aggregate-{ns[-6:]}")},
            resync_s=900,
        ) as (kube, _):
            tetherenv.start_sync(kube, ns, "roles")
            await tetherenv.eventually(
                lambda: tetherenv.finished_app(kube, ns, "roles"), 60, "the sync finished"
            )
            # Write the rules as the aggregation controller would (it fills them from the
            # selected roles, in its own time on a fresh control plane): drift.
            kube.patch(
                ClusterRole,
                name,
                {"rules": [{"apiGroups": [""], "resources": ["secrets"], "verbs": ["list"]}]},
                patch_type=PatchType.MERGE,
                field_manager="clusterrole-aggregation-controller",
            )
            await tetherenv.eventually(
                lambda: tetherenv.sync_status(kube, ns, "roles") == "OutOfSync",
                60,
                "the aggregated rules differ from Git's",
            )
            set_config(kube, ns, {"resource.compareoptions": "ignoreAggregatedRoles: true\n"})
            await tetherenv.eventually(
                lambda: tetherenv.sync_status(kube, ns, "roles") == "Synced",
                30,
                "Synced once aggregated rules are ignored",
            )
    finally:
        kube = tetherenv.client(crds.kubeconfig)
        with contextlib.suppress(ApiError):
            kube.delete(ClusterRole, name)
        kube.close()


CM = """apiVersion: v1
kind: ConfigMap
metadata: {name: tokened, annotations: {example.com/token: %s}}
data: {a: "1"}
"""


async def test_sensitive_annotations_are_masked_in_diffs(crds, full_namespace, tmp_path):
    ns = full_namespace
    repo = tetherenv.serve_repo(tmp_path / "git", {"app/cm.yaml": CM % "s3cr3t-in-git"})
    kube = tetherenv.client(crds.kubeconfig)
    try:
        set_config(kube, ns, {"resource.sensitive.mask.annotations": "example.com/token"})
        tetherenv.create(kube, tetherenv.application("masked", ns, repo.url, "app", ns))
        # Someone else's copy is live, with another token: the diff shows the annotation.
        live = yaml.safe_load(CM % "s3cr3t-live")
        live["metadata"]["namespace"] = ns
        kube.create(codecs.from_dict(live))
        settings = Settings(
            app_namespaces=(ns,), freeze_gc=False, allow_local_repos=True, cache_dir=str(tmp_path)
        )
        async with await bootstrap.runtime(
            settings, kubeconfig=crds.kubeconfig, system_config=True
        ) as rt:
            await rt.live.wait_synced(60)
            app = parse_application(tetherenv.get(kube, tetherenv.Application, "masked", ns))
            project = policy.project_or_default("default", None, ns)
            assert project is not None
            comparison = await rt.comparer.compare(app, project)
        [state] = [
            r for r in comparison.resources if r.key == ResourceKey("", "ConfigMap", ns, "tokened")
        ]
        text = state.difference.text
        assert state.difference.modified
        assert "s3cr3t" not in text
        assert "example.com/token" in text
    finally:
        repo.server.stop()
        kube.close()


def widget_crd(group: str) -> str:
    return yaml.safe_dump(
        {
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": f"widgets.{group}"},
            "spec": {
                "group": group,
                "scope": "Namespaced",
                "names": {"plural": "widgets", "singular": "widget", "kind": "Widget"},
                # No status subresource: status is part of the object, and Git can write it.
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
    )


async def test_ignore_resource_status_field_decides_whether_a_changed_status_is_drift(
    crds, full_namespace, tmp_path
):
    ns = full_namespace
    group = f"{ns}.example.com"
    widget = {
        "apiVersion": f"{group}/v1",
        "kind": "Widget",
        "metadata": {"name": "w"},
        "spec": {"size": 1},
        "status": {"phase": "Ready"},
    }
    kube = tetherenv.client(crds.kubeconfig)
    kube.create(codecs.from_dict(yaml.safe_load(widget_crd(group))))
    try:
        widgets = create_namespaced_resource(group, "v1", "Widget", "widgets")
        await tetherenv.eventually(lambda: _served(kube, widgets, ns), 30, "Widgets are served")
        async with tetherenv.app_under_controller(
            crds.kubeconfig,
            ns,
            tmp_path,
            "widgets",
            {"app/widget.yaml": yaml.safe_dump(widget)},
            resync_s=900,
        ) as (app_kube, _):
            tetherenv.start_sync(app_kube, ns, "widgets")
            await tetherenv.eventually(
                lambda: tetherenv.finished_app(app_kube, ns, "widgets"), 60, "the sync finished"
            )
            # A controller of the Widget writes its status: not drift while status is ignored.
            app_kube.patch(
                widgets,
                "w",
                {"status": {"phase": "Changed"}},
                namespace=ns,
                patch_type=PatchType.MERGE,
                field_manager="widget-controller",
            )
            set_config(app_kube, ns, status_rule("all"))
            await tetherenv.eventually(
                lambda: tetherenv.sync_status(app_kube, ns, "widgets") == "Synced",
                30,
                "Synced while every status is ignored",
            )
            set_config(app_kube, ns, status_rule("none"))
            await tetherenv.eventually(
                lambda: tetherenv.sync_status(app_kube, ns, "widgets") == "OutOfSync",
                30,
                "OutOfSync once status is compared: Git says Ready",
            )
            set_config(app_kube, ns, status_rule("crd"))
            await tetherenv.eventually(
                lambda: tetherenv.sync_status(app_kube, ns, "widgets") == "OutOfSync",
                30,
                "still compared with crd: only CustomResourceDefinitions lose status",
            )
    finally:
        with contextlib.suppress(ApiError):
            kube.delete(CustomResourceDefinition, f"widgets.{group}")
        kube.close()


def _served(kube: Client, widgets: Any, namespace: str) -> bool:
    try:
        list(kube.list(widgets, namespace=namespace))
    except httpx2.HTTPStatusError:  # 404 until the CRD is established
        return False
    return True


def status_rule(value: str) -> dict[str, str]:
    return {"resource.compareoptions": f"ignoreResourceStatusField: {value}\n"}
