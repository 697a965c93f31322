"""tether's own install, rendered by the real kustomize and helm: the chart and the kustomize
overlays make the same objects, the chart lints, and every flag the Deployments pass exists."""

from __future__ import annotations

import base64
import subprocess
import sys
from collections.abc import Sequence
from typing import Any

import pytest
import yaml
from lightkube.resources.apps_v1 import Deployment
from lightkube.resources.core_v1 import Secret

from tests.support import install, tetherenv
from tether import bootstrap
from tether.adapters.devcluster import tools

CHART = install.DEPLOY / "chart"

ONLY_IN_KUSTOMIZE = {("Namespace", "tether")}
"""Helm installs into a namespace it is given (``--create-namespace``), not one it renders."""

ONLY_IN_CHART = {("Secret", "tether-repo-server-token")}
"""Helm can make a random token and keep it on upgrades (``lookup``); kustomize cannot without
committing one, so docs/install.md has you create it."""


def helm(*args: str) -> str:
    return subprocess.run(
        [tools.path_of("helm"), *args], check=True, capture_output=True, text=True, timeout=120
    ).stdout


def chart(*values: str) -> list[dict[str, Any]]:
    sets = [arg for value in values for arg in ("--set", value)]
    out = helm("template", "tether", str(CHART), "-n", "tether", "--include-crds", *sets)
    return [doc for doc in yaml.safe_load_all(out) if doc]


def names(objects: Sequence[dict[str, Any]]) -> set[tuple[str, str]]:
    return {(o["kind"], o["metadata"]["name"]) for o in objects}


def by_name(objects: Sequence[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o for o in objects if o["kind"] == kind}


@pytest.mark.parametrize(("overlay", "namespaced"), [("cluster", "false"), ("namespaced", "true")])
def test_the_chart_renders_the_same_objects_as_the_kustomize_overlay(
    overlay: str, namespaced: str
) -> None:
    built = install.build(install.DEPLOY / "install" / overlay)
    templated = chart(f"rbac.namespaced={namespaced}")
    assert names(built) - ONLY_IN_KUSTOMIZE == names(templated) - ONLY_IN_CHART
    assert names(built) >= ONLY_IN_KUSTOMIZE and names(templated) >= ONLY_IN_CHART
    # The same Pods (images, flags, probes, hardening, volumes) and the same permissions.
    for name, deployment in by_name(built, "Deployment").items():
        ours = deployment["spec"]["template"]["spec"]
        theirs = by_name(templated, "Deployment")[name]["spec"]["template"]["spec"]
        assert ours == theirs, name
    for kind in ("Role", "ClusterRole"):
        for name, role in by_name(built, kind).items():
            assert role["rules"] == by_name(templated, kind)[name]["rules"], name


def test_the_default_install_is_the_cluster_wide_one() -> None:
    default = install.build(install.DEPLOY / "install")
    assert names(default) == names(install.build(install.DEPLOY / "install" / "cluster"))


@pytest.mark.parametrize("values", [[], ["rbac.namespaced=true", "repoServer.remoteHosts={a.b}"]])
def test_the_chart_lints(values: list[str]) -> None:
    sets = [arg for value in values for arg in ("--set", value)]
    assert "0 chart(s) failed" in helm("lint", str(CHART), *sets)


def test_the_repo_server_holds_no_kubernetes_credential() -> None:
    built = install.build(install.DEPLOY / "install")
    pod = by_name(built, "Deployment")["tether-repo-server"]["spec"]["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False
    account = by_name(built, "ServiceAccount")["tether-repo-server"]
    assert account["automountServiceAccountToken"] is False
    subjects = [
        subject
        for kind in ("RoleBinding", "ClusterRoleBinding")
        for binding in by_name(built, kind).values()
        for subject in binding["subjects"]
    ]
    bound = {s["name"] for s in subjects}
    assert "tether-controller" in bound
    assert "tether-repo-server" not in bound


def test_every_flag_the_deployments_pass_is_one_the_command_has() -> None:
    built = install.build(install.DEPLOY / "install")
    for name, deployment in by_name(built, "Deployment").items():
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        command, *flags = container["args"]
        usage = subprocess.run(
            [sys.executable, "-m", "tether", command, "--help"],
            check=True,
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout
        for flag in flags:
            assert flag.split("=", 1)[0] in usage, f"{name}: {flag}"


def test_the_chart_installs_and_keeps_its_repo_server_token_across_an_upgrade(
    kube_cluster: bootstrap.DevCluster, namespace: str
) -> None:
    release = ["tether", str(CHART), "-n", namespace, "--kubeconfig", str(kube_cluster.kubeconfig)]
    namespaced = ["--set", "rbac.namespaced=true"]  # cluster-scoped names other tests use stay free
    helm("install", *release, *namespaced)
    try:
        with tetherenv.client(kube_cluster.kubeconfig) as kube:
            first = tetherenv.get(kube, Secret, "tether-repo-server-token", namespace)["data"]
            assert len(base64.b64decode(first["token"])) == 48
            helm("upgrade", *release, *namespaced, "--set", "server.replicas=2")
            after = tetherenv.get(kube, Secret, "tether-repo-server-token", namespace)["data"]
            assert after == first
            server = tetherenv.get(kube, Deployment, "tether-server", namespace)
            assert server["spec"]["replicas"] == 2
    finally:
        helm("uninstall", "tether", "-n", namespace, "--kubeconfig", str(kube_cluster.kubeconfig))
