"""What the remote CLI is wired with: a client of a tether API server, and its SSO sign-in."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any

from tether.adapters import oidclogin
from tether.adapters.apiclient import ApiClient
from tether.adapters.oidc import OidcHttp
from tether.model.errors import IdentityProviderError

__all__ = ["ApiClient", "api_client", "oidc_sign_in"]


def api_client(
    server: str, token: str = "", *, insecure: bool = False, plaintext: bool = False
) -> ApiClient:
    """A client of the API server at ``server``, calling as the holder of ``token``."""
    return ApiClient(server, token, insecure=insecure, plaintext=plaintext)


async def _issuer_call(insecure: bool, call: Callable[[OidcHttp], Any]) -> Mapping[str, Any]:
    http = OidcHttp(insecure_skip_verify=insecure)
    try:
        answer: Mapping[str, Any] = await call(http)
        return answer
    finally:
        await http.aclose()


def _endpoint(document: Mapping[str, Any], key: str) -> str:
    value = document.get(key)
    if not isinstance(value, str) or not value:
        raise IdentityProviderError(f"the issuer's discovery document has no {key}")
    return value


def oidc_sign_in(
    issuer: str, client_id: str, scopes: list[str], port: int, *, insecure: bool = False
) -> tuple[oidclogin.Request, Callable[[float], dict[str, str]]]:
    """Start a sign-in at ``issuer`` as the public client ``client_id``.

    Returns the request (its URL for the browser) and a finisher, which waits up to the given
    seconds for the browser to come back to ``localhost:port`` and answers the issuer's
    ``id_token`` (and ``refresh_token`` when given). The listener is bound before this returns.
    """
    document = asyncio.run(_issuer_call(insecure, lambda http: http.discovery(issuer)))
    token_endpoint = _endpoint(document, "token_endpoint")
    request = oidclogin.start(
        _endpoint(document, "authorization_endpoint"), client_id, scopes, port
    )
    listener = oidclogin.Listener(request, port)

    def finish(timeout: float) -> dict[str, str]:
        code = listener.wait(timeout)
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": request.redirect_uri,
            "code_verifier": request.verifier,
        }
        answer = asyncio.run(
            _issuer_call(insecure, lambda http: http.exchange(token_endpoint, form, client_id, ""))
        )
        if not answer.get("id_token"):
            raise IdentityProviderError("the issuer answered without an ID token")
        return {k: str(answer[k]) for k in ("id_token", "refresh_token") if answer.get(k)}

    return request, finish
