"""``GET /healthz`` and ``GET /readyz``: the probes of the API server's Deployment.

Unauthenticated and saying nothing but a word: ``/healthz`` answers while the server serves;
``/readyz`` once its index of Applications has been listed (lists and streams can answer).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse

from tether.api import appindexing

router = APIRouter(lifespan=appindexing.lifespan, include_in_schema=False)


@router.get("/healthz")
async def healthz() -> PlainTextResponse:
    """The server answers."""
    return PlainTextResponse("ok\n")


@router.get("/readyz")
async def readyz(request: Request) -> PlainTextResponse:
    """Ready once the Application index has its first list."""
    if appindexing.index_ready(request.app):
        return PlainTextResponse("ok\n")
    return PlainTextResponse("the Application index is not listed yet\n", status_code=503)
