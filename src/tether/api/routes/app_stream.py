"""``GET /api/v1/stream/applications``: Application changes as a stream, filtered by RBAC.

Server-sent events when the client accepts ``text/event-stream`` (the UI's ``EventSource``),
else one JSON object per line. Every event is checked against the caller's
``applications, get``; the caller's token is checked again before each send and every few
seconds, so a revoked token or a removed permission ends the stream (AC-06).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator
from typing import Annotated

import orjson
from fastapi import APIRouter, Query, Request
from fastapi.responses import StreamingResponse

from tether.api import appindexing, errors
from tether.api.appaccess import RESOURCE, app_namespace, rbac_object
from tether.api.context import AUTHENTICATED, ApiContext, caller_of, context_of, token_of
from tether.core.app import listing
from tether.core.auth.identity import Caller
from tether.model.errors import InvalidInputError
from tether.model.resources import version_number
from tether.services.appindex import ADDED, DELETED, AppIndex, Entry, Event

router = APIRouter(lifespan=appindexing.lifespan, dependencies=AUTHENTICATED)

KEEPALIVE_S = 15.0
"""An SSE comment this often keeps proxies from closing an idle stream."""

RECHECK_S = 5.0
"""How often an idle stream checks the caller's token and permission again."""

QUEUE_SIZE = 4096
"""Changes waiting for one client; a client this far behind is dropped rather than buffered."""

SSE = "text/event-stream"


@dataclasses.dataclass
class _Stream:
    """One client's stream."""

    ctx: ApiContext
    caller: Caller
    token: str | None
    query: listing.Query
    index: AppIndex
    initial: bool
    min_version: int
    sse: bool

    async def _visible(self, entry: Entry) -> bool:
        app = entry.summary
        obj = rbac_object(app.project, app.namespace, app.name, self.ctx.namespace)
        return await self.ctx.authority.allowed(self.caller, RESOURCE, "get", obj)

    async def _still_authorised(self) -> errors.ApiError | None:
        """Why the stream must end now (token revoked or expired, permission gone), if so."""
        try:
            await self.ctx.authority.authenticate(self.token)
        except errors.ApiError as exc:
            return exc
        if self.query.name:
            # A stream of one app ends when its caller may no longer see it.
            for namespace in self.ctx.runtime.settings.app_namespaces:
                entry = self.index.get(namespace, self.query.name)
                if entry is None or not self.query.matches(entry.summary):
                    continue
                if not await self._visible(entry):
                    return errors.denied()
        return None

    def _frame(self, payload: bytes) -> bytes:
        return b"data: " + payload + b"\n\n" if self.sse else payload + b"\n"

    def _event(self, kind: str, entry: Entry) -> bytes:
        head = b'{"result":{"type":"' + kind.encode() + b'","application":'
        return self._frame(head + entry.encoded + b"}}")

    def _error(self, err: errors.ApiError) -> bytes:
        body = {
            "error": {
                "grpc_code": int(err.code),
                "http_code": err.status,
                "message": err.message,
                "http_status": _STATUS_TEXT.get(err.status, ""),
                "details": [],
            }
        }
        return self._frame(orjson.dumps(body))

    async def run(self) -> AsyncIterator[bytes]:
        queue: asyncio.Queue[Event] = asyncio.Queue(QUEUE_SIZE)
        overflowed = asyncio.Event()

        def hear(event: Event) -> None:
            if overflowed.is_set() or not self.query.matches(event.entry.summary):
                return
            try:
                queue.put_nowait(event)
            except asyncio.QueueFull:
                overflowed.set()

        unsubscribe = self.index.subscribe(hear)
        sent: dict[listing.Key, tuple[str, bytes]] = {}
        loop = asyncio.get_running_loop()
        try:
            if self.initial:
                for entry in self.index.entries():
                    if self.query.matches(entry.summary) and await self._visible(entry):
                        sent[entry.key] = (ADDED, entry.digest)
                        yield self._event(ADDED, entry)
            elif self.sse:
                yield b": connected\n\n"  # lets EventSource report the stream open at once
            recheck_at = loop.time() + RECHECK_S
            keepalive_at = loop.time() + KEEPALIVE_S
            while True:
                wait = max(0.0, min(recheck_at, keepalive_at) - loop.time())
                batch: list[Event] = []
                if queue.empty():
                    with contextlib.suppress(TimeoutError):
                        batch.append(await asyncio.wait_for(queue.get(), wait or 0.001))
                while not queue.empty():
                    batch.append(queue.get_nowait())
                if overflowed.is_set():
                    yield self._error(_TOO_SLOW)
                    return
                now = loop.time()
                if batch or now >= recheck_at:
                    # Before each send, and every few seconds: the token and permission hold.
                    ended = await self._still_authorised()
                    if ended is not None:
                        yield self._error(ended)
                        return
                    recheck_at = now + RECHECK_S
                out = [frame async for frame in self._frames(batch, sent)]
                if out:
                    yield b"".join(out)
                    keepalive_at = now + KEEPALIVE_S
                elif self.sse and now >= keepalive_at:
                    yield b":\n\n"
                    keepalive_at = now + KEEPALIVE_S
        finally:
            unsubscribe()

    async def _frames(
        self, batch: list[Event], sent: dict[listing.Key, tuple[str, bytes]]
    ) -> AsyncIterator[bytes]:
        for event in batch:
            entry = event.entry
            if self.min_version and version_number(entry.resource_version) < self.min_version:
                continue
            if not await self._visible(entry):
                continue
            mark = (event.type, entry.digest)
            if sent.get(entry.key) == mark:
                continue  # byte-identical to the last message about this app
            if event.type == DELETED:
                sent.pop(entry.key, None)
            else:
                sent[entry.key] = mark
            yield self._event(event.type, entry)


_TOO_SLOW = errors.ApiError(
    errors.Code.RESOURCE_EXHAUSTED, "the client reads too slowly; stream ended, please reconnect"
)

_STATUS_TEXT = {
    401: "Unauthorized",
    403: "Forbidden",
    429: "Too Many Requests",
    503: "Service Unavailable",
}


@router.get("/api/v1/stream/applications")
async def watch_applications(
    request: Request,
    name: str = "",
    projects: Annotated[list[str], Query()] = [],  # noqa: B006 - FastAPI copies defaults
    project: Annotated[list[str], Query()] = [],  # noqa: B006
    selector: str = "",
    appNamespace: str = "",  # Argo CD's parameter names
    resourceVersion: str = "",
) -> StreamingResponse:
    """Stream ``{"result": {"type", "application"}}`` for every visible matching change."""
    ctx = context_of(request)
    caller = await caller_of(request)
    namespace = app_namespace(request, appNamespace) if appNamespace else ""
    try:
        query = listing.query(
            projects=[*projects, *project], selector=selector, name=name, namespace=namespace
        )
    except InvalidInputError as exc:
        raise errors.invalid(str(exc)) from None
    index = await appindexing.index_of(request)
    sse = SSE in request.headers.get("accept", "")
    stream = _Stream(
        ctx=ctx,
        caller=caller,
        token=token_of(request),
        query=query,
        index=index,
        initial=not resourceVersion or bool(name),
        min_version=version_number(resourceVersion),
        sse=sse,
    )
    media_type = SSE if sse else "application/json"
    # Proxies must pass each event on as it comes, not collect the stream.
    headers = {"X-Accel-Buffering": "no"}
    return StreamingResponse(stream.run(), media_type=media_type, headers=headers)
