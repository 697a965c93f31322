"""Git webhooks against a real control plane: verified pushes refresh exactly the apps they move.

The route runs in the API's ASGI app (served by uvicorn on 127.0.0.1:0 where the controller must
see the result); payloads are built here and signed as each host signs them.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import socket
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx2
import pytest
import uvicorn
from fastapi import FastAPI
from lightkube.resources.core_v1 import ConfigMap

from tests.support import tetherenv
from tether import bootstrap
from tether.api import context, errors
from tether.api.app import create_app
from tether.api.context import ApiContext
from tether.api.routes import webhook
from tether.core.auth.identity import Caller
from tether.services.webhooks import WebhookService
from tether.settings import Settings

SECRET = "webhook-canary-5ecret"
GENERATE_PATHS = "argocd.argoproj.io/manifest-generate-paths"

CM = """apiVersion: v1
kind: ConfigMap
metadata: {name: %s}
data: {color: %s}
"""


class NoSessions:
    """An Authority under which nobody logs in: webhooks need no session."""

    async def authenticate(self, token: str | None) -> Caller:
        raise errors.unauthenticated()

    async def allowed(self, caller: Caller, resource: str, action: str, obj: str) -> bool:
        return False

    async def judges_by_project(self, resource: str, project: str) -> bool:
        return False


@pytest.fixture(scope="module")
def minimal_crds(kube_cluster: bootstrap.DevCluster) -> bootstrap.DevCluster:
    """The minimal control plane with tether's CRDs installed as a user would."""
    tetherenv.install_crds(kube_cluster.kubeconfig)
    return kube_cluster


@pytest.fixture
def kube(minimal_crds: bootstrap.DevCluster) -> Iterator[Any]:
    client = tetherenv.client(minimal_crds.kubeconfig)
    try:
        yield client
    finally:
        client.close()


def configure(kube: Any, namespace: str, secret: Mapping[str, str], cm: Mapping[str, str]) -> None:
    """``argocd-secret`` and ``argocd-cm`` in the control-plane namespace."""
    meta = {"namespace": namespace}
    tetherenv.create(
        kube,
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "argocd-secret", **meta},
            # As Argo CD's: the signing key is 32 random bytes, no text; webhooks read around it.
            "data": {"server.secretkey": base64.b64encode(b"\xff\xfe" + bytes(range(30))).decode()},
            "stringData": dict(secret),
        },
    )
    tetherenv.create(
        kube,
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "argocd-cm", **meta},
            "data": dict(cm),
        },
    )


def github_push(url: str, ref: str = "refs/heads/main", files: tuple[str, ...] = ()) -> bytes:
    commits = [{"id": "1", "added": [], "modified": list(files), "removed": []}]
    payload = {
        "ref": ref,
        "repository": {"html_url": url, "default_branch": "main"},
        "commits": commits,
    }
    return json.dumps(payload).encode()


def github_headers(body: bytes, key: str | None = SECRET, event: str = "push") -> dict[str, str]:
    headers = {"X-GitHub-Event": event, "Content-Type": "application/json"}
    if key is not None:
        digest = hmac.new(key.encode(), body, hashlib.sha256).hexdigest()
        headers["X-Hub-Signature-256"] = f"sha256={digest}"
    return headers


def annotations_of(kube: Any, namespace: str, name: str) -> dict[str, str]:
    app = tetherenv.get(kube, tetherenv.Application, name, namespace)
    return dict(app["metadata"].get("annotations") or {})


@contextlib.asynccontextmanager
async def api_runtime(kubeconfig: Path, namespace: str, tmp: Path) -> AsyncIterator[Any]:
    settings = Settings(
        app_namespaces=(namespace,),
        cache_dir=str(tmp / "api-cache"),
        leader_election=False,
        freeze_gc=False,
    )
    async with await bootstrap.runtime(settings, kubeconfig=kubeconfig, start_cache=False) as rt:
        yield rt


def api_app(runtime: Any) -> FastAPI:
    return create_app(ApiContext(runtime, authority=NoSessions()), [webhook.router])


