"""What a verified OIDC ID token's claims mean to tether: the audience rule and the caller.

The identity is ``federated_claims.user_id`` (Dex's connector user id) when present, else
``sub``; groups are the values of the claims RBAC ``scopes`` name (``groups`` by default).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping
from typing import Any

from tether.core.auth.identity import Caller

DEFAULT_GROUP_SCOPES = ("groups",)
"""``argocd-rbac-cm`` ``scopes`` when unset: the claims whose values are RBAC groups."""


def audience_allowed(
    claims: Mapping[str, Any], allowed: Iterable[str], *, skip_when_absent: bool = False
) -> bool:
    """Whether the token's ``aud`` names one of ``allowed`` (CVE-2023-22482).

    A token without ``aud`` passes only with ``skipAudienceCheckWhenTokenHasNoAudience``.
    """
    aud = claims.get("aud")
    if aud is None or aud == [] or aud == "":
        return skip_when_absent
    values = [aud] if isinstance(aud, str) else aud
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        return False
    wanted = set(allowed)
    return any(v in wanted for v in values)


def subject_of(claims: Mapping[str, Any]) -> str:
    """``federated_claims.user_id`` when the issuer federates (Dex), else ``sub``."""
    federated = claims.get("federated_claims")
    if isinstance(federated, dict):
        user_id = federated.get("user_id")
        if isinstance(user_id, str) and user_id:
            return user_id
    sub = claims.get("sub")
    return sub if isinstance(sub, str) else ""


def groups_of(claims: Mapping[str, Any], scopes: Iterable[str]) -> tuple[str, ...]:
    """Values of the claims ``scopes`` names, in order, without repeats (a string counts as one)."""
    found: list[str] = []
    for scope in scopes:
        value = claims.get(scope)
        values = [value] if isinstance(value, str) else value if isinstance(value, list) else []
        found.extend(v for v in values if isinstance(v, str) and v and v not in found)
    return tuple(found)


def caller_from_claims(
    claims: Mapping[str, Any], scopes: Iterable[str] = DEFAULT_GROUP_SCOPES
) -> Caller:
    """The SSO caller verified ``claims`` prove.

    Raises:
        ValueError: the claims name nobody (no ``sub`` nor federated user id).
    """
    subject = subject_of(claims)
    if not subject:
        raise ValueError("the ID token names no subject")
    return Caller(
        subject=subject,
        kind="sso",
        groups=groups_of(claims, scopes),
        issuer=str(claims.get("iss", "")),
        token_id=_token_id(claims),
        issued_at=_time(claims.get("iat")),
        expires_at=_time(claims.get("exp")),
    )


def _token_id(claims: Mapping[str, Any]) -> str:
    # What a revocation list can name: the ``jti``, or the fields IdPs use instead.
    for name in ("jti", "uti", "at_hash"):
        value = claims.get(name)
        if isinstance(value, str) and value:
            return value
    return ""


def _time(value: object) -> datetime.datetime | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return datetime.datetime.fromtimestamp(value, datetime.UTC)
