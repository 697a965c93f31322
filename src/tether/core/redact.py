"""The one scrubber for every message tether sends out: conditions, Events, logs, CLI, metrics.

It removes the userinfo of any URL in the text (a repoURL typed with ``user:password@`` is the
usual way a credential reaches a message), bearer tokens, OAuth codes and tokens in query strings
(an SSO callback in an access log), and every secret value the caller knows of (the repository
credentials, a plugin's environment), in plain and URL-encoded form.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterable

MASK = "***"

_USERINFO = re.compile(r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.-]*://)[^/\s@'\"<>]+@")
"""``scheme://user:password@``: everything between the scheme and the last ``@`` of the host."""

_BEARER = re.compile(r"(?i)\b(bearer|token|basic)(\s+|=|:\s*)([A-Za-z0-9._~+/=-]{8,})")
"""``Authorization: Bearer <token>`` and ``token=<token>`` as tools print them."""

_OAUTH_QUERY = re.compile(
    r"(?i)([?&](?:code|state|id_token|access_token|refresh_token|code_verifier|client_secret)=)"
    r"[^&\s'\"#]+"
)
"""OAuth values in a query string: an SSO callback's URL, as an access log line shows it."""

MIN_SECRET_LENGTH = 4
"""Shorter values would blank out ordinary words; credentials are longer than this."""


def text(message: str, secrets: Iterable[str] = ()) -> str:
    """``message`` with URL userinfo, bearer tokens and every known secret value masked."""
    if not message:
        return message
    scrubbed = _USERINFO.sub(lambda m: m.group("scheme"), message)
    scrubbed = _BEARER.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", scrubbed)
    scrubbed = _OAUTH_QUERY.sub(lambda m: f"{m.group(1)}{MASK}", scrubbed)
    for secret in sorted(set(secrets), key=len, reverse=True):
        if len(secret) < MIN_SECRET_LENGTH:
            continue
        for form in {secret, urllib.parse.quote(secret, safe=""), *_lines(secret)}:
            if len(form) >= MIN_SECRET_LENGTH:
                scrubbed = scrubbed.replace(form, MASK)
    return scrubbed


def _lines(secret: str) -> list[str]:
    """The lines of a multi-line secret (a private key), any of which a tool may echo."""
    return [line.strip() for line in secret.splitlines() if len(line.strip()) >= 16]
