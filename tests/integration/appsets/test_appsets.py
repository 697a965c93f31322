"""ApplicationSets under a running controller: generators, policies and the fail-safe rules.

Each test creates a set in its own namespace (the controller's control-plane namespace), with
its Git repository served on loopback, and watches the Applications the set owns.
"""

from __future__ import annotations

import asyncio
import copy
from pathlib import Path
from typing import Any

import pytest
from lightkube.generic_resource import create_namespaced_resource
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import Secret
from lightkube.types import PatchType

from tests.support import tetherenv

pytestmark = pytest.mark.timeout(240)

ApplicationSet = create_namespaced_resource(
    "argoproj.io", "v1alpha1", "ApplicationSet", "applicationsets"
)
CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: %s}\ndata: {k: v}\n"
REFRESH = "argocd.argoproj.io/application-set-refresh"


def template(repo_url: str, name: str, path: str, namespace: str) -> dict[str, Any]:
    return {
        "metadata": {"name": name},
        "spec": {
            "project": "default",
            "source": {"repoURL": repo_url, "targetRevision": "main", "path": path},
            "destination": {"server": "https://kubernetes.default.svc", "namespace": namespace},
        },
    }


def appset(name: str, namespace: str, spec: dict[str, Any], **annotations: str) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": namespace}
    if annotations:
        meta["annotations"] = annotations
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "ApplicationSet",
        "metadata": meta,
        "spec": spec,
    }


def owned(kube: Any, namespace: str, set_name: str) -> dict[str, dict[str, Any]]:
    found = {}
    for app in kube.list(tetherenv.Application, namespace=namespace):
        body = app if isinstance(app, dict) else app.to_dict()
        refs = body["metadata"].get("ownerReferences") or []
        if any(r.get("kind") == "ApplicationSet" and r.get("name") == set_name for r in refs):
            found[body["metadata"]["name"]] = body
    return found


def names(kube: Any, namespace: str, set_name: str) -> set[str]:
    return set(owned(kube, namespace, set_name))


def condition(kube: Any, namespace: str, name: str, kind: str) -> dict[str, Any]:
    body = tetherenv.get(kube, ApplicationSet, name, namespace)
    for c in (body.get("status") or {}).get("conditions") or []:
        if c.get("type") == kind:
            return dict(c)
    return {}


def patch_set(kube: Any, namespace: str, name: str, patch: dict[str, Any]) -> None:
    kube.patch(ApplicationSet, name, patch, namespace=namespace, patch_type=PatchType.MERGE)


def refresh(kube: Any, namespace: str, name: str) -> None:
    patch_set(kube, namespace, name, {"metadata": {"annotations": {REFRESH: "true"}}})


def list_spec(repo_url: str, namespace: str, *elements: str, **extra: Any) -> dict[str, Any]:
    return {
        "generators": [{"list": {"elements": [{"app": e} for e in elements]}}],
        "template": template(repo_url, "{{app}}", "{{app}}", namespace),
        **extra,
    }


FILES = {f"{n}/cm.yaml": CM % n for n in ("a", "b", "c")}


async def test_a_list_set_creates_its_apps_and_deletes_one_removed_from_the_list(
    crds, full_namespace, tmp_path: Path
):
    ns = full_namespace
    kube = tetherenv.client(crds.kubeconfig)
    repo = tetherenv.serve_repo(tmp_path / "git", FILES)
    try:
        tetherenv.create(kube, appset("fleet", ns, list_spec(repo.url, ns, "a", "b", "c")))
        async with tetherenv.running_controller(crds.kubeconfig, ns, tmp_path / "cache"):
            await tetherenv.eventually(lambda: names(kube, ns, "fleet") == {"a", "b", "c"}, 60)
            up = await tetherenv.eventually(
                lambda: condition(kube, ns, "fleet", "ResourcesUpToDate").get("status") == "True",
                30,
            )
            assert up
            a = owned(kube, ns, "fleet")["a"]
            assert a["metadata"]["ownerReferences"][0]["controller"] is True
            assert a["spec"]["source"]["path"] == "a"
            elements = [{"app": "a"}, {"app": "b"}]
            patch_set(
                kube, ns, "fleet", {"spec": {"generators": [{"list": {"elements": elements}}]}}
            )
            await tetherenv.eventually(lambda: names(kube, ns, "fleet") == {"a", "b"}, 60)
            # An empty list is suspect: nothing is deleted until the set says it is meant.
            patch_set(kube, ns, "fleet", {"spec": {"generators": [{"list": {"elements": []}}]}})
            withheld = await tetherenv.eventually(
                lambda: (
                    condition(kube, ns, "fleet", "ResourcesUpToDate").get("reason")
                    == "DeletionWithheld"
                ),
                30,
            )
            assert withheld
            assert names(kube, ns, "fleet") == {"a", "b"}
            patch_set(
                kube, ns, "fleet", {"metadata": {"annotations": {"tether.dev/allow-empty": "true"}}}
            )
            await tetherenv.eventually(lambda: names(kube, ns, "fleet") == set(), 60)
    finally:
        repo.server.stop()
        kube.close()


