"""``tether login --sso``: which OIDC provider and client the server names, and the sign-in.

As Argo CD's CLI: the provider is ``oidcConfig.issuer`` from ``GET /api/v1/settings`` with its
``cliClientID`` (else ``clientID``), or the server's bundled Dex (``<url>/api/dex``, client
``argo-cd-cli``) when ``dexConfig`` has connectors. The ID token becomes the session token.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import click

from tether import bootstrap
from tether.cli.commands import connection
from tether.model.errors import RemoteError

DEFAULT_PORT = 8085
DEX_PATH = "/api/dex"
DEX_CLI_CLIENT = "argo-cd-cli"
DEFAULT_SCOPES = ("openid", "profile", "email", "groups")
REFRESH_SCOPE = "offline_access"
"""Asked for so a refresh token comes back (kept in the contexts file)."""

SIGN_IN_TIMEOUT_S = 300.0


@dataclasses.dataclass(frozen=True)
class OidcClient:
    """Where to sign in, as which client, asking for which scopes."""

    issuer: str
    client_id: str
    scopes: tuple[str, ...]


def client_of(settings: dict[str, Any], server_url: str) -> OidcClient:
    """The provider and client the server's settings name for the CLI.

    Raises:
        RemoteError: the server has no SSO configured.
    """
    oidc = settings.get("oidcConfig") or {}
    if isinstance(oidc, dict) and oidc.get("issuer"):
        client_id = str(oidc.get("cliClientID") or oidc.get("clientID") or "")
        scopes = [str(s) for s in oidc.get("scopes") or DEFAULT_SCOPES]
        return OidcClient(str(oidc["issuer"]), client_id, _with_refresh(scopes))
    dex = settings.get("dexConfig") or {}
    if isinstance(dex, dict) and dex.get("connectors"):
        base = str(settings.get("url") or server_url).rstrip("/")
        scopes = [*DEFAULT_SCOPES, "federated:id"]
        return OidcClient(base + DEX_PATH, DEX_CLI_CLIENT, _with_refresh(scopes))
    raise RemoteError(f"{server_url} has no SSO configured (no oidcConfig, no Dex connectors)")


def _with_refresh(scopes: list[str]) -> tuple[str, ...]:
    if "openid" not in scopes:
        scopes = ["openid", *scopes]
    return tuple(dict.fromkeys([*scopes, REFRESH_SCOPE]))


def sign_in(target: connection.Connection, port: int) -> tuple[str, str, str]:
    """Sign in through the browser; the ID token, a refresh token (maybe empty) and who it is."""
    with target.client() as api:
        settings = api.get("/api/v1/settings")
        chosen = client_of(settings if isinstance(settings, dict) else {}, api.url)
    request, finish = bootstrap.oidc_sign_in(
        chosen.issuer, chosen.client_id, list(chosen.scopes), port, insecure=target.insecure
    )
    click.echo("Open this URL in a browser to sign in:", err=True)
    click.echo(request.url, err=True)
    tokens = finish(SIGN_IN_TIMEOUT_S)
    token = tokens["id_token"]
    signed_in = dataclasses.replace(target, token=token)
    with signed_in.client() as api:
        info = api.get("/api/v1/session/userinfo")
    if not isinstance(info, dict) or not info.get("loggedIn"):
        raise RemoteError(f"{api.url} does not accept the provider's token")
    return token, tokens.get("refresh_token", ""), str(info.get("username") or "")
