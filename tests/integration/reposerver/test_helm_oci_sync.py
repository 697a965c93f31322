"""An app whose chart is in a private OCI registry syncs with a repository Secret's credentials.

In the controller's own process and through a repo-server (which gets the credentials with each
render request); a wrong password is a ComparisonError naming the registry; no password shows in
any status, Event, log or cache either way.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from lightkube.resources.core_v1 import ConfigMap, Event

from tests.support import chartrepos, reposerver, tetherenv

pytestmark = [pytest.mark.tools, pytest.mark.timeout(240)]


@pytest.fixture
def registry(tmp_path) -> Iterator[chartrepos.OciRegistry]:
    started = chartrepos.start_registry(tmp_path / "registry")
    try:
        started.push(chartrepos.package(tmp_path, tmp_path / "packages", "web", "1.4.0"))
        yield started
    finally:
        started.stop()


def oci_app(name: str, namespace: str, repo_url: str) -> dict[str, Any]:
    app = tetherenv.application(name, namespace, "", "", namespace, syncPolicy={"automated": {}})
    app["spec"]["source"] = {"repoURL": repo_url, "chart": "web", "targetRevision": "1.4.0"}
    return app


def comparison_error(kube: Any, namespace: str, name: str) -> str | None:
    conditions = tetherenv.app_status(kube, namespace, name).get("conditions") or []
    for condition in conditions:
        if condition.get("type") == "ComparisonError":
            return str(condition.get("message", ""))
    return None


@pytest.mark.parametrize("where", ["controller", "repo-server"])
async def test_a_chart_from_a_private_oci_registry_syncs_and_its_password_shows_nowhere(
    minimal_crds, namespace, tmp_path, registry, caplog, where
):
    caplog.set_level(logging.DEBUG)
    name = f"oci-{where}"  # tracking is by app name: the other run's objects are not this one's
    server = None
    overrides: dict[str, Any] = {"allow_local_repos": True}
    if where == "repo-server":
        server = reposerver.repo_server(tmp_path / "repo-server", "--allow-local-repos")
        overrides = {"repo_server": server.url, "repo_server_token_file": str(server.token_file)}
    kube = tetherenv.client(minimal_crds.kubeconfig)
    secret = chartrepos.repository_secret(
        "oci-charts",
        f"{registry.host}/charts",
        password=registry.password,
        namespace=namespace,
        extra={"enableOCI": "true", "insecureOCIForceHttp": "true"},
    )
    wrong = "wrong-" + registry.password[::-1]
    # The same registry under another path, with a Secret whose password is wrong.
    wrong_secret = chartrepos.repository_secret(
        "oci-wrong",
        f"oci://{registry.host}/other",
        password=wrong,
        namespace=namespace,
        extra={"insecureOCIForceHttp": "true"},
    )
    try:
        tetherenv.create(kube, secret)
        tetherenv.create(kube, wrong_secret)
        tetherenv.create(kube, oci_app(name, namespace, f"{registry.host}/charts"))
        tetherenv.create(kube, oci_app(f"{name}-wrong", namespace, f"oci://{registry.host}/other"))
        async with tetherenv.running_controller(
            minimal_crds.kubeconfig, namespace, tmp_path / "cache", **overrides
        ):
            try:
                await tetherenv.eventually(
                    lambda: tetherenv.synced_healthy(kube, namespace, name), 90, "Synced/Healthy"
                )
            except AssertionError:
                status = tetherenv.app_status(kube, namespace, name)
                tail = server.output()[-2000:] if server is not None else ""
                raise AssertionError(f"{status}\n{tail}") from None
            message = await tetherenv.eventually(
                lambda: comparison_error(kube, namespace, f"{name}-wrong"), 60, "ComparisonError"
            )
        assert f"helm pull web from oci://{registry.host}/other" in message
        assert wrong not in message and registry.password not in message
        cm = tetherenv.get(kube, ConfigMap, f"{name}-web", namespace)
        assert cm["data"] == {"chart": "web", "version": "1.4.0"}
        texts = {
            "the controller's log": caplog.text,
            "the Applications": json.dumps(
                [
                    tetherenv.get(kube, tetherenv.Application, app, namespace)
                    for app in (name, f"{name}-wrong")
                ]
            ),
            "the namespace's Events": json.dumps(
                [e.to_dict() for e in kube.list(Event, namespace=namespace)]
            ),
            "the caches": "".join(
                p.read_text(errors="replace")
                for p in tmp_path.rglob("*")
                if p.is_file()
                and p.stat().st_size < 1_000_000
                and "registry" not in p.parts  # the registry's own files
            ),
        }
        if server is not None:
            texts["the repo-server's output"] = server.output()
            assert "POST /v1/render" in server.output()
        for what, text in texts.items():
            assert registry.password not in text, f"the password shows in {what}"
            assert wrong not in text, f"the wrong password shows in {what}"
    finally:
        if server is not None:
            server.stop()
        kube.close()
