"""The CLI's side of an OIDC sign-in: the authorization URL (PKCE, S256) and a loopback callback.

The browser is sent to the provider; the provider sends it back to
``http://localhost:<port>/auth/callback``, where a one-shot listener takes the code. The issuer's
endpoints are read and the code exchanged by ``adapters.oidc`` (wired in ``bootstrap.remote``).
Nothing here prints or logs a code.
"""

from __future__ import annotations

import base64
import dataclasses
import http.server
import secrets
import threading
import urllib.parse
from typing import Any

from tether.core.auth import oidcstate
from tether.model.errors import RemoteError

CALLBACK_PATH = "/auth/callback"


@dataclasses.dataclass(frozen=True)
class Request:
    """One sign-in attempt: where the browser goes, and what proves the answer is ours."""

    url: str
    state: str = dataclasses.field(repr=False)
    verifier: str = dataclasses.field(repr=False)
    redirect_uri: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def start(authorization_endpoint: str, client_id: str, scopes: list[str], port: int) -> Request:
    """A new sign-in at ``authorization_endpoint`` with a fresh state and PKCE verifier."""
    verifier = _b64(secrets.token_bytes(32))
    state = _b64(secrets.token_bytes(16))
    redirect_uri = f"http://localhost:{port}{CALLBACK_PATH}"
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": " ".join(scopes),
        "state": state,
        "code_challenge": oidcstate.pkce_challenge(verifier),
        "code_challenge_method": "S256",
    }
    separator = "&" if "?" in authorization_endpoint else "?"
    url = authorization_endpoint + separator + urllib.parse.urlencode(query)
    return Request(url, state, verifier, redirect_uri)


class _Callback(http.server.BaseHTTPRequestHandler):
    result: dict[str, str]
    expected_state: str

    def do_GET(self) -> None:
        parts = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(parts.query))
        if parts.path != CALLBACK_PATH:
            self.send_error(404)
            return
        if query.get("state") != self.expected_state:
            self._answer(400, "The sign-in answer does not match this login; try again.")
            return
        self.server.result = query  # type: ignore[attr-defined]
        self.server.arrived.set()  # type: ignore[attr-defined]
        if "error" in query:
            self._answer(400, "The sign-in failed; see the terminal.")
        else:
            self._answer(200, "Signed in. You may close this window.")

    def _answer(self, status: int, text: str) -> None:
        body = text.encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: ARG002
        return  # the query holds the code: never logged


class Listener:
    """The one-shot loopback listener the browser is redirected to."""

    def __init__(self, request: Request, port: int) -> None:
        """Bind ``localhost:port`` now, so the URL shown is already served."""
        handler = type("Handler", (_Callback,), {"expected_state": request.state})
        try:
            self._server = http.server.HTTPServer(("localhost", port), handler)
        except OSError as err:
            raise RemoteError(f"cannot listen on localhost:{port}: {err.strerror}") from None
        self._arrived = threading.Event()
        self._server.result = {}  # type: ignore[attr-defined]
        self._server.arrived = self._arrived  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def wait(self, timeout: float) -> str:
        """The authorization code, once the browser came back.

        Raises:
            RemoteError: the provider refused, or nothing came within ``timeout`` seconds.
        """
        arrived = self._arrived.wait(timeout)
        self.close()
        result: dict[str, str] = self._server.result  # type: ignore[attr-defined]
        if not arrived or not result:
            raise RemoteError(f"no sign-in within {timeout:g}s")
        if "error" in result:
            raise RemoteError(f"the provider refused the sign-in: {result['error']}")
        code = result.get("code", "")
        if not code:
            raise RemoteError("the provider answered without a code")
        return code

    def close(self) -> None:
        """Stop listening."""
        self._server.shutdown()
        self._server.server_close()
