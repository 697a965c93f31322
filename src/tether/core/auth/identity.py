"""The caller of the API, as every route and the RBAC check see it."""

from __future__ import annotations

import dataclasses
import datetime
from typing import Literal

CallerKind = Literal["login", "apiKey", "project", "sso", "anonymous"]
"""How the caller proved who they are: a local login session, an account's API key, a project
role's token, an OIDC ID token, or nothing (only with anonymous access enabled)."""


@dataclasses.dataclass(frozen=True)
class Caller:
    """An authenticated (or anonymous) caller."""

    subject: str
    """The RBAC subject: an account name, an SSO user id, or ``proj:<project>:<role>``."""

    kind: CallerKind
    groups: tuple[str, ...] = ()
    """Values of the claims RBAC ``scopes`` name (SSO groups), in the token's order."""

    issuer: str = ""
    """``argocd`` for tokens this server signed; the IdP's issuer for SSO; empty when anonymous."""

    token_id: str = ""
    """The token's ``jti``: what revocation and ``/api/v1/account`` name it by."""

    issued_at: datetime.datetime | None = None
    expires_at: datetime.datetime | None = None

    @property
    def username(self) -> str:
        """The name shown to users and recorded as an operation's ``initiatedBy.username``."""
        return self.subject


ANONYMOUS = Caller(subject="", kind="anonymous")