async def test_create_only_never_deletes_nor_updates(crds, full_namespace, tmp_path: Path):
    ns = full_namespace
    kube = tetherenv.client(crds.kubeconfig)
    repo = tetherenv.serve_repo(tmp_path / "git", FILES)
    policy = {"syncPolicy": {"applicationsSync": "create-only"}}
    try:
        tetherenv.create(kube, appset("fleet", ns, list_spec(repo.url, ns, "a", "b", **policy)))
        async with tetherenv.running_controller(crds.kubeconfig, ns, tmp_path / "cache"):
            await tetherenv.eventually(lambda: names(kube, ns, "fleet") == {"a", "b"}, 60)
            spec = list_spec(repo.url, ns, "a", "c", **policy)
            spec["template"]["spec"]["source"]["targetRevision"] = "HEAD"
            patch_set(kube, ns, "fleet", {"spec": spec})
            await tetherenv.eventually(lambda: names(kube, ns, "fleet") == {"a", "b", "c"}, 60)
            await tetherenv.eventually(
                lambda: condition(kube, ns, "fleet", "ResourcesUpToDate"), 30
            )
            apps = owned(kube, ns, "fleet")
            assert apps["a"]["spec"]["source"]["targetRevision"] == "main"  # not updated
            assert apps["c"]["spec"]["source"]["targetRevision"] == "HEAD"  # created as now
    finally:
        repo.server.stop()
        kube.close()


def git_spec(repo_url: str, namespace: str) -> dict[str, Any]:
    directories = [{"path": "apps/*"}, {"path": "apps/skip", "exclude": True}]
    return {
        "goTemplate": True,
        "goTemplateOptions": ["missingkey=error"],
        "generators": [
            {"git": {"repoURL": repo_url, "revision": "main", "directories": directories}}
        ],
        "template": template(repo_url, "{{.path.basename | lower}}", "{{.path.path}}", namespace),
    }


GIT_FILES = {f"apps/{n}/cm.yaml": CM % n.lower() for n in ("one", "Two", "skip")}


async def test_a_git_directories_set_survives_git_down_and_its_paths_going(
    crds, full_namespace, tmp_path: Path
):
    ns = full_namespace
    kube = tetherenv.client(crds.kubeconfig)
    repo = tetherenv.serve_repo(tmp_path / "git", GIT_FILES)
    try:
        tetherenv.create(kube, appset("dirs", ns, git_spec(repo.url, ns)))
        async with tetherenv.running_controller(crds.kubeconfig, ns, tmp_path / "cache"):
            await tetherenv.eventually(lambda: names(kube, ns, "dirs") == {"one", "two"}, 60)
            assert owned(kube, ns, "dirs")["two"]["spec"]["source"]["path"] == "apps/Two"
            # Git down: the pass fails, says so, and deletes nothing.
            repo.server.stop()
            await asyncio.sleep(2)  # past the revision cache's TTL: every pass asks Git now
            refresh(kube, ns, "dirs")
            error = await tetherenv.eventually(
                lambda: (
                    condition(kube, ns, "dirs", "ErrorOccurred").get("status") == "True"
                    and condition(kube, ns, "dirs", "ErrorOccurred")
                ),
                60,
            )
            assert error["reason"] == "ApplicationGenerationFromParamsError"
            assert condition(kube, ns, "dirs", "ParametersGenerated")["status"] == "False"
            assert names(kube, ns, "dirs") == {"one", "two"}
            # Back up, then every directory gone: an empty result deletes nothing either.
            repo.server.start()
            repo.commit(dict.fromkeys(GIT_FILES) | {"README": "moved"})
            refresh(kube, ns, "dirs")
            withheld = await tetherenv.eventually(
                lambda: (
                    condition(kube, ns, "dirs", "ResourcesUpToDate").get("reason")
                    == "DeletionWithheld"
                ),
                60,
            )
            assert withheld
            assert condition(kube, ns, "dirs", "ErrorOccurred")["status"] == "False"
            assert names(kube, ns, "dirs") == {"one", "two"}
    finally:
        repo.server.stop()
        kube.close()


async def test_a_bad_template_changes_nothing_and_says_why(crds, full_namespace, tmp_path: Path):
    ns = full_namespace
    kube = tetherenv.client(crds.kubeconfig)
    repo = tetherenv.serve_repo(tmp_path / "git", GIT_FILES)
    try:
        tetherenv.create(kube, appset("dirs", ns, git_spec(repo.url, ns)))
        async with tetherenv.running_controller(crds.kubeconfig, ns, tmp_path / "cache"):
            await tetherenv.eventually(lambda: names(kube, ns, "dirs") == {"one", "two"}, 60)
            before = owned(kube, ns, "dirs")
            spec = git_spec(repo.url, ns)
            spec["template"]["metadata"]["name"] = "{{.path.nothere}}"
            spec["template"]["spec"]["source"]["path"] = "{{.path.basename}}-x"
            patch_set(kube, ns, "dirs", {"spec": spec})
            error = await tetherenv.eventually(
                lambda: (
                    condition(kube, ns, "dirs", "ErrorOccurred").get("reason")
                    == "RenderTemplateParamsError"
                    and condition(kube, ns, "dirs", "ErrorOccurred")
                ),
                60,
            )
            assert "nothere" in error["message"]
            after = owned(kube, ns, "dirs")
            assert {n: a["spec"] for n, a in after.items()} == {
                n: a["spec"] for n, a in before.items()
            }
    finally:
        repo.server.stop()
        kube.close()


