"""A test double of the API's ``Authority``: bearer tokens mapped to callers, RBAC from rows.

Only for tests of routes, so they do not depend on sessions or the policy engine: each token
stands for one ``Caller``, and a caller may do what one of its allowed rows matches. Objects
are globs where ``*`` spans ``/``, as in Argo CD's glob mode. The real authority is tested on
its own.
"""

from __future__ import annotations

import dataclasses
import fnmatch

from tether.api import errors
from tether.core.auth.identity import Caller

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
