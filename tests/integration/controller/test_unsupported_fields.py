"""Fields tether does not honour are refused by name, and nothing they would change is done.

The table is ``core/app/compatibility_rows.py``: a refused field set in an Application or its
AppProject is an InvalidSpecError (nothing synced, nothing pruned), one set in an operation ends
it in Error before anything is written, and one that cannot change what is deployed is a warning.
"""

from __future__ import annotations

import asyncio

import pytest
from lightkube.resources.core_v1 import ConfigMap

from tests.support import tetherenv

pytestmark = pytest.mark.timeout(150)

APPS = ("hydrated", "signed", "local", "roled")


def cm(name: str) -> str:
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}}}\ndata: {{a: '1'}}\n"


def project(name: str, namespace: str, **spec: object) -> dict[str, object]:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AppProject",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"sourceRepos": ["*"], "destinations": [{"server": "*", "namespace": "*"}], **spec},
    }


def conditions(kube, namespace: str, name: str, kind: str) -> list[str]:
    found = tetherenv.app_status(kube, namespace, name).get("conditions") or []
    return [c["message"] for c in found if c["type"] == kind]


def config_map_names(kube, namespace: str) -> set[str]:
    return {str(o.metadata.name) for o in kube.list(ConfigMap, namespace=namespace)}


async def test_refused_fields_are_named_and_nothing_they_would_change_is_applied(
    crds, full_namespace, tmp_path
):
    ns = full_namespace
    repo = tetherenv.serve_repo(tmp_path / "git", {f"{app}/cm.yaml": cm(app) for app in APPS})
    kube = tetherenv.client(crds.kubeconfig)
    automated = {"automated": {"prune": True}}
    try:
        tetherenv.create(kube, project("signed", ns, signatureKeys=[{"keyID": "4AEE18F83AFDEB23"}]))
        tetherenv.create(kube, project("roled", ns, roles=[{"name": "ci", "policies": []}]))
        hydrated = tetherenv.application(
            "hydrated", ns, repo.url, "hydrated", ns, syncPolicy=automated
        )
        hydrated["spec"]["sourceHydrator"] = {
            "drySource": {"repoURL": repo.url, "targetRevision": "main", "path": "hydrated"},
            "syncSource": {"targetBranch": "environments/prod", "path": "hydrated"},
        }
        signed = tetherenv.application("signed", ns, repo.url, "signed", ns, syncPolicy=automated)
        signed["spec"]["project"] = "signed"
        roled = tetherenv.application("roled", ns, repo.url, "roled", ns, syncPolicy=automated)
        roled["spec"]["project"] = "roled"
        local = tetherenv.application("local", ns, repo.url, "local", ns)
        for app in (hydrated, signed, roled, local):
            tetherenv.create(kube, app)
        async with tetherenv.running_controller(crds.kubeconfig, ns, tmp_path / "cache"):
            [hydrator] = await tetherenv.eventually(
                lambda: conditions(kube, ns, "hydrated", "InvalidSpecError"), 60, "refused"
            )
            [signature] = await tetherenv.eventually(
                lambda: conditions(kube, ns, "signed", "InvalidSpecError"), 60, "refused"
            )
            # Roles are the API server's to honour: no warning, and the app syncs.
            await tetherenv.eventually(lambda: tetherenv.synced_healthy(kube, ns, "roled"), 60)
            assert conditions(kube, ns, "roled", "UnsupportedFieldWarning") == []

            await tetherenv.eventually(
                lambda: tetherenv.sync_status(kube, ns, "local") == "OutOfSync", 60, "compared"
            )
            tetherenv.start_sync(kube, ns, "local", manifests=[cm("sent-along")])
            app = await tetherenv.eventually(
                lambda: tetherenv.finished_app(kube, ns, "local"), 60, "the operation ended"
            )
            await asyncio.sleep(3)  # an automated sync would have applied by now
        assert hydrator.startswith(
            f"Application {ns}/hydrated: spec.sourceHydrator is not supported"
        )
        assert signature.startswith("AppProject 'signed': spec.signatureKeys is not supported")
        state = app["status"]["operationState"]
        assert state["phase"] == "Error", state
        assert state["message"].startswith(
            f"Application {ns}/local: operation.sync.manifests is not supported"
        )
        assert config_map_names(kube, ns) & {"hydrated", "signed", "local", "sent-along"} == set()
        assert "roled" in config_map_names(kube, ns)
    finally:
        repo.server.stop()
        kube.close()
