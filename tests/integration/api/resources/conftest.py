"""Fixtures of the API tests: the API served over a real runtime on the full tier, with callers.

The server, its runtime and (when a test module asks) a controller run on an event loop of
their own in a background thread, so one server serves a whole test module; tests talk to it
over HTTP on 127.0.0.1 with an ``httpx2`` client, as any caller would. RBAC comes from a test
double (``tests.support.apiauth``).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime
import socket
import threading
from collections.abc import AsyncIterator, Awaitable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
import uvicorn

from tests.support import apiauth, tetherenv
from tether import bootstrap
from tether.api.app import create_app
from tether.api.context import ApiContext
from tether.api.routes import appresources, clusters, projects, repositories, resourceops
from tether.settings import Settings

T = TypeVar("T")

RES_ROUTERS = (
    appresources.router,
    resourceops.router,
    projects.router,
    repositories.router,
    clusters.router,
)
"""The routers these tests serve (the resource, project, repository and cluster routes)."""

RES_START_TIMEOUT_S = 120.0


class ResLoop:
    """An event loop in a background thread; ``run`` waits for a coroutine to finish there."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()

    def run(self, work: Awaitable[T], timeout: float = RES_START_TIMEOUT_S) -> T:
        async def wrapped() -> T:
            return await work

        return asyncio.run_coroutine_threadsafe(wrapped(), self.loop).result(timeout)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(30)
        self.loop.close()


@dataclasses.dataclass
class ResServer:
    """The API served for one test module: its URL, namespace, runtime and callers' tokens."""

    url: str
    namespace: str
    kubeconfig: Path
    runtime: bootstrap.Runtime
    authority: apiauth.RowAuthority
    background: ResLoop
    stack: contextlib.AsyncExitStack
    tmp: Path

    def token(self, subject: str, *rows: tuple[str, str, str]) -> str:
        """A caller ``subject`` allowed ``rows`` (resource, action, object glob); its token."""
        return self.authority.add(subject, *rows)

    def client(self, token: str | None) -> Any:
        """An ``httpx2`` client of the server, sending ``token`` as a bearer token."""
        import httpx2

        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx2.AsyncClient(base_url=self.url, headers=headers, timeout=60.0)

    def start_controller(self) -> None:
        """Run the controller on the server's loop, reconciling the module's namespace."""

        async def start() -> None:
            await self.stack.enter_async_context(
                tetherenv.running_controller(
                    self.kubeconfig, self.namespace, self.tmp / "controller-cache"
                )
            )

        self.background.run(start())

    def reload(self) -> None:
        """Read the repository and cluster Secrets again, as a running server does on change."""
        self.background.run(self.runtime.reload_credentials())


async def _serve(
    stack: contextlib.AsyncExitStack, runtime: bootstrap.Runtime, authority: apiauth.RowAuthority
) -> str:
    app = create_app(ApiContext(runtime, authority), RES_ROUTERS)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, log_config=None, lifespan="off", server_header=False)
    )
    task = asyncio.create_task(server.serve(sockets=[sock]))

    async def stop() -> None:
        server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await task
        sock.close()

    stack.push_async_callback(stop)
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.05)
    return f"http://127.0.0.1:{port}"


@pytest.fixture(scope="session")
def res_crds(full_cluster: bootstrap.DevCluster) -> bootstrap.DevCluster:
    """The full tier with tether's CRDs, installed as a user would."""
    tetherenv.install_crds(full_cluster.kubeconfig)
    return full_cluster


@pytest.fixture(scope="module")
def res_server(
    res_crds: bootstrap.DevCluster, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ResServer]:
    """The API over a runtime whose control-plane namespace is fresh for this module."""
    tmp = tmp_path_factory.mktemp("api")
    with tetherenv.fresh_namespace(res_crds.kubeconfig, "api") as namespace:
        background = ResLoop()
        stack = contextlib.AsyncExitStack()
        authority = apiauth.RowAuthority()
        settings = Settings(
            app_namespaces=(namespace,),
            cache_dir=str(tmp / "api-cache"),
            freeze_gc=False,
            resync_period=datetime.timedelta(seconds=3),
        )

        async def start() -> tuple[bootstrap.Runtime, str]:
            runtime = await bootstrap.runtime(settings, kubeconfig=res_crds.kubeconfig)
            stack.push_async_callback(runtime.close)
            await runtime.live.wait_synced(60)
            await runtime.reload_credentials()
            return runtime, await _serve(stack, runtime, authority)

        try:
            runtime, url = background.run(start())
            yield ResServer(
                url, namespace, res_crds.kubeconfig, runtime, authority, background, stack, tmp
            )
        finally:
            background.run(stack.aclose())
            background.close()


@pytest.fixture
async def res_admin(res_server: ResServer) -> AsyncIterator[Any]:
    """A client allowed everything."""
    token = res_server.token("res-admin", ("*", "*", "*"))
    async with res_server.client(token) as client:
        yield client
