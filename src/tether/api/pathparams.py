"""Path parameters that are URLs: repository and cluster URLs sent URL-encoded in one segment.

The server decodes ``%2F`` before routing, so the route matches the decoded path; the value is
read again from the raw path, so an escaped slash inside the URL stays what the caller meant.
"""

from __future__ import annotations

import urllib.parse

from fastapi import Request

from tether.api import errors


def url_param(request: Request, prefix: str) -> str:
    """The URL-encoded value that follows ``prefix`` in the request's raw path, decoded once."""
    raw = request.scope.get("raw_path") or request.url.path.encode()
    path = bytes(raw).decode("latin-1").split("?", 1)[0]
    if not path.startswith(prefix):
        raise errors.invalid("malformed path")
    value = urllib.parse.unquote(path[len(prefix) :])
    if not value:
        raise errors.invalid("the path names no URL")
    return value
