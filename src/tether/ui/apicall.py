"""The UI's client of the API: an in-process call carrying the browser's own credentials.

Pages never read services directly: they ask the API as their user, over the same ASGI app, so
RBAC, existence hiding and Secret masking are the API's, unchanged.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

import httpx2
import orjson
from fastapi import Request

FORWARDED_HEADERS = ("cookie", "authorization")
"""The browser's credentials and nothing else: the API answers the UI as it answers the user."""

BASE_URL = "http://tether-ui.invalid"
"""A name that resolves nowhere: the transport is the app itself, never the network."""

Params = Mapping[str, str | int | Sequence[str]]


class ApiCallFailed(Exception):
    """The API answered an error: its status code and Argo CD's ``message``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class NotSignedIn(ApiCallFailed):
    """The API did not recognise the browser's credentials (401)."""


@dataclasses.dataclass(frozen=True)
class Api:
    """The API as the browser behind ``request`` sees it."""

    client: httpx2.AsyncClient
    headers: Mapping[str, str]

    async def get(self, path: str, params: Params | None = None) -> Any:
        """The JSON the API answers to ``GET path``.

        Raises:
            NotSignedIn: 401.
            ApiCallFailed: Any other error.
        """
        response = await self.client.get(path, params=params, headers=dict(self.headers))
        if response.status_code == 401:
            raise NotSignedIn(401, _message(response))
        if response.status_code >= 400:
            raise ApiCallFailed(response.status_code, _message(response))
        return orjson.loads(response.content)

    async def may(self, resource: str, action: str, obj: str) -> bool:
        """Whether the user may ``action`` on ``resource`` ``obj`` (the API's can-i)."""
        path = "/api/v1/account/can-i/" + "/".join(quote(p, safe="") for p in (resource, action))
        answer = await self.get(path + "/" + quote(obj, safe="/"))
        return bool(isinstance(answer, dict) and answer.get("value") == "yes")


def app_path(name: str, suffix: str = "") -> str:
    """The API path of Application ``name`` (quoted: a name from a URL never adds a query)."""
    return f"/api/v1/applications/{quote(name, safe='')}{suffix}"


def _message(response: httpx2.Response) -> str:
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return response.reason_phrase or str(response.status_code)
    message = body.get("message") if isinstance(body, dict) else None
    if isinstance(message, str):
        return message
    return response.reason_phrase or str(response.status_code)


def api_of(request: Request) -> Api:
    """The API for ``request``'s browser, through the app serving ``request``."""
    client: httpx2.AsyncClient | None = getattr(request.app.state, "ui_api_client", None)
    if client is None:
        transport = httpx2.ASGITransport(app=request.app)
        client = httpx2.AsyncClient(transport=transport, base_url=BASE_URL)
        request.app.state.ui_api_client = client
    headers = {name: request.headers[name] for name in FORWARDED_HEADERS if name in request.headers}
    return Api(client, headers)
