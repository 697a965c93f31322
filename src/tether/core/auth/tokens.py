"""The tokens this server signs: login sessions, account API keys and project-role tokens.

HS256 over ``server.secretkey`` with ``iss: argocd``. ``verify`` checks the signature and the
times against a given ``now``; ``account_caller`` and ``project_caller`` check what the token
claims against the account or project it names. Errors say why in words safe to return: never
the token, a claim's value beyond the subject, or the key.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Mapping
from typing import Any, Literal

import jwt

from tether.core.auth import rbac
from tether.core.auth.accounts import Account
from tether.core.auth.identity import Caller
from tether.model.project import AppProject

ISSUER = "argocd"
"""The ``iss`` of every token this server signs (Argo CD's, so its tokens stay readable)."""

ALGORITHM = "HS256"
"""The only algorithm accepted: ``none`` and public-key algorithms are refused before anything."""

TokenKind = Literal["login", "apiKey", "project"]


class TokenError(Exception):
    """A token proves nobody; the message is safe to show (``invalid session: <message>``)."""


@dataclasses.dataclass(frozen=True)
class Claims:
    """The verified claims of a token this server signed."""

    subject: str
    token_id: str
    issued_at: float
    expires_at: float | None

    def caller(self, name: str, kind: TokenKind, groups: tuple[str, ...] = ()) -> Caller:
        """The caller these claims prove, named ``name``."""
        return Caller(
            subject=name,
            kind=kind,
            groups=groups,
            issuer=ISSUER,
            token_id=self.token_id,
            issued_at=_moment(self.issued_at),
            expires_at=None if self.expires_at is None else _moment(self.expires_at),
        )


def _moment(seconds: float) -> datetime.datetime:
    return datetime.datetime.fromtimestamp(seconds, datetime.UTC)


def login_subject(name: str) -> str:
    """``sub`` of a login session."""
    return f"{name}:login"


def api_key_subject(name: str) -> str:
    """``sub`` of an account's API key."""
    return f"{name}:apiKey"


def split_subject(subject: str) -> tuple[str, TokenKind]:
    """The account or role a ``sub`` names, and the kind of token it is.

    A bare name (tokens from before the suffixes existed) is a login session.
    """
    if rbac.parse_role_subject(subject) is not None:
        return subject, "project"
    name, _, suffix = subject.rpartition(":")
    if suffix == "apiKey" and name:
        return name, "apiKey"
    if suffix == "login" and name:
        return name, "login"
    return subject, "login"


def issue(
    key: bytes,
    subject: str,
    token_id: str,
    now: datetime.datetime,
    lifetime: datetime.timedelta | None,
) -> str:
    """Sign a token.

    ``iat`` keeps sub-second precision, so a password change in the same second still tells
    older tokens from newer ones (RFC 7519 allows non-integer NumericDates).
    """
    issued = round(now.timestamp(), 6)
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "sub": subject,
        "jti": token_id,
        "iat": issued,
        "nbf": int(issued),
    }
    if lifetime is not None:
        claims["exp"] = int(issued + lifetime.total_seconds())
    return jwt.encode(claims, key, algorithm=ALGORITHM)


def unverified_issuer(token: str) -> str | None:
    """The ``iss`` a token claims, read without trusting it, to choose a verifier.

    ``None`` when the text is not a JWT at all.
    """
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return None
    issuer = claims.get("iss")
    return issuer if isinstance(issuer, str) else ""


