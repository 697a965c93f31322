"""The CLI's OIDC sign-in (authorization code with PKCE, loopback callback) against a real Dex.

The browser is played by an HTTP client that follows Dex's redirects and fills in its login form;
the CLI's listener on a free loopback port takes the code, and the exchange with the PKCE
verifier returns Dex's ID token.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx2
import jwt
import pytest

from tests.support import dex as dexsupport
from tether import bootstrap
from tether.model.errors import RemoteError

CLI_CLIENT = "argo-cd-cli"


@pytest.fixture
def dex(tmp_path) -> Iterator[tuple[dexsupport.Dex, int]]:
    port = dexsupport.free_port()
    client = dexsupport.Client(
        CLI_CLIENT, "", (f"http://localhost:{port}/auth/callback",), public=True
    )
    server = dexsupport.start(tmp_path / "dex", [client])
    try:
        yield server, port
    finally:
        server.stop()


def test_a_browser_sign_in_gives_the_cli_dexs_id_token(dex):
    server, port = dex

    request, finish = bootstrap.oidc_sign_in(
        server.issuer, CLI_CLIENT, ["openid", "email", "groups", "offline_access"], port
    )
    landed = dexsupport.play_browser(request.url, server.password)
    tokens = finish(10)

    assert landed.status_code == 200
    assert "Signed in" in landed.text
    claims = jwt.decode(tokens["id_token"], options={"verify_signature": False})
    assert claims["iss"] == server.issuer
    assert claims["aud"] == CLI_CLIENT
    assert claims["email"] == dexsupport.USER_EMAIL
    assert tokens.get("refresh_token")


def test_a_wrong_state_is_refused_and_no_code_is_taken(dex):
    server, port = dex
    request, finish = bootstrap.oidc_sign_in(server.issuer, CLI_CLIENT, ["openid"], port)

    with httpx2.Client(timeout=10) as http:
        forged = http.get(f"http://localhost:{port}/auth/callback?code=x&state=not-ours")

    assert forged.status_code == 400
    with pytest.raises(RemoteError, match="no sign-in within"):
        finish(0.5)
    assert request.state not in forged.text
