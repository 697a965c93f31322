"""What the Application routes share: their writes' field manager, errors, bodies, answers.

Service errors become API errors here, request bodies are read within a size limit, and JSON
answers are encoded with orjson.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import orjson
from fastapi import Request
from fastapi.responses import Response

from tether.api import errors
from tether.model.errors import (
    ClusterError,
    ConflictError,
    InvalidError,
    InvalidInputError,
    TetherError,
)
from tether.services.apps import RefusedError
from tether.services.appwriter import AppNotFoundError

MAX_BODY_BYTES = 4 << 20
"""A body larger than any Application (etcd refuses objects over 1.5 MiB) is refused unread."""


@contextlib.contextmanager
def translated() -> Iterator[None]:
    """Turn the services' errors into the API's: refused input 400, a vanished app 403."""
    try:
        yield
    except AppNotFoundError:
        raise errors.denied() from None  # gone meanwhile: looks like any hidden app
    except RefusedError as exc:
        raise errors.ApiError(errors.Code.FAILED_PRECONDITION, str(exc)) from None
    except (InvalidInputError, InvalidError) as exc:
        raise errors.invalid(str(exc)) from None
    except ConflictError as exc:
        raise errors.ApiError(errors.Code.ABORTED, str(exc)) from None
    except (ClusterError, TetherError) as exc:
        raise errors.ApiError(errors.Code.UNAVAILABLE, str(exc)) from None


async def json_body(request: Request) -> dict[str, Any]:
    """The request's JSON object (400 when it is none, 413-as-400 when it is huge)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        raise errors.invalid("request body too large")
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_BODY_BYTES:
            raise errors.invalid("request body too large")
    try:
        body = orjson.loads(bytes(raw)) if raw else {}
    except orjson.JSONDecodeError:
        raise errors.invalid("request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise errors.invalid("request body must be a JSON object")
    return body


def body_doc(description: str, *properties: str) -> dict[str, Any]:
    """The OpenAPI ``requestBody`` of a route that reads its JSON body itself (``json_body``)."""
    schema: dict[str, Any] = {"type": "object", "description": description}
    if properties:
        schema["properties"] = {name: {} for name in properties}
    content = {"application/json": {"schema": schema}}
    return {"requestBody": {"required": True, "content": content}}


def json_response(value: Any) -> Response:
    """``value`` as JSON (orjson: lists of thousands of apps are encoded in milliseconds)."""
    return Response(orjson.dumps(value), media_type="application/json")
