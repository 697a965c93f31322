"""The CLI's client of a tether API server: Argo CD's REST shapes over HTTP(S), and its streams.

Every failure becomes a ``RemoteError`` carrying the server's own message (Argo CD's error body
``{"error", "code", "message"}``) or the kind of transport failure; the session token is sent
only in the ``Authorization`` header and scrubbed from every message that leaves here.
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import httpx2

from tether.core import redact
from tether.model.errors import RemoteError

CONNECT_TIMEOUT_S = 10.0
"""A server that accepts no connection in this long is down or unreachable."""

REQUEST_TIMEOUT_S = 120.0
"""One call; a get with ``refresh`` waits for the controller on the server's side."""

MAX_ERROR_CHARS = 500
"""How much of a non-JSON error answer is quoted (a proxy's HTML page is not worth more)."""

Params = Mapping[str, str | int | bool | Sequence[str]]


def base_url(server: str, *, plaintext: bool) -> str:
    """The URL of ``server``: ``host:port`` as Argo CD's CLI takes it, or a whole URL.

    Raises:
        RemoteError: the address names credentials, a path or another scheme.
    """
    text = server.strip().rstrip("/")
    if "://" not in text:
        text = f"{'http' if plaintext else 'https'}://{text}"
    parts = urllib.parse.urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname or "@" in parts.netloc:
        raise RemoteError(f"server {server!r}: expected HOST:PORT or http(s)://HOST:PORT")
    if parts.path or parts.query or parts.fragment:
        raise RemoteError(f"server {server!r}: expected HOST:PORT or http(s)://HOST:PORT")
    return f"{parts.scheme}://{parts.netloc}"


class ApiClient:
    """Calls one API server as one user (or anonymously, to log in)."""

    def __init__(
        self,
        server: str,
        token: str = "",
        *,
        insecure: bool = False,
        plaintext: bool = False,
        timeout: float = REQUEST_TIMEOUT_S,
    ) -> None:
        """A client of ``server``; no connection is made until the first call.

        Args:
            server: ``host:port`` (https unless ``plaintext``) or ``http(s)://host:port``.
            token: the session or API token, sent as ``Authorization: Bearer``.
            insecure: accept any TLS certificate (a test server's self-signed one).
            plaintext: speak plain HTTP to a bare ``host:port``.
            timeout: seconds one call may take.
        """
        self.url = base_url(server, plaintext=plaintext)
        self._token = token
        headers = {"Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._http = httpx2.Client(
            base_url=self.url,
            headers=headers,
            verify=not insecure,
            timeout=httpx2.Timeout(timeout, connect=CONNECT_TIMEOUT_S),
            # The token goes to this server only: never to a redirect's target or a proxy
            # named by the environment.
            follow_redirects=False,
            trust_env=False,
        )

    def close(self) -> None:
        """Close the connections."""
        self._http.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def call(
        self,
        method: str,
        path: str,
        *,
        params: Params | None = None,
        body: Any = None,
    ) -> Any:
        """One call; its JSON answer (``{}`` for an empty one).

        Raises:
            RemoteError: the server refused or failed the call, or could not be reached.
        """
        content = None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": "application/json"} if content is not None else None
        try:
            response = self._http.request(
                method, path, params=_query(params), content=content, headers=headers
            )
        except httpx2.HTTPError as err:
            raise self._unreachable(err) from None
        if response.status_code >= 400:
            raise self._refused(response.status_code, response.text)
        if not response.content:
            return {}
        try:
            return response.json()
        except ValueError:
            raise RemoteError(
                f"{self.url}{path}: the answer is not JSON (is {self.url} a tether API server?)",
                status=response.status_code,
            ) from None

    def get(self, path: str, **params: Any) -> Any:
        """GET ``path`` with the query ``params`` (``None`` values are left out)."""
        return self.call("GET", path, params=_given(params))

    def stream(
        self, path: str, params: Params | None = None, *, idle_timeout: float | None = None
    ) -> Iterator[dict[str, Any]]:
        """The ``result`` of every message of a newline-delimited JSON stream, as they come.

        Args:
            path: a stream, e.g. ``/api/v1/stream/applications``.
            params: its query.
            idle_timeout: the longest wait for the next message (``None``: no limit).

        Raises:
            RemoteError: the stream was refused, failed, or sent an error message.
            TimeoutError: no message came within ``idle_timeout``.
        """
        timeout = httpx2.Timeout(idle_timeout, connect=CONNECT_TIMEOUT_S)
        try:
            with self._http.stream("GET", path, params=_query(params), timeout=timeout) as response:
                if response.status_code >= 400:
                    response.read()
                    raise self._refused(response.status_code, response.text)
                for line in response.iter_lines():
                    if line.strip():
                        yield self._message(line)
        except httpx2.TimeoutException:
            raise TimeoutError(f"no news from {self.url}{path}") from None
        except httpx2.HTTPError as err:
            raise self._unreachable(err) from None

    def _message(self, line: str) -> dict[str, Any]:
        try:
            message = json.loads(line)
        except ValueError:
            raise RemoteError(f"{self.url}: a stream message is not JSON") from None
        if not isinstance(message, dict):
            raise RemoteError(f"{self.url}: a stream message is not a JSON object")
        if "error" in message:
            error = message["error"] if isinstance(message["error"], dict) else {}
            text = str(error.get("message") or message["error"])
            raise RemoteError(
                self._scrub(text),
                code=int(error.get("grpc_code") or 0),
                status=int(error.get("http_code") or 0),
            )
        result = message.get("result")
        return result if isinstance(result, dict) else {}

    def _refused(self, status: int, text: str) -> RemoteError:
        return refused(status, text, [self._token] if self._token else [])

    def _unreachable(self, err: httpx2.HTTPError) -> RemoteError:
        reason = self._scrub(str(err)) or type(err).__name__
        return RemoteError(f"cannot reach the API server {self.url}: {reason}")

    def _scrub(self, message: str) -> str:
        return redact.text(message, [self._token] if self._token else [])


def refused(status: int, text: str, secrets: Sequence[str] = ()) -> RemoteError:
    """The error for an HTTP error answer, ``secrets`` (the caller's token) masked in it.

    Its message is the server's (Argo CD's error body), else the start of the text.
    """
    code = 0
    try:
        body = json.loads(text)
    except ValueError:
        body = None
    if isinstance(body, dict) and (body.get("message") or body.get("error")):
        message = str(body.get("message") or body.get("error"))
        raw = body.get("code")
        code = raw if isinstance(raw, int) else 0
    else:
        message = text.strip()[:MAX_ERROR_CHARS] or f"HTTP {status}"
    return RemoteError(redact.text(message, secrets), code=code, status=status)


def _given(params: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in params.items() if v is not None and v != "" and v != []}


def _query(params: Params | None) -> httpx2.QueryParams:
    """Query pairs, repeated keys for lists and ``true``/``false`` for booleans (grpc-gateway's)."""
    pairs: list[tuple[str, str | int | float | bool | None]] = []
    for key, value in (params or {}).items():
        if isinstance(value, bool):
            pairs.append((key, "true" if value else "false"))
        elif isinstance(value, str | int):
            pairs.append((key, str(value)))
        else:
            pairs.extend((key, str(v)) for v in value)
    return httpx2.QueryParams(pairs)
