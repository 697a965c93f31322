"""Fixtures of the API tests: the real app over a real socket, on a real control plane.

The test's namespace is the control-plane namespace, so Argo CD's settings objects
(``argocd-cm``, ``argocd-secret``, ``argocd-rbac-cm``) are the test's own.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import datetime
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import Any

import httpx2
import pytest
import uvicorn

from tests.support import tetherenv
from tether import bootstrap
from tether.api import server
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
