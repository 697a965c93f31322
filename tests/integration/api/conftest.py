"""An API server on 127.0.0.1 (port 0) over the real control plane, with the test authority.

``api_server`` serves the Application routes over a runtime whose only served namespace is the
test's own; ``ApiServer.client(token)`` is an ``httpx2`` client sending that bearer token.
The authority is ``tests.support.apiauth.TestAuthority``; swap in the real one with the same
fixture shape once it exists.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
import uvicorn
from fastapi import FastAPI

from tests.support.apiauth import TestAuthority
from tether import bootstrap
from tether.api.app import create_app
from tether.api.context import ApiContext
from tether.api.routes import app_operations, app_stream, applications
from tether.services.appindex import AppIndex
from tether.settings import Settings

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
