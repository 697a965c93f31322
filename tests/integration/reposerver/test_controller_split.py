"""A controller rendering through a separate repo-server: syncs, private repos, and an outage."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

import pytest
from lightkube.resources.core_v1 import ConfigMap, Event

from tests.support import gitservers, reposerver, tetherenv

pytestmark = pytest.mark.timeout(180)

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: %s}\ndata: {version: '%d'}\n"


def split_settings(server: reposerver.RepoServer) -> dict[str, Any]:
    """``running_controller`` overrides: render through ``server``."""
    return {"repo_server": server.url, "repo_server_token_file": str(server.token_file)}


async def test_an_app_synced_through_a_repo_server_becomes_synced_and_healthy(
    minimal_crds, namespace, tmp_path
):
    repo = tetherenv.serve_repo(tmp_path / "git", {"app/cm.yaml": CM % ("settings", 1)})
    server = reposerver.repo_server(tmp_path / "repo-server")
    kube = tetherenv.client(minimal_crds.kubeconfig)
    try:
        tetherenv.create(
            kube,
            tetherenv.application(
                "split", namespace, repo.url, "app", namespace, syncPolicy={"automated": {}}
            ),
        )
        async with tetherenv.running_controller(
            minimal_crds.kubeconfig, namespace, tmp_path / "cache", **split_settings(server)
        ):
            status = await tetherenv.eventually(
                lambda: tetherenv.synced_healthy(kube, namespace, "split"), 60, "Synced/Healthy"
            )
        assert status["sync"]["revision"] == repo.seed.shas["initial"]
        assert tetherenv.get(kube, ConfigMap, "settings", namespace)["data"] == {"version": "1"}
        # The controller fetched and rendered nothing itself; the repo-server did.
        assert not (tmp_path / "cache" / "git").exists()
        assert any((tmp_path / "repo-server" / "cache" / "git" / "repos").iterdir())
        assert '"POST /v1/render HTTP/1.1" 200' in server.output()
    finally:
        server.stop()
        repo.server.stop()
        kube.close()


async def test_a_private_repository_syncs_through_the_repo_server_and_its_password_shows_nowhere(
    minimal_crds, namespace, tmp_path, caplog
):
    caplog.set_level(logging.DEBUG)
    work = tmp_path / "work"
    work.mkdir()
    gitservers.git("init", "--quiet", "-b", "main", str(work))
    seed = gitservers.SeedRepo(work)
    seed.commit("c1", {"app/cm.yaml": CM % ("private-settings", 1)})
    git = gitservers.HttpGitServer(tmp_path / "served", tmp_path / "http")
    seed.publish(tmp_path / "served" / "private" / "apps.git")
    git.start()
    url = git.url("private/apps.git")
    server = reposerver.repo_server(tmp_path / "repo-server")
    kube = tetherenv.client(minimal_crds.kubeconfig)
    try:
        tetherenv.create(
            kube,
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {
                    "name": "private-repo",
                    "namespace": namespace,
                    "labels": {"argocd.argoproj.io/secret-type": "repository"},
                },
                "stringData": {
                    "type": "git",
                    "url": url,
                    "username": git.username,
                    "password": git.password,
                },
            },
        )
        tetherenv.create(
            kube,
            tetherenv.application(
                "private", namespace, url, "app", namespace, syncPolicy={"automated": {}}
            ),
        )
        async with tetherenv.running_controller(
            minimal_crds.kubeconfig, namespace, tmp_path / "cache", **split_settings(server)
        ):
            await tetherenv.eventually(
                lambda: tetherenv.synced_healthy(kube, namespace, "private"), 60, "Synced/Healthy"
            )
        cm = tetherenv.get(kube, ConfigMap, "private-settings", namespace)
        assert cm["data"] == {"version": "1"}
        app = json.dumps(tetherenv.get(kube, tetherenv.Application, "private", namespace))
        events = json.dumps([e.to_dict() for e in kube.list(Event, namespace=namespace)])
        cached = "".join(
            p.read_text(errors="replace")
            for p in (tmp_path / "repo-server" / "cache").rglob("*")
            if p.is_file() and p.stat().st_size < 1_000_000
        )
        assert "POST /v1/render" in server.output()
        assert f"{namespace}/private" in caplog.text  # the controller's log was captured
        for where, text in {
            "the repo-server's stdout and stderr": server.output(),
            "the controller's log": caplog.text,
            "the Application": app,
            "the namespace's Events": events,
            "the repo-server's cache": cached,
        }.items():
            assert git.password not in text, f"the password shows in {where}"
    finally:
        server.stop()
        git.stop()
        kube.close()


async def test_a_stopped_repo_server_leaves_an_error_condition_and_every_object_in_place(
    minimal_crds, namespace, tmp_path
):
    files = {"app/a.yaml": CM % ("a", 1), "app/b.yaml": CM % ("b", 1)}
    repo = tetherenv.serve_repo(tmp_path / "git", files)
    server = reposerver.repo_server(tmp_path / "repo-server")
    kube = tetherenv.client(minimal_crds.kubeconfig)
    automated = {"automated": {"prune": True, "selfHeal": True}}

    def condition() -> str:
        status = tetherenv.app_status(kube, namespace, "outage")
        messages = [
            c.get("message", "")
            for c in status.get("conditions") or []
            if c.get("type") == "ComparisonError"
        ]
        return messages[0] if messages else ""

    try:
        tetherenv.create(
            kube,
            tetherenv.application(
                "outage", namespace, repo.url, "app", namespace, syncPolicy=automated
            ),
        )
        async with tetherenv.running_controller(
            minimal_crds.kubeconfig, namespace, tmp_path / "cache", **split_settings(server)
        ):
            await tetherenv.eventually(
                lambda: tetherenv.synced_healthy(kube, namespace, "outage"), 60, "Synced/Healthy"
            )
            before = tetherenv.resource_versions(kube, ConfigMap, namespace)
            assert {"a", "b"} <= set(before)

            server.stop()
            message = await tetherenv.eventually(condition, 30, "a ComparisonError")
            assert f"repo-server {server.url}" in message
            assert server.token not in message
            # Several resyncs (every 3 s) with the desired state unknown: nothing written, nothing
            # pruned, and the last good sync status stands.
            await _consistently(
                lambda: tetherenv.resource_versions(kube, ConfigMap, namespace) == before, 10
            )
            assert tetherenv.app_status(kube, namespace, "outage")["sync"]["status"] == "Synced"

            server.restart()
            sha = repo.commit({"app/a.yaml": CM % ("a", 2)})

            def recovered() -> bool:
                status = tetherenv.synced_healthy(kube, namespace, "outage")
                return status is not None and status["sync"]["revision"] == sha and not condition()

            await tetherenv.eventually(recovered, 60, "synced at the new commit, condition gone")
        assert tetherenv.get(kube, ConfigMap, "a", namespace)["data"] == {"version": "2"}
        assert tetherenv.get(kube, ConfigMap, "b", namespace)["data"] == {"version": "1"}
    finally:
        server.stop()
        repo.server.stop()
        kube.close()


async def _consistently(check, seconds: float) -> None:
    """``check`` holds at every look for ``seconds`` (a negative property: nothing happens)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert await asyncio.to_thread(check), "it changed"
        await asyncio.sleep(0.5)
