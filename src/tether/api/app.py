"""The API server's ASGI app: routes, Argo CD's error shape, CSRF and security headers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from tether.api import errors
from tether.api.context import AUTHENTICATED, ApiContext

OPENAPI_PATH = "/api/openapi.json"
"""The API's OpenAPI document (also committed as ``docs/openapi.json``)."""

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

CSRF_EXEMPT_PATHS = ("/api/webhook",)
"""Git hosts post form-encoded or JSON payloads without a session; they are verified by their
signatures, not by a cookie, so the content-type rule does not apply to them."""

SECURITY_HEADERS: dict[str, str] = {
    # Nothing of ours is meant to be framed, sniffed or to leak its URL to other origins.
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; object-src 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def create_app(ctx: ApiContext | None, routers: Sequence[APIRouter]) -> FastAPI:
    """The API over ``ctx``, serving ``routers`` (no context: only to describe it, as OpenAPI)."""
    app = FastAPI(
        title="tether API",
        description="Argo CD's REST shapes over tether: applications, projects, repositories, "
        "clusters, accounts, sessions and Git webhooks.",
        version="v1",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,  # served below, to signed-in callers only (AC-04)
    )
    if ctx is not None:
        app.state.ctx = ctx
    app.add_exception_handler(errors.ApiError, errors.handle)
    app.add_exception_handler(RequestValidationError, errors.handle_invalid_request)
    for router in routers:
        app.include_router(router)

    @app.get(OPENAPI_PATH, include_in_schema=False, dependencies=AUTHENTICATED)
    async def openapi() -> Response:
        return JSONResponse(app.openapi())

    @app.middleware("http")
    async def guard(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        refused = _refuse_cross_site(request)
        response = refused if refused is not None else await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    return app


def _refuse_cross_site(request: Request) -> Response | None:
    """Refuse a state-changing API call that is not JSON (415).

    Browsers cannot send JSON across sites without a CORS preflight, which we never grant, so a
    cookie alone never authorises a forged request.
    """
    if request.method in SAFE_METHODS or not request.url.path.startswith("/api/"):
        return None
    if request.url.path.startswith(CSRF_EXEMPT_PATHS):
        return None
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type == "application/json" or (
        content_type == "" and request.headers.get("content-length", "0") == "0"
    ):
        return None
    return PlainTextResponse("unsupported content type", status_code=415)
