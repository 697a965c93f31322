"""API errors in Argo CD's (grpc-gateway's) JSON shape, with its gRPC code to HTTP status map."""

from __future__ import annotations

import enum

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response

from tether.model.errors import ConflictError, InvalidInputError


class Code(enum.IntEnum):
    """gRPC status codes, which Argo CD's error bodies carry as ``code``."""

    INVALID_ARGUMENT = 3
    DEADLINE_EXCEEDED = 4
    NOT_FOUND = 5
    ALREADY_EXISTS = 6
    PERMISSION_DENIED = 7
    RESOURCE_EXHAUSTED = 8
    FAILED_PRECONDITION = 9
    ABORTED = 10
    UNIMPLEMENTED = 12
    INTERNAL = 13
    UNAVAILABLE = 14
    UNAUTHENTICATED = 16


HTTP_STATUS: dict[Code, int] = {
    # grpc-gateway's mapping, which Argo CD's REST callers see (FailedPrecondition is 400 there).
    Code.INVALID_ARGUMENT: 400,
    Code.FAILED_PRECONDITION: 400,
    Code.DEADLINE_EXCEEDED: 504,
    Code.NOT_FOUND: 404,
    Code.ALREADY_EXISTS: 409,
    Code.ABORTED: 409,
    Code.PERMISSION_DENIED: 403,
    Code.RESOURCE_EXHAUSTED: 429,
    Code.UNIMPLEMENTED: 501,
    Code.INTERNAL: 500,
    Code.UNAVAILABLE: 503,
    Code.UNAUTHENTICATED: 401,
}

PERMISSION_DENIED = "permission denied"
"""The one text for both a missing object and a forbidden one, so a caller cannot tell them
apart (Argo CD's existence hiding)."""


class ApiError(Exception):
    """An error a route returns to its caller; the message must already be safe to show."""

    def __init__(self, code: Code, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    @property
    def status(self) -> int:
        """The HTTP status for this error's code."""
        return HTTP_STATUS[self.code]


def denied() -> ApiError:
    """403 ``permission denied``: also what a missing object looks like to a caller."""
    return ApiError(Code.PERMISSION_DENIED, PERMISSION_DENIED)


def invalid(message: str) -> ApiError:
    """400: the request itself is wrong."""
    return ApiError(Code.INVALID_ARGUMENT, message)


def not_found(message: str) -> ApiError:
    """404, for callers who may know the object would exist."""
    return ApiError(Code.NOT_FOUND, message)


def unauthenticated(message: str = "no session information") -> ApiError:
    """401: no token, or one that proves nobody."""
    return ApiError(Code.UNAUTHENTICATED, message)


def body_of(err: ApiError) -> dict[str, object]:
    """Argo CD's error body."""
    return {"error": err.message, "code": int(err.code), "message": err.message, "details": []}


async def handle(_request: Request, exc: Exception) -> Response:
    """The exception handler FastAPI calls for :class:`ApiError`."""
    assert isinstance(exc, ApiError)
    headers = {"WWW-Authenticate": "Bearer"} if exc.code is Code.UNAUTHENTICATED else None
    return JSONResponse(body_of(exc), status_code=exc.status, headers=headers)


async def handle_invalid_request(_request: Request, exc: Exception) -> Response:
    """FastAPI's own validation errors (a parameter of the wrong type) in Argo CD's shape: 400.

    Only the location and the reason are named, never the value the caller sent.
    """
    assert isinstance(exc, RequestValidationError)
    reasons = [
        f"{'.'.join(str(part) for part in error.get('loc', ()))}: {error.get('msg', 'invalid')}"
        for error in exc.errors()[:5]
    ]
    return JSONResponse(body_of(invalid("; ".join(reasons) or "invalid request")), status_code=400)


def of_failed_write(err: Exception, message: str) -> ApiError:
    """The error for a write Kubernetes refused: bad input 400, a lost race 409, else 503.

    ``message`` is ``err``'s text already scrubbed of every credential the caller may not see.
    """
    if isinstance(err, InvalidInputError):
        return invalid(message)
    if isinstance(err, ConflictError):
        return ApiError(Code.ABORTED, message)
    return ApiError(Code.UNAVAILABLE, message)
