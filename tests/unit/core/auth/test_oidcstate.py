import base64
import hashlib

import pytest

from tether.core.auth import oidcstate
from tether.core.auth.oidcstate import LoginState, StateRefused

KEY = oidcstate.state_key(b"server-secret-key-bytes")
IV = bytes(range(12))
LOGIN = LoginState(
    state="st-123",
    nonce="no-456",
    verifier="ve-" + "x" * 60,
    return_url="https://cd.example.test/applications",
    expires_at=1_000_300,
)


def test_a_sealed_login_comes_back_intact_before_it_expires():
    cookie = oidcstate.seal(LOGIN, KEY, IV)
    assert oidcstate.unseal(cookie, KEY, now=1_000_000) == LOGIN


def test_the_cookie_shows_none_of_its_secrets():
    cookie = oidcstate.seal(LOGIN, KEY, IV)
    for secret in (LOGIN.state, LOGIN.nonce, LOGIN.verifier, "cd.example.test"):
        assert secret not in cookie
    assert "st-123" not in repr(LOGIN) and "ve-" not in repr(LOGIN)


def test_a_tampered_cookie_is_refused():
    cookie = oidcstate.seal(LOGIN, KEY, IV)
    raw = bytearray(base64.urlsafe_b64decode(cookie + "=" * (-len(cookie) % 4)))
    raw[20] ^= 1
    tampered = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    with pytest.raises(StateRefused, match="invalid"):
        oidcstate.unseal(tampered, KEY, now=1_000_000)


@pytest.mark.parametrize("cookie", ["", "not-base64!!", "AAAA", "x" * 5000])
def test_garbage_is_refused(cookie):
    with pytest.raises(StateRefused):
        oidcstate.unseal(cookie, KEY, now=1_000_000)


def test_a_cookie_sealed_under_another_server_key_is_refused():
    cookie = oidcstate.seal(LOGIN, oidcstate.state_key(b"another key"), IV)
    with pytest.raises(StateRefused, match="invalid"):
        oidcstate.unseal(cookie, KEY, now=1_000_000)


def test_an_expired_cookie_is_refused():
    cookie = oidcstate.seal(LOGIN, KEY, IV)
    with pytest.raises(StateRefused, match="expired"):
        oidcstate.unseal(cookie, KEY, now=1_000_300)


def test_the_key_is_derived_not_the_server_key_itself():
    assert len(KEY) == 32
    assert b"server-secret-key-bytes"[:32] != KEY
    assert oidcstate.state_key(b"a") != oidcstate.state_key(b"b")


def test_the_pkce_challenge_is_rfc_7636_s256():
    # RFC 7636 appendix B's example pair.
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert oidcstate.pkce_challenge(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    digest = hashlib.sha256(b"abc").digest()
    assert oidcstate.pkce_challenge("abc") == base64.urlsafe_b64encode(digest).decode().rstrip("=")


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://cd.example.test/argo", True),
        ("https://cd.example.test/argo/applications?x=1", True),
        ("https://CD.example.test/argo/", True),
        ("https://cd.example.test/argonaut", False),
        ("https://cd.example.test/", False),
        ("https://cd.example.test/argo/../admin", False),
        ("http://cd.example.test/argo", False),
        ("https://cd.example.test.evil/argo", False),
        ("https://cd.example.test@evil.test/argo", False),
        ("https://evil.test/argo", False),
        ("//evil.test/argo", False),
        ("/argo", False),
        ("https://cd.example.test/argo\\@evil", False),
        ("javascript:alert(1)", False),
    ],
)
def test_the_return_url_must_be_under_the_servers_url(url, allowed):
    assert oidcstate.return_url_allowed(url, "https://cd.example.test/argo") is allowed


def test_any_path_is_under_a_root_url():
    assert oidcstate.return_url_allowed("https://cd.example.test/x", "https://cd.example.test")
    assert not oidcstate.return_url_allowed("https://cd.example.test/x", "")
