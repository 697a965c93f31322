"""``GET /api/v1/stream/applications``: NDJSON and SSE, RBAC-filtered, ended by revocation."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx2
import pytest
from lightkube import Client

from tests.integration.api.appsupport import listed, make_app
from tests.integration.api.conftest import ApiServer
from tests.support import tetherenv

pytestmark = pytest.mark.timeout(60)

STREAM = "/api/v1/stream/applications"


class Messages:
    """The messages of a stream as they arrive; ``ended`` once the server closed it."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self.raw: list[str] = []

    async def next(self, timeout: float = 15.0) -> dict[str, Any] | None:
        """The next message (``None``: the stream ended)."""
        return await asyncio.wait_for(self.queue.get(), timeout)

    async def until(self, kind: str, name: str, timeout: float = 15.0) -> dict[str, Any]:
        """Skip messages until one of ``kind`` about ``name``."""
        while True:
            message = await self.next(timeout)
            assert message is not None, "the stream ended"
            result = message["result"]
            if result["type"] == kind and result["application"]["metadata"]["name"] == name:
                return message


@contextlib.asynccontextmanager
async def streaming(
    client: httpx2.AsyncClient, params: Any = None, *, sse: bool = False
) -> AsyncIterator[Messages]:
    messages = Messages()
    headers = {"Accept": "text/event-stream"} if sse else {}

    async def read() -> None:
        async with client.stream("GET", STREAM, params=params, headers=headers) as response:
            assert response.status_code == 200
            expected = "text/event-stream" if sse else "application/json"
            assert response.headers["content-type"].startswith(expected)
            async for line in response.aiter_lines():
                messages.raw.append(line)
                if sse:
                    if line.startswith("data: "):
                        await messages.queue.put(json.loads(line[len("data: ") :]))
                elif line.strip():
                    await messages.queue.put(json.loads(line))
        await messages.queue.put(None)

    task = asyncio.create_task(read())
    try:
        yield messages
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_an_ndjson_stream_starts_with_visible_apps_sends_changes_and_ends_on_revocation(
    api_server: ApiServer, kube: Client
) -> None:
    ns = api_server.namespace
    make_app(kube, ns, "web")
    make_app(kube, ns, "api")
    make_app(kube, ns, "secret", project="hidden")
    token = api_server.user("alice", ("get", "default/*"))
    async with api_server.client(token) as client:
        await listed(client, 2)
        async with streaming(client) as messages:
            first = [await messages.next(), await messages.next()]
            assert [(m or {})["result"]["type"] for m in first] == ["ADDED", "ADDED"]
            names = [(m or {})["result"]["application"]["metadata"]["name"] for m in first]
            assert names == ["api", "web"]

            tetherenv.patch_app(kube, ns, "secret", {"metadata": {"labels": {"x": "1"}}})
            tetherenv.patch_app(kube, ns, "web", {"metadata": {"labels": {"x": "1"}}})
            changed = await messages.next()
            assert changed is not None
            assert changed["result"]["type"] == "MODIFIED"
            assert changed["result"]["application"]["metadata"]["labels"] == {"x": "1"}
            assert changed["result"]["application"]["metadata"]["name"] == "web"

            tetherenv.create(kube, tetherenv.application("new", ns, "https://x.test/r", "a", ns))
            await messages.until("ADDED", "new")
            kube.delete(tetherenv.Application, "api", namespace=ns)
            await messages.until("DELETED", "api")

            api_server.authority.revoke(token)
            ending = await messages.next(timeout=10)
            assert ending is not None and ending["error"]["http_code"] == 401
            assert await messages.next() is None
        seen = " ".join(messages.raw)
        assert "secret" not in seen


async def test_an_sse_stream_of_one_app_ends_when_the_permission_goes(
    api_server: ApiServer, kube: Client
) -> None:
    ns = api_server.namespace
    make_app(kube, ns, "web")
    make_app(kube, ns, "api")
    token = api_server.user("alice", ("get", "default/*"))
    async with api_server.client(token) as client:
        await listed(client, 2)
        async with streaming(client, {"name": "web"}, sse=True) as messages:
            added = await messages.next()
            assert added is not None and added["result"]["type"] == "ADDED"
            assert added["result"]["application"]["metadata"]["name"] == "web"
            tetherenv.patch_app(kube, ns, "api", {"metadata": {"labels": {"x": "1"}}})
            tetherenv.patch_app(kube, ns, "web", {"metadata": {"labels": {"x": "2"}}})
            changed = await messages.next()
            assert changed is not None
            assert changed["result"]["application"]["metadata"]["name"] == "web"

            api_server.authority.withdraw("alice", "applications", "get", "default/*")
            ending = await messages.next(timeout=10)
            assert ending is not None and ending["error"]["http_code"] == 403
            assert await messages.next() is None
        assert all(line.startswith(("data: ", ":")) or not line for line in messages.raw)


async def test_a_stream_from_a_resource_version_sends_only_later_changes(
    api_server: ApiServer, kube: Client
) -> None:
    ns = api_server.namespace
    make_app(kube, ns, "web")
    make_app(kube, ns, "api")
    token = api_server.user("alice", ("get", "*"))
    async with api_server.client(token) as client:
        body = await listed(client, 2)
        version = body["metadata"]["resourceVersion"]
        async with streaming(client, {"resourceVersion": version}) as messages:
            await asyncio.sleep(0.5)
            tetherenv.patch_app(kube, ns, "api", {"metadata": {"labels": {"x": "1"}}})
            changed = await messages.next()
            assert changed is not None
            assert changed["result"]["type"] == "MODIFIED"
            assert changed["result"]["application"]["metadata"]["name"] == "api"


async def test_a_stream_without_a_token_is_refused(api_server: ApiServer) -> None:
    async with api_server.client() as client:
        response = await client.get(STREAM)
    assert response.status_code == 401


async def test_a_hundred_streams_all_hear_a_change_and_closed_ones_stop_listening(
    api_server: ApiServer, kube: Client
) -> None:
    ns = api_server.namespace
    make_app(kube, ns, "web")
    token = api_server.user("alice", ("get", "*"))
    limits = httpx2.Limits(max_connections=200)
    async with api_server.client(token, limits=limits) as client:
        await listed(client, 1)
        async with contextlib.AsyncExitStack() as stack:
            streams = [
                await stack.enter_async_context(streaming(client, {"name": "web"}))
                for _ in range(100)
            ]
            for messages in streams:
                assert (await messages.next() or {})["result"]["type"] == "ADDED"
            assert api_server.index().subscribers == 100
            loop = asyncio.get_running_loop()
            started = loop.time()
            tetherenv.patch_app(kube, ns, "web", {"metadata": {"labels": {"x": "1"}}})
            for messages in streams:
                await messages.until("MODIFIED", "web", timeout=10)
            elapsed = loop.time() - started
            # The bench holds this to 1 s; a loaded test machine gets some slack.
            assert elapsed < 5, elapsed
    # The clients hung up: no stream keeps listening for them.
    await tetherenv.eventually(lambda: api_server.index().subscribers == 0, 10, "streams closed")
