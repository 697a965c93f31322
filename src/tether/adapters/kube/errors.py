"""Kubernetes API failures as ``ClusterError`` subclasses, one per reason a caller acts on.

Messages name the object (``Kind namespace/name``) and the server's reason; for Secrets only the
reason and the offending field names appear, never the server's message (it may quote values).
"""

from __future__ import annotations

from tether.model.errors import (
    ClusterError,
    ConflictError,
    ForbiddenError,
    GoneError,
    InvalidError,
    KubeApiError,
    NotFoundError,
)

ERROR_OF_CODE: dict[int, type[KubeApiError]] = {
    # Distinguished because callers react differently: treat as absent, retry with a fresh
    # read, report as a permission problem, report the manifest as wrong, re-list.
    404: NotFoundError,
    409: ConflictError,
    401: ForbiddenError,
    403: ForbiddenError,
    422: InvalidError,
    410: GoneError,
}


def from_status(
    code: int,
    reason: str,
    message: str,
    what: str,
    *,
    secret: bool = False,
    fields: tuple[str, ...] = (),
) -> KubeApiError:
    """Build the error for a failed request.

    Args:
        code: The HTTP status.
        reason: The API's reason, or "" when the body was not a Status.
        message: The API's message.
        what: The object or collection, e.g. ``ConfigMap default/app``.
        secret: Whether the object holds secret values (drop ``message``).
        fields: Field paths from the Status causes, safe to show for Secrets.
    """
    reason = reason or f"HTTP {code}"
    if secret:
        detail = f" (fields: {', '.join(fields)})" if fields else ""
        text = f"{what}: {reason}{detail}"
    else:
        text = f"{what}: {reason}: {message}" if message else f"{what}: {reason}"
    return ERROR_OF_CODE.get(code, KubeApiError)(text, code=code, reason=reason)


__all__ = [
    "ClusterError",
    "ConflictError",
    "ForbiddenError",
    "GoneError",
    "InvalidError",
    "KubeApiError",
    "NotFoundError",
    "from_status",
]
