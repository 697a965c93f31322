"""The SSO seam of authentication: a token whose ``iss`` is the configured issuer, as a caller.

The Authority dispatches on the token's unverified ``iss`` (``argocd`` for the server's own
tokens); for the OIDC issuer's it calls :func:`authenticate`, which answers Argo CD's 401.
"""

from __future__ import annotations

from collections.abc import Iterable

import jwt

from tether.api import errors
from tether.core.auth import oidcclaims
from tether.core.auth.identity import Caller
from tether.services.auth.oidc import TokenRefused
from tether.services.auth.oidcflow import Sso


def unverified_issuer(token: str) -> str:
    """The ``iss`` a token claims, unverified: only to choose how to verify it."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return ""
    issuer = claims.get("iss")
    return issuer if isinstance(issuer, str) else ""


async def is_sso_token(sso: Sso | None, token: str) -> bool:
    """Whether ``token`` claims to come from the configured OIDC issuer."""
    if sso is None:
        return False
    issuer = await sso.configured_issuer()
    return bool(issuer) and unverified_issuer(token) == issuer


async def authenticate(
    sso: Sso, token: str, scopes: Iterable[str] = oidcclaims.DEFAULT_GROUP_SCOPES
) -> Caller:
    """The SSO caller ``token`` proves, groups from the claims RBAC ``scopes`` names.

    Raises:
        errors.ApiError: 401 ``invalid session: <why>``; an expired token says so.
    """
    try:
        return await sso.verify(token, scopes)
    except TokenRefused as err:
        raise errors.unauthenticated(f"invalid session: {err.reason}") from None