def cluster_secret(namespace: str, name: str, env: str) -> Secret:
    return Secret(
        metadata=ObjectMeta(
            name=f"cluster-{name}",
            namespace=namespace,
            labels={"argocd.argoproj.io/secret-type": "cluster", "env": env},
        ),
        stringData={"name": name, "server": f"https://{name}.invalid:6443", "config": "{}"},
    )


async def test_a_clusters_set_with_a_selector_generates_only_the_selected_clusters(
    crds, full_namespace, tmp_path: Path
):
    ns = full_namespace
    kube = tetherenv.client(crds.kubeconfig)
    repo = tetherenv.serve_repo(tmp_path / "git", FILES)
    for name, env in (("prod-eu", "prod"), ("prod-us", "prod"), ("dev", "dev")):
        kube.create(cluster_secret(ns, name, env))
    tpl = template(repo.url, "web-{{name}}", "a", ns)
    tpl["spec"]["destination"] = {"server": "{{server}}", "namespace": "{{values.target}}"}
    spec = {
        "generators": [
            {
                "clusters": {
                    "selector": {"matchLabels": {"env": "prod"}},
                    "values": {"target": "web-{{metadata.labels.env}}"},
                }
            }
        ],
        "template": tpl,
    }
    try:
        tetherenv.create(kube, appset("web", ns, spec))
        async with tetherenv.running_controller(crds.kubeconfig, ns, tmp_path / "cache"):
            await tetherenv.eventually(
                lambda: names(kube, ns, "web") == {"web-prod-eu", "web-prod-us"}, 60
            )
            app = owned(kube, ns, "web")["web-prod-eu"]
            assert app["spec"]["destination"] == {
                "server": "https://prod-eu.invalid:6443",
                "namespace": "web-prod",
            }
    finally:
        repo.server.stop()
        kube.close()


async def test_a_matrix_of_git_directories_and_a_list_generates_every_pair(
    crds, full_namespace, tmp_path: Path
):
    ns = full_namespace
    kube = tetherenv.client(crds.kubeconfig)
    repo = tetherenv.serve_repo(tmp_path / "git", GIT_FILES)
    git = copy.deepcopy(git_spec(repo.url, ns)["generators"][0])
    spec = {
        "goTemplate": True,
        "generators": [
            {
                "matrix": {
                    "generators": [
                        git,
                        {"list": {"elements": [{"env": "dev"}, {"env": "prod"}]}},
                    ]
                }
            }
        ],
        "template": template(repo.url, "{{.path.basename | lower}}-{{.env}}", "{{.path.path}}", ns),
    }
    try:
        tetherenv.create(kube, appset("grid", ns, spec))
        async with tetherenv.running_controller(crds.kubeconfig, ns, tmp_path / "cache"):
            await tetherenv.eventually(
                lambda: names(kube, ns, "grid") == {"one-dev", "one-prod", "two-dev", "two-prod"},
                60,
            )
    finally:
        repo.server.stop()
        kube.close()


PATCH = """
{{- if eq .env "prod" }}
spec:
  project: not-this-one
  syncPolicy:
    automated: {}
{{- end }}
"""


async def test_a_template_patch_applies_per_app_and_preserving_sets_add_no_finalizer(
    crds, full_namespace, tmp_path: Path
):
    ns = full_namespace
    kube = tetherenv.client(crds.kubeconfig)
    repo = tetherenv.serve_repo(tmp_path / "git", FILES)
    tpl = template(repo.url, "web-{{.env}}", "a", ns)
    tpl["metadata"]["finalizers"] = ["resources-finalizer.argocd.argoproj.io"]
    spec = {
        "goTemplate": True,
        "generators": [{"list": {"elements": [{"env": "dev"}, {"env": "prod"}]}}],
        "template": tpl,
        "templatePatch": PATCH,
        "syncPolicy": {"preserveResourcesOnDeletion": True},
    }
    try:
        tetherenv.create(kube, appset("web", ns, spec))
        async with tetherenv.running_controller(crds.kubeconfig, ns, tmp_path / "cache"):
            await tetherenv.eventually(
                lambda: names(kube, ns, "web") == {"web-dev", "web-prod"}, 60
            )
            apps = owned(kube, ns, "web")
            assert apps["web-prod"]["spec"]["syncPolicy"] == {"automated": {}}
            assert apps["web-prod"]["spec"]["project"] == "default"
            assert "syncPolicy" not in apps["web-dev"]["spec"]
            assert not apps["web-dev"]["metadata"].get("finalizers")
    finally:
        repo.server.stop()
        kube.close()
