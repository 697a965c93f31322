"""A test double of the API's ``Authority``: bearer tokens mapped to callers, a table of grants.

For tests only: the API server's real authority (accounts, JWTs, Casbin RBAC) replaces it. It
answers as the real one must: 401 for a missing or unknown token, ``allowed`` from grants of
``(subject, resource, action, object glob)``; a test revokes tokens and grants while streams run.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import secrets

from tether.api import errors
from tether.core import globs
from tether.core.auth.identity import Caller


class TestAuthority:
    """Tokens and grants a test controls (the ``Authority`` Protocol)."""

    __test__ = False  # not a test class, whatever its name says

    def __init__(self) -> None:
        self.callers: dict[str, Caller] = {}
        self.grants: set[tuple[str, str, str, str]] = set()
        self.authentications = 0

    def login(self, subject: str) -> str:
        """A new token for ``subject`` (three dot-separated parts, as JWTs have)."""
        token = f"test.{secrets.token_urlsafe(12)}.{subject}"
        self.callers[token] = Caller(subject=subject, kind="login", issuer="argocd")
        return token

    def revoke(self, token: str) -> None:
        """The token proves nobody from now on."""
        self.callers.pop(token, None)

    def grant(self, subject: str, resource: str, action: str, obj: str) -> None:
        """Allow ``subject`` to ``action`` ``resource`` objects matching the glob ``obj``."""
        self.grants.add((subject, resource, action, obj))

    def withdraw(self, subject: str, resource: str, action: str, obj: str) -> None:
        """Take a grant back."""
        self.grants.discard((subject, resource, action, obj))

    async def authenticate(self, token: str | None) -> Caller:
        self.authentications += 1
        if not token:
            raise errors.unauthenticated()
        caller = self.callers.get(token)
        if caller is None:
            raise errors.unauthenticated("invalid session: token revoked")
        return caller

    async def allowed(self, caller: Caller, resource: str, action: str, obj: str) -> bool:
        return any(
            subject == caller.subject
            and granted_resource == resource
            and globs.match(granted_action, action)
            and globs.match(pattern, obj)
            for subject, granted_resource, granted_action, pattern in self.grants
        )


Row = tuple[str, str, str, str]
"""``(subject, resource, action glob, object glob)``."""


def token_for(subject: str) -> str:
    """The bearer token standing for ``subject``: three dot-separated parts, as a JWT has."""
    return f"test.{subject}.token"


@dataclasses.dataclass
class RowAuthority:
    """Callers by token; ``allowed`` when one of the caller's rows matches."""

    rows: set[Row] = dataclasses.field(default_factory=set)
    callers: dict[str, Caller] = dataclasses.field(default_factory=dict)

    def add(self, subject: str, *rows: tuple[str, str, str]) -> str:
        """Make ``subject`` a caller allowed ``rows`` (resource, action, object); its token."""
        token = token_for(subject)
        self.callers[token] = Caller(subject=subject, kind="login", issuer="argocd")
        self.rows.update((subject, res, act, obj) for res, act, obj in rows)
        return token

    async def authenticate(self, token: str | None) -> Caller:
        if token is None:
            raise errors.unauthenticated()
        caller = self.callers.get(token)
        if caller is None:
            raise errors.unauthenticated("invalid session: unknown test token")
        return caller

    async def allowed(self, caller: Caller, resource: str, action: str, obj: str) -> bool:
        return any(
            subject == caller.subject
            and fnmatch.fnmatchcase(resource, res)
            and fnmatch.fnmatchcase(action, act)
            and fnmatch.fnmatchcase(obj, pattern)
            for subject, res, act, pattern in self.rows
        )
