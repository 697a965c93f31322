"""Fixtures of the API tests: the real app over a real socket, on a real control plane.

The test's namespace is the control-plane namespace, so Argo CD's settings objects
(``argocd-cm``, ``argocd-secret``, ``argocd-rbac-cm``) are the test's own. ``api`` and
``start_api`` serve every router with the real authority; ``api_server`` serves the Application
routes (see its docstring).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import datetime
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

import httpx2
import pytest
import uvicorn
from fastapi import FastAPI

from tests.support import tetherenv
from tests.support.apiauth import TestAuthority
from tether import bootstrap
from tether.api import server
from tether.api.app import create_app
from tether.api.context import ApiContext
from tether.api.routes import app_operations, app_stream, applications
from tether.services.appindex import AppIndex
from tether.settings import Settings


@pytest.fixture(scope="session")
def api_crds(kube_cluster: bootstrap.DevCluster) -> bootstrap.DevCluster:
    """The minimal control plane with tether's CRDs (AppProject among them)."""
    tetherenv.install_crds(kube_cluster.kubeconfig)
    return kube_cluster


@dataclasses.dataclass
class Clock:
    """The wall clock plus an offset a test moves forward."""

    offset: datetime.timedelta = datetime.timedelta()

    def __call__(self) -> datetime.datetime:
        return bootstrap.now() + self.offset


@dataclasses.dataclass
class Api:
    """One API server replica serving on 127.0.0.1."""

    url: str
    runtime: bootstrap.Runtime

    def client(self, token: str = "") -> httpx2.AsyncClient:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx2.AsyncClient(base_url=self.url, headers=headers, timeout=30.0)

    async def login(self, username: str, password: str) -> str:
        async with self.client() as http:
            answer = await http.post(
                "/api/v1/session", json={"username": username, "password": password}
            )
        assert answer.status_code == 200, answer.text
        token: str = answer.json()["token"]
        return token

    async def get(self, kind: str, name: str) -> dict[str, Any] | None:
        ns = self.runtime.settings.control_plane_namespace
        return await self.runtime.cluster.get("v1", kind, name, ns)

    async def secret_field(self, name: str, key: str) -> str:
        secret = await self.get("Secret", name)
        assert secret is not None
        return base64.b64decode(secret["data"][key]).decode()

    async def admin_password(self) -> str:
        return await self.secret_field("argocd-initial-admin-secret", "password")

    async def put(self, kind: str, name: str, data: Mapping[str, str]) -> None:
        """Create or replace a ConfigMap or Secret of the control-plane namespace."""
        ns = self.runtime.settings.control_plane_namespace
        body: dict[str, Any] = {
            "apiVersion": "v1",
            "kind": kind,
            "metadata": {"name": name, "namespace": ns},
            ("stringData" if kind == "Secret" else "data"): dict(data),
        }
        await self.runtime.cluster.apply(body, field_manager="test")


StartApi = Callable[..., Awaitable[Api]]


@pytest.fixture
async def start_api(api_crds: bootstrap.DevCluster, namespace: str) -> AsyncIterator[StartApi]:
    """Start API replicas over ``namespace``; each has its own runtime, cache and socket."""
    async with contextlib.AsyncExitStack() as stack:

        async def start(clock: Clock | None = None) -> Api:
            settings = Settings(app_namespaces=(namespace,))
            rt = await bootstrap.runtime(
                settings,
                kubeconfig=api_crds.kubeconfig,
                start_cache=False,
                clock=clock or Clock(),
            )
            stack.push_async_callback(rt.close)
            ctx = await server.build_context(rt)
            app = server.build_app(ctx)
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            sock.listen(64)
            port = sock.getsockname()[1]
            config = uvicorn.Config(app, log_config=None, lifespan="off", server_header=False)
            uv = uvicorn.Server(config)
            # Several replicas share this process: none of them takes over its signals.
            uv.capture_signals = contextlib.nullcontext  # type: ignore[method-assign,assignment]
            task = asyncio.create_task(uv.serve(sockets=[sock]))

            async def stop() -> None:
                uv.should_exit = True
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.wait_for(task, 10)
                sock.close()

            stack.push_async_callback(stop)
            while not uv.started:
                if task.done():
                    task.result()
                await asyncio.sleep(0.01)
            return Api(url=f"http://127.0.0.1:{port}", runtime=rt)

        yield start


@pytest.fixture
async def api(start_api: StartApi) -> Api:
    """One replica."""
    return await start_api()


ROUTERS = (applications.router, app_operations.router, app_stream.router)


@dataclasses.dataclass
class ApiServer:
    """A running API server and what a test needs to talk to it."""

    url: str
    authority: TestAuthority
    namespace: str
    runtime: bootstrap.Runtime
    kubeconfig: Path
    app: FastAPI

    def index(self) -> AppIndex:
        """The server's Application index."""
        index: AppIndex = self.app.state.app_index
        return index

    def client(self, token: str | None = None, **kwargs: Any) -> httpx2.AsyncClient:
        """A client of the server, authenticated by ``token`` when given."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx2.AsyncClient(base_url=self.url, headers=headers, timeout=30, **kwargs)

    def user(self, subject: str, *grants: tuple[str, str]) -> str:
        """A token for ``subject``, granted each ``(action, object glob)`` on applications."""
        for action, obj in grants:
            self.authority.grant(subject, "applications", action, obj)
        return self.authority.login(subject)


@contextlib.asynccontextmanager
async def serving(kubeconfig: Path, namespace: str, cache_dir: Path) -> AsyncIterator[ApiServer]:
    """The API's Application routes for apps in ``namespace``, until the block ends."""
    settings = Settings(
        app_namespaces=(namespace,),
        leader_election=False,
        freeze_gc=False,
        cache_dir=str(cache_dir),
    )
    runtime = await bootstrap.runtime(settings, kubeconfig=kubeconfig, start_cache=False)
    authority = TestAuthority()
    app = create_app(ApiContext(runtime, authority), ROUTERS)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_config=None, lifespan="on", timeout_graceful_shutdown=1)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.02)
        url = f"http://127.0.0.1:{port}"
        yield ApiServer(url, authority, namespace, runtime, kubeconfig, app)
    finally:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(task, 10)
        sock.close()
        await runtime.close()


@pytest.fixture
async def api_server(
    crds: bootstrap.DevCluster, full_namespace: str, tmp_path: Path
) -> AsyncIterator[ApiServer]:
    """The API server for this test's namespace."""
    async with serving(crds.kubeconfig, full_namespace, tmp_path / "api-cache") as server:
        yield server
