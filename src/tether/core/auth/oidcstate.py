"""A browser login's state between ``/auth/login`` and ``/auth/callback``: PKCE, the sealed cookie.

The cookie holds the random state, nonce, PKCE verifier and return URL, sealed with AES-GCM under
a key derived from ``server.secretkey``, and expires after five minutes. Randomness and the time
come in as arguments (the service draws them), so this stays pure.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import json
import urllib.parse

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

STATE_COOKIE = "argocd.oauthstate"
STATE_LIFETIME_S = 300
"""A login must come back within five minutes, as Argo CD's does."""

IV_BYTES = 12
"""AES-GCM's nonce size; a fresh random one per cookie."""

_KEY_INFO = b"tether argocd.oauthstate v1"
_AAD = STATE_COOKIE.encode()
MAX_COOKIE_CHARS = 4000
"""Larger cookies are not ours (browsers cap a cookie near 4 KB)."""


class StateRefused(Exception):
    """The state cookie is missing, tampered with, expired, or not this login's."""


@dataclasses.dataclass(frozen=True)
class LoginState:
    """One login in flight; ``repr`` shows none of its secrets."""

    state: str = dataclasses.field(repr=False)
    nonce: str = dataclasses.field(repr=False)
    verifier: str = dataclasses.field(repr=False)
    return_url: str
    expires_at: int
    """Seconds since the epoch."""


def pkce_challenge(verifier: str) -> str:
    """RFC 7636's S256 challenge: base64url(SHA-256(verifier)), unpadded."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def state_key(server_secret_key: bytes) -> bytes:
    """The cookie's AES-256 key, derived from ``server.secretkey`` (never the key itself)."""
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_KEY_INFO)
    return hkdf.derive(server_secret_key)


def seal(login: LoginState, key: bytes, iv: bytes) -> str:
    """The cookie value for ``login``; ``iv`` must be 12 fresh random bytes."""
    if len(iv) != IV_BYTES:
        raise ValueError("AES-GCM needs a 12-byte nonce")
    payload = {
        "s": login.state,
        "n": login.nonce,
        "v": login.verifier,
        "r": login.return_url,
        "e": login.expires_at,
    }
    plain = json.dumps(payload, separators=(",", ":")).encode()
    sealed = AESGCM(key).encrypt(iv, plain, _AAD)
    return base64.urlsafe_b64encode(iv + sealed).rstrip(b"=").decode("ascii")


def unseal(cookie: str, key: bytes, now: int) -> LoginState:
    """The login a cookie holds.

    Raises:
        StateRefused: not sealed with ``key``, altered, malformed, or past its five minutes.
    """
    if not cookie or len(cookie) > MAX_COOKIE_CHARS:
        raise StateRefused("login state missing; start the login again")
    try:
        raw = base64.urlsafe_b64decode(cookie + "=" * (-len(cookie) % 4))
        plain = AESGCM(key).decrypt(raw[:IV_BYTES], raw[IV_BYTES:], _AAD)
        payload = json.loads(plain)
        login = LoginState(
            state=_str(payload["s"]),
            nonce=_str(payload["n"]),
            verifier=_str(payload["v"]),
            return_url=_str(payload["r"]),
            expires_at=int(payload["e"]),
        )
    except (InvalidTag, binascii.Error, ValueError, KeyError, TypeError):
        raise StateRefused("login state invalid; start the login again") from None
    if login.expires_at <= now:
        raise StateRefused("login state expired; start the login again")
    return login


def return_url_allowed(return_url: str, base_url: str) -> bool:
    """Whether ``return_url`` lies under the server's external ``url`` (same origin and path)."""
    if not base_url or any(c in return_url for c in "\\\r\n\t") or " " in return_url:
        return False
    want = urllib.parse.urlsplit(base_url)
    got = urllib.parse.urlsplit(return_url)
    if (got.scheme.lower(), got.netloc.lower()) != (want.scheme.lower(), want.netloc.lower()):
        return False
    if got.username is not None or got.password is not None:
        return False
    base_path = want.path.rstrip("/") + "/"
    path = got.path or "/"
    if ".." in path.split("/"):
        return False  # a browser would resolve it outside the base path
    return path == base_path.rstrip("/") or path.startswith(base_path)


def _str(value: object) -> str:
    if not isinstance(value, str):
        raise TypeError("expected a string")
    return value
