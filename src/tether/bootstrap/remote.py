"""What the remote CLI is wired with: a client of a tether API server."""

from __future__ import annotations

from collections.abc import Callable

from tether.adapters import oidclogin
from tether.adapters.apiclient import ApiClient

__all__ = ["ApiClient", "api_client", "oidc_sign_in"]


def api_client(
    server: str, token: str = "", *, insecure: bool = False, plaintext: bool = False
) -> ApiClient:
    """A client of the API server at ``server``, calling as the holder of ``token``."""
    return ApiClient(server, token, insecure=insecure, plaintext=plaintext)


def oidc_sign_in(
    issuer: str, client_id: str, scopes: list[str], port: int, *, insecure: bool = False
) -> tuple[oidclogin.Request, Callable[[float], dict[str, str]]]:
    """Start an OIDC sign-in at ``issuer``: the request (its URL to visit) and a finisher.

    The loopback listener is bound before this returns; the finisher waits up to the given
    seconds for the browser to come back and answers the provider's tokens.
    """
    provider = oidclogin.discover(issuer, insecure=insecure)
    request = oidclogin.start(provider, client_id, scopes, port)
    listener = oidclogin.Listener(request, port)

    def finish(timeout: float) -> dict[str, str]:
        code = listener.wait(timeout)
        return oidclogin.exchange(provider, client_id, request, code, insecure=insecure)

    return request, finish