def verify(key: bytes, token: str, now: datetime.datetime) -> Claims:
    """Check signature, issuer and times; raises :class:`TokenError`."""
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={
                "verify_exp": False,
                "verify_nbf": False,
                "verify_iat": False,
                "verify_aud": False,
                "require": ["sub", "jti", "iat", "iss"],
            },
        )
    except jwt.InvalidIssuerError:
        raise TokenError("token has an unexpected issuer") from None
    except jwt.MissingRequiredClaimError as err:
        raise TokenError(f"token has no {err.claim} claim") from None
    except jwt.PyJWTError:
        raise TokenError("token signature is invalid") from None
    subject, token_id = claims["sub"], claims["jti"]
    if not isinstance(subject, str) or not subject or not isinstance(token_id, str) or not token_id:
        raise TokenError("token has an empty subject or id")
    issued_at, expires_at, not_before = claims["iat"], claims.get("exp"), claims.get("nbf")
    for value in (issued_at, expires_at, not_before):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise TokenError("token times are not numbers")
    moment = now.timestamp()
    if expires_at is not None and moment >= expires_at:
        raise TokenError("token is expired")
    if not_before is not None and moment < not_before:
        raise TokenError("token is not valid yet")
    return Claims(subject, token_id, float(issued_at), expires_at)


def account_caller(claims: Claims, account: Account | None, kind: TokenKind) -> Caller:
    """The caller of a login session or API key, if its account still honours it.

    The account must exist, be enabled and have the token's capability; the token must not
    predate the last password change; an API key must still be listed on the account.
    """
    if account is None:
        raise TokenError("account does not exist")
    capability: Literal["login", "apiKey"] = "apiKey" if kind == "apiKey" else "login"
    if not account.can(capability):
        raise TokenError(f"account {account.name} is disabled or lacks the {capability} capability")
    mtime = account.password_mtime
    if mtime is not None and claims.issued_at < mtime.timestamp():
        raise TokenError("account password has changed since token issued")
    if kind == "apiKey" and account.token(claims.token_id) is None:
        raise TokenError("account token has been revoked")
    return claims.caller(account.name, kind)


def project_caller(claims: Claims, project: AppProject | None) -> Caller:
    """The caller of a project role's token, if the role still lists the token's id."""
    parsed = rbac.parse_role_subject(claims.subject)
    if parsed is None or project is None or project.name != parsed[0]:
        raise TokenError("project does not exist")
    role = parsed[1]
    if not any(r.name == role for r in project.spec.roles or []):
        raise TokenError(f"role {role} does not exist in project {project.name}")
    if not any(
        entry.get("id") == claims.token_id
        or (not entry.get("id") and entry.get("iat") == int(claims.issued_at))
        for entry in issued_tokens(project, role)
    ):
        raise TokenError("project token has been revoked")
    return claims.caller(claims.subject, "project")


def issued_tokens(project: AppProject, role: str) -> list[dict[str, Any]]:
    """A role's issued tokens as ``{iat, exp, id}`` entries.

    From ``status.jwtTokensByRole[role].items`` and the older ``spec.roles[].jwtTokens``.
    """
    by_role = (project.status.jwt_tokens_by_role if project.status else None) or {}
    items = (by_role.get(role) or {}).get("items") or []
    listed = [item for item in items if isinstance(item, dict)]
    for spec_role in project.spec.roles or []:
        if spec_role.name == role:  # older Argo CD listed them in the spec
            listed += [t.model_dump(exclude_none=True) for t in spec_role.jwt_tokens or []]
    return listed


REVOKED_CAPACITY = 10_000
"""Revoked ids kept at most; beyond it the ones closest to expiring anyway are forgotten."""


def revoked_with(
    listed: Mapping[str, float], token_id: str, until: float, now: float
) -> dict[str, float]:
    """The revoked ids (``jti`` → when its token expires) after revoking ``token_id``.

    Ids whose token has expired by ``now`` need no listing and are dropped; the list keeps at
    most ``REVOKED_CAPACITY`` ids, the longest-lived ones.
    """
    kept = {k: v for k, v in listed.items() if v > now}
    kept[token_id] = until
    if len(kept) > REVOKED_CAPACITY:
        kept = dict(sorted(kept.items(), key=lambda kv: kv[1])[-REVOKED_CAPACITY:])
    return kept
