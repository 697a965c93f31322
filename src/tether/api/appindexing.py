"""The API server's one index of Applications: started with the server, shared by every route.

Lists, streams and waits read it instead of asking the API server per request
(``tether.services.appindex``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request

from tether.api import errors
from tether.api.context import ApiContext
from tether.services.appindex import AppIndex

SYNC_TIMEOUT_S = 30.0
"""How long a request waits for the first list before answering 503 (a cold start)."""


def _index_of_app(app: FastAPI) -> AppIndex:
    index: AppIndex | None = getattr(app.state, "app_index", None)
    if index is None:
        ctx: ApiContext = app.state.ctx
        settings = ctx.runtime.settings
        index = AppIndex(ctx.runtime.cluster, settings.app_namespaces, freeze_gc=settings.freeze_gc)
        app.state.app_index = index
    index.start()
    return index


def index_ready(app: FastAPI) -> bool:
    """Whether the server's index has been listed once (it is started if it was not)."""
    return _index_of_app(app).synced


async def index_of(request: Request) -> AppIndex:
    """The server's index, listed at least once (503 when the first list does not complete)."""
    index = _index_of_app(request.app)
    if not index.synced:
        try:
            await index.wait_synced(SYNC_TIMEOUT_S)
        except TimeoutError:
            raise errors.ApiError(
                errors.Code.UNAVAILABLE, "the Application index is not ready yet"
            ) from None
    return index


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Start the index with the server and stop its watches on shutdown.

    Every router that reads the index carries this; starting twice is harmless.
    """
    index = _index_of_app(app)
    try:
        yield
    finally:
        await index.stop()
