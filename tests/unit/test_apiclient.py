"""The API client's pure parts: server addresses, error bodies, the PKCE pair; no server."""

from __future__ import annotations

import base64
import hashlib
import urllib.parse

import pytest

from tether.adapters import apiclient, oidclogin
from tether.model.errors import RemoteError

TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.c2VjcmV0LXNpZ25hdHVyZQ"


@pytest.mark.parametrize(
    ("server", "plaintext", "url"),
    [
        ("tether.example:443", False, "https://tether.example:443"),
        ("127.0.0.1:8080", True, "http://127.0.0.1:8080"),
        ("http://127.0.0.1:8080/", False, "http://127.0.0.1:8080"),
        ("https://[::1]:8443", True, "https://[::1]:8443"),
    ],
)
def test_a_server_is_host_and_port_or_a_whole_url(server, plaintext, url):
    assert apiclient.base_url(server, plaintext=plaintext) == url


@pytest.mark.parametrize("server", ["ftp://x:1", "https://user:pw@x:1", "https://x:1/path", ""])
def test_a_server_with_credentials_a_path_or_another_scheme_is_refused(server):
    with pytest.raises(RemoteError, match="expected HOST:PORT"):
        apiclient.base_url(server, plaintext=False)


def test_an_argo_cd_error_body_gives_its_message_and_grpc_code():
    body = '{"error":"permission denied","code":7,"message":"permission denied","details":[]}'

    err = apiclient.refused(403, body)

    assert (str(err), err.code, err.status) == ("permission denied", 7, 403)


def test_a_token_the_server_echoes_in_an_error_is_masked():
    body = f'{{"message":"invalid session: {TOKEN}","code":16}}'

    err = apiclient.refused(401, body, [TOKEN])

    assert TOKEN not in str(err)
    assert str(err).startswith("invalid session: ")


def test_a_plain_text_error_is_quoted_briefly():
    err = apiclient.refused(502, "<html>" + "x" * 5000)

    assert len(str(err)) == apiclient.MAX_ERROR_CHARS
    assert err.code == 0


def test_an_sso_request_carries_an_s256_challenge_of_its_verifier():
    request = oidclogin.start("https://idp/auth", "argo-cd-cli", ["openid", "groups"], 8085)

    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(request.url).query))
    digest = hashlib.sha256(request.verifier.encode()).digest()
    assert query["code_challenge"] == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert query["code_challenge_method"] == "S256"
    assert query["redirect_uri"] == "http://localhost:8085/auth/callback"
    assert query["state"] == request.state
    assert query["scope"] == "openid groups"
    assert request.verifier not in request.url
