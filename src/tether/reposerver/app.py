"""The repo-server's HTTP API: render and revision metadata around a manifest service; health.

``POST /v1/render``, ``POST /v1/revision-metadata``, ``GET /healthz``.

A render runs with the credentials its request brought and no others; what goes back is scrubbed
of those credentials. Requests are authenticated before their body is read, and a body over the
bound is refused before it is parsed.
"""

from __future__ import annotations

import dataclasses
import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from tether import ports
from tether.core import redact
from tether.core.sources import renderwire
from tether.core.sources.rendered import RenderFailed
from tether.model.errors import InvalidInputError, TetherError
from tether.model.revisions import RevisionMetadata
from tether.reposerver import auth
from tether.services.credentials import RequestCredentials

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 8 * 1024 * 1024
"""An Application is at most etcd's 1.5 MiB, its credentials a few KiB: 8 MiB is generous."""

RENDER_PATH = "/v1/render"
METADATA_PATH = "/v1/revision-metadata"


def create_app(
    source: ports.ManifestSource,
    credentials: RequestCredentials,
    token: str,
    *,
    max_body_bytes: int = MAX_BODY_BYTES,
) -> FastAPI:
    """The ASGI app rendering with ``source``; ``credentials`` is what its Git adapter reads."""
    expected = token.encode()
    app = FastAPI(
        title="tether repo-server",
        # No schema or docs pages: the unauthenticated surface is /healthz alone.
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )

    @app.get("/healthz")
    async def healthz() -> Response:
        return PlainTextResponse("ok")

    @app.post(RENDER_PATH)
    async def render(request: Request) -> Response:
        body = await _authorised_body(request, expected, max_body_bytes)
        if isinstance(body, Response):
            return body
        try:
            call = renderwire.decode_call(body)
        except InvalidInputError as err:
            return _error(400, str(err))
        secrets = call.credentials.secret_values()
        with credentials.scoped(call.credentials):
            try:
                result = await source.render_application(
                    call.application,
                    refresh=call.refresh,
                    hard_refresh=call.hard_refresh,
                    revisions=call.revisions,
                    kube_version=call.kube_version,
                    api_versions=call.api_versions,
                    options=call.options,
                )
            except Exception:
                # Logged inside the scope, so the log filter knows this request's secrets.
                log.exception("rendering %s failed", call.application.qualified_name)
                return _error(500, "the repo-server failed; its log says why")
            if isinstance(result, RenderFailed):
                result = dataclasses.replace(result, message=redact.text(result.message, secrets))
                log.info("%s", result.message)
        return Response(renderwire.encode_result(result), media_type="application/json")

    @app.post(METADATA_PATH)
    async def revision_metadata(request: Request) -> Response:
        body = await _authorised_body(request, expected, max_body_bytes)
        if isinstance(body, Response):
            return body
        try:
            call = renderwire.decode_metadata_call(body)
        except InvalidInputError as err:
            return _error(400, str(err))
        secrets = call.credentials.secret_values()
        with credentials.scoped(call.credentials):
            try:
                found: RevisionMetadata | str = await source.revision_metadata(
                    call.application, call.revision, source_index=call.source_index
                )
            except TetherError as err:
                found = redact.text(str(err), secrets)
            except Exception:
                log.exception("reading a commit of %s failed", call.application.qualified_name)
                return _error(500, "the repo-server failed; its log says why")
        return Response(renderwire.encode_metadata(found), media_type="application/json")

    return app


async def _authorised_body(request: Request, token: bytes, limit: int) -> bytes | Response:
    """The body of a caller holding the token, or the refusal (401, or 413 over ``limit``)."""
    if not auth.bearer_matches(request.headers.get("authorization"), token):
        return Response(status_code=401, headers={"WWW-Authenticate": "Bearer"})
    body = await _bounded_body(request, limit)
    if body is None:
        return _error(413, f"the request body is over {limit} bytes")
    return body


async def _bounded_body(request: Request, limit: int) -> bytes | None:
    """The whole body, or ``None`` once it is known to be over ``limit`` (read no further)."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > limit):
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _error(status: int, message: str) -> Response:
    return JSONResponse({"error": redact.text(message)}, status_code=status)
