"""Who may ask the repo-server to render: the holder of its bearer token, and nobody else."""

from __future__ import annotations

import hmac

SCHEME = "bearer"


def bearer_matches(authorization: str | None, token: bytes) -> bool:
    """Whether an ``Authorization`` header carries ``token``, compared in constant time.

    The comparison takes the same time wherever the first wrong byte is, so a caller learns
    nothing about the token from how fast a refusal comes.
    """
    if not authorization or not token:
        return False
    scheme, _, given = authorization.partition(" ")
    if scheme.lower() != SCHEME:
        return False
    return hmac.compare_digest(given.strip().encode("utf-8", "surrogateescape"), token)
