"""The API's authority: the auth services wired together, and errors turned into Argo CD's.

``ServerAuthority`` is the ``context.Authority`` every route calls; the session, account and
project-token routes reach the services behind it through ``services_of``.
"""

from __future__ import annotations

import dataclasses

from fastapi import Request

from tether.api import errors
from tether.api.context import context_of
from tether.core.auth.identity import Caller
from tether.model.errors import InvalidInputError, TetherError
from tether.services.auth.accounts import Accounts
from tether.services.auth.gate import Gate, Unauthenticated
from tether.services.auth.revocation import Revocations
from tether.services.auth.sessions import LoginRefused, MissingError, Sessions
from tether.services.auth.store import SettingsStore, WriteConflictError


@dataclasses.dataclass(frozen=True)
class AuthServices:
    """Everything about accounts, sessions and RBAC, over one settings store."""

    store: SettingsStore
    accounts: Accounts
    revocations: Revocations
    gate: Gate
    sessions: Sessions


class ServerAuthority:
    """``context.Authority`` over the auth services."""

    def __init__(self, services: AuthServices) -> None:
        self.services = services

    async def authenticate(self, token: str | None) -> Caller:
        """The caller ``token`` proves; 401 in Argo CD's words otherwise."""
        try:
            return await self.services.gate.authenticate(token)
        except Unauthenticated as err:
            raise errors.unauthenticated(str(err)) from None

    async def allowed(self, caller: Caller, resource: str, action: str, obj: str) -> bool:
        """RBAC's answer for ``caller``."""
        return await self.services.gate.allowed(caller, resource, action, obj)

    async def judges_by_project(self, resource: str, project: str) -> bool:
        """Whether RBAC answers alike for every app of ``project`` in one namespace."""
        return await self.services.gate.judges_by_project(resource, project)


def services_of(request: Request) -> AuthServices:
    """The auth services of the server ``request`` arrived at."""
    authority = context_of(request).authority
    if not isinstance(authority, ServerAuthority):
        raise errors.ApiError(errors.Code.UNIMPLEMENTED, "accounts are not served here")
    return authority.services


def as_api_error(err: TetherError) -> errors.ApiError:
    """An auth service's error as the API answers it (messages are already safe)."""
    if isinstance(err, LoginRefused):
        code = errors.Code.INVALID_ARGUMENT if err.bad_request else errors.Code.UNAUTHENTICATED
        return errors.ApiError(code, str(err))
    if isinstance(err, MissingError):
        return errors.not_found(str(err))
    if isinstance(err, InvalidInputError):
        return errors.invalid(str(err))
    if isinstance(err, WriteConflictError):
        return errors.ApiError(errors.Code.ABORTED, str(err))
    return errors.ApiError(errors.Code.INTERNAL, "internal error")