@contextlib.asynccontextmanager
async def served(app: FastAPI) -> AsyncIterator[str]:
    """``app`` served by uvicorn on 127.0.0.1:0 (its lifespan runs the webhook service)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, lifespan="on"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()
                raise AssertionError("uvicorn stopped before it started")
            await asyncio.sleep(0.02)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        await task
        sock.close()


@contextlib.asynccontextmanager
async def asgi_client(
    runtime: Any, **service_options: Any
) -> AsyncIterator[tuple[httpx2.AsyncClient, WebhookService]]:
    """A client of the API app in-process, with a service the test configures (and runs)."""
    app = api_app(runtime)
    service = WebhookService(
        runtime.cluster,
        app_namespaces=runtime.settings.app_namespaces,
        field_manager=context.FIELD_MANAGER,
        **service_options,
    )
    webhook.attach(app, service)
    transport = httpx2.ASGITransport(app=app)
    async with service, httpx2.AsyncClient(transport=transport, base_url="http://api") as client:
        yield client, service


async def test_a_request_no_git_host_claims_is_an_unknown_webhook_event(
    minimal_crds, namespace, tmp_path
):
    async with (
        api_runtime(minimal_crds.kubeconfig, namespace, tmp_path) as rt,
        asgi_client(rt) as (client, _),
    ):
        response = await client.post("/api/webhook", content=b"{}")
        assert response.status_code == 400
        assert response.json() == {
            "error": "Unknown webhook event",
            "code": 3,
            "message": "Unknown webhook event",
            "details": [],
        }
        assert (await client.get("/api/webhook")).status_code == 405
        assert (await client.put("/api/webhook", content=b"{}")).status_code == 405


async def test_a_ping_is_answered_and_a_malformed_push_is_a_bad_request(
    minimal_crds, namespace, tmp_path
):
    async with (
        api_runtime(minimal_crds.kubeconfig, namespace, tmp_path) as rt,
        asgi_client(rt) as (client, _),
    ):
        ping = await client.post(
            "/api/webhook", content=b"{}", headers=github_headers(b"{}", None, "ping")
        )
        assert ping.status_code == 200
        assert ping.json() == {"provider": "github", "event": "ping"}
        garbled = await client.post(
            "/api/webhook", content=b"{not json", headers=github_headers(b"{not json", None)
        )
        assert garbled.status_code == 400
        assert garbled.json()["message"] == "the payload is not valid JSON"


async def test_a_push_refreshes_exactly_the_apps_of_the_served_namespaces_it_concerns(
    minimal_crds, kube, namespace, tmp_path
):
    repo = "https://git.example.com/org/repo"
    apps = {
        "moved": tetherenv.application("moved", namespace, repo + ".git", "app", namespace),
        "ssh-spelling": tetherenv.application(
            "ssh-spelling", namespace, "git@git.example.com:org/repo", "app", namespace
        ),
        "other-branch": tetherenv.application("other-branch", namespace, repo, "app", namespace),
        "other-repo": tetherenv.application("other-repo", namespace, repo + "-2", "app", namespace),
        "unwatched": tetherenv.application("unwatched", namespace, repo, "docs", namespace),
    }
    apps["other-branch"]["spec"]["source"]["targetRevision"] = "release"
    apps["unwatched"]["metadata"]["annotations"] = {GENERATE_PATHS: "."}
    for app in apps.values():
        tetherenv.create(kube, app)
    configure(kube, namespace, {"webhook.github.secret": SECRET}, {})
    with tetherenv.fresh_namespace(minimal_crds.kubeconfig, "unserved") as unserved:
        tetherenv.create(kube, tetherenv.application("elsewhere", unserved, repo, "app", unserved))
        async with (
            api_runtime(minimal_crds.kubeconfig, namespace, tmp_path) as rt,
            asgi_client(rt) as (client, service),
        ):
            body = github_push(repo, files=("app/deploy.yaml",))
            response = await client.post("/api/webhook", content=body, headers=github_headers(body))
            assert response.status_code == 200
            assert response.json() == {"provider": "github", "event": "push"}
            await service.idle()
        refreshed = {
            name
            for name in apps
            if annotations_of(kube, namespace, name).get("argocd.argoproj.io/refresh") == "normal"
        }
        assert refreshed == {"moved", "ssh-spelling"}
        assert "argocd.argoproj.io/refresh" not in annotations_of(kube, unserved, "elsewhere")


async def test_a_push_without_the_secrets_signature_is_refused_and_refreshes_nothing(
    minimal_crds, kube, namespace, tmp_path
):
    repo = "https://git.example.com/org/repo"
    tetherenv.create(kube, tetherenv.application("app", namespace, repo, "app", namespace))
    configure(kube, namespace, {"webhook.github.secret": SECRET}, {})
    async with (
        api_runtime(minimal_crds.kubeconfig, namespace, tmp_path) as rt,
        asgi_client(rt) as (client, service),
    ):
        body = github_push(repo)
        for headers in (github_headers(body, "not-the-secret"), github_headers(body, None)):
            response = await client.post("/api/webhook", content=body, headers=headers)
            assert response.status_code == 401
            assert response.json()["message"] == "webhook signature verification failed"
        await service.idle()
    assert "argocd.argoproj.io/refresh" not in annotations_of(kube, namespace, "app")


async def test_requests_beyond_the_rate_or_the_queue_are_refused(minimal_crds, namespace, tmp_path):
    body = github_push("https://git.example.com/org/repo")
    async with api_runtime(minimal_crds.kubeconfig, namespace, tmp_path) as rt:
        async with asgi_client(rt, rate=0.001, burst=2) as (client, _):
            statuses = [
                (await client.post("/api/webhook", content=b"{}")).status_code for _ in range(3)
            ]
            assert statuses == [400, 400, 429]
        async with asgi_client(rt, workers=0, queue_size=1) as (client, _):
            headers = github_headers(body, None)
            statuses = [
                (await client.post("/api/webhook", content=body, headers=headers)).status_code
                for _ in range(2)
            ]
            assert statuses == [200, 503]


async def test_an_oversize_body_is_refused_while_it_is_read(
    minimal_crds, kube, namespace, tmp_path
):
    configure(kube, namespace, {}, {"webhook.maxPayloadSizeMB": "1"})
    padding = b" " * (1 << 20)
    body = github_push("https://git.example.com/org/repo") + padding

    async def chunks() -> AsyncIterator[bytes]:
        size = 64 << 10
        for start in range(0, len(body), size):
            yield body[start : start + size]

    async with (
        api_runtime(minimal_crds.kubeconfig, namespace, tmp_path) as rt,
        served(api_app(rt)) as url,
        httpx2.AsyncClient(base_url=url) as client,
    ):
        headers = github_headers(body, None)
        declared = await client.post("/api/webhook", content=body, headers=headers)
        assert declared.status_code == 400
        assert declared.json()["message"] == "the payload is larger than 1 MiB"
        streamed = await client.post("/api/webhook", content=chunks(), headers=headers)
        assert streamed.status_code == 400
        within = body[: (1 << 20) - 1]  # the same push with a little less padding
        fits = await client.post("/api/webhook", content=within, headers=headers)
        assert fits.status_code == 200


@pytest.mark.timeout(180)
async def test_a_signed_push_makes_the_controller_sync_the_new_commit_within_seconds(
    minimal_crds, kube, namespace, tmp_path
):
    repo = tetherenv.serve_repo(
        tmp_path / "git",
        {"app/cm.yaml": CM % ("hooked", "blue"), "other/cm.yaml": CM % ("unwatched", "red")},
    )
    try:
        automated: dict[str, Any] = {"syncPolicy": {"automated": {}}}
        tetherenv.create(
            kube,
            tetherenv.application("hooked", namespace, repo.url, "app", namespace, **automated),
        )
        unwatched = tetherenv.application(
            "unwatched", namespace, repo.url, "other", namespace, **automated
        )
        unwatched["metadata"]["annotations"] = {GENERATE_PATHS: "."}
        tetherenv.create(kube, unwatched)
        configure(
            kube, namespace, {"webhook.github.secret": SECRET}, {"webhook.maxPayloadSizeMB": "1"}
        )
        first = repo.seed.shas["initial"]

        def revision(name: str) -> str:
            status = tetherenv.synced_healthy(kube, namespace, name) or {}
            return str(status.get("sync", {}).get("revision") or "")

        async with tetherenv.running_controller(
            minimal_crds.kubeconfig, namespace, tmp_path / "cache", resync_s=3600
        ):
            await tetherenv.eventually(
                lambda: revision("hooked") == revision("unwatched") == first, 60, "both synced"
            )
            second = repo.commit({"app/cm.yaml": CM % ("hooked", "green")})
            # The Git host's page for the repository: another scheme and no .git, same host/path.
            web_url = repo.url.replace("git://", "http://").removesuffix(".git")
            body = github_push(web_url, files=("app/cm.yaml",))
            async with (
                api_runtime(minimal_crds.kubeconfig, namespace, tmp_path) as rt,
                served(api_app(rt)) as url,
                httpx2.AsyncClient(base_url=url) as client,
            ):
                forged = await client.post(
                    "/api/webhook", content=body, headers=github_headers(body, "guessed")
                )
                assert forged.status_code == 401
                oversize = body + b" " * (1 << 20)
                refused = await client.post(
                    "/api/webhook", content=oversize, headers=github_headers(oversize)
                )
                assert refused.status_code == 400
                await asyncio.sleep(3)
                assert revision("hooked") == first, "refused requests refreshed nothing"

                posted = time.monotonic()
                accepted = await client.post(
                    "/api/webhook", content=body, headers=github_headers(body)
                )
                assert accepted.status_code == 200
                await tetherenv.eventually(lambda: revision("hooked") == second, 30, "new commit")
                assert time.monotonic() - posted < 20
            cm = tetherenv.get(kube, ConfigMap, "hooked", namespace)
            assert cm["data"] == {"color": "green"}
            await asyncio.sleep(2)
            assert revision("unwatched") == first, "its watched paths did not change"
    finally:
        repo.server.stop()


async def test_a_gitlab_token_is_checked_before_the_body_is_read(
    minimal_crds, kube, namespace, tmp_path
):
    configure(kube, namespace, {"webhook.gitlab.secret": SECRET}, {"webhook.maxPayloadSizeMB": "1"})
    oversize = b"{" + b" " * (2 << 20) + b"}"
    async with (
        api_runtime(minimal_crds.kubeconfig, namespace, tmp_path) as rt,
        asgi_client(rt) as (client, _),
    ):
        for token in ("guessed", None):
            headers = {"X-Gitlab-Event": "Push Hook"} | ({"X-Gitlab-Token": token} if token else {})
            response = await client.post("/api/webhook", content=oversize, headers=headers)
            assert response.status_code == 401, "refused on its headers, the body never read"
            assert response.json()["message"] == "webhook token verification failed"
        headers = {"X-Gitlab-Event": "Push Hook", "X-Gitlab-Token": SECRET}
        response = await client.post("/api/webhook", content=oversize, headers=headers)
        assert response.status_code == 400
