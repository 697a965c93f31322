"""argocd-cm's compare options and masked annotations, against a real control plane."""

from __future__ import annotations

import contextlib

import pytest
import yaml
from lightkube import ApiError, codecs
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
