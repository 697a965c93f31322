"""Who a token proves and what they may do: the API's authentication and RBAC service.

Tokens this server signed (``iss: argocd``) are checked here against the accounts, the revoked
ids and the projects; any other issuer goes to the ``OidcVerifier`` SSO provides, and with none
configured proves nobody. With anonymous access on, a missing or invalid token is an anonymous
caller with the default role only: an invalid token's claims are never read.
"""

from __future__ import annotations

import datetime
import logging
import re
from collections.abc import Callable, Sequence
from typing import Protocol

from tether.core.auth import rbac, tokens
from tether.core.auth.identity import ANONYMOUS, Caller
from tether.model.errors import TetherError
from tether.services.auth.accounts import Accounts
from tether.services.auth.revocation import Revocations
from tether.services.auth.store import SettingsStore

log = logging.getLogger(__name__)

NO_SESSION = "no session information"

_OBJECT_NAME = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
"""A Kubernetes object name: only such project names are looked up (``*`` or a URL never)."""


class Unauthenticated(TetherError):
    """The request proves nobody; the message is safe to return."""


class OidcVerifier(Protocol):
    """Verifies ID tokens of other issuers (SSO); implemented by the SSO module."""

    async def verify(self, token: str, scopes: Sequence[str]) -> Caller:
        """The caller an ID token proves: signature, audience, expiry and revocation checked.

        ``scopes`` are the claims (argocd-rbac-cm ``scopes``) whose values become
        ``Caller.groups``; ``Caller.token_id`` should be the token's ``jti`` (or another id
        unique to it), which the gate checks against the revoked ids. Raises
        ``tokens.TokenError`` with a message safe to return; nothing else.
        """
        ...


class Gate:
    """Authentication and RBAC over the settings objects."""

    def __init__(
        self,
        store: SettingsStore,
        accounts: Accounts,
        revocations: Revocations,
        clock: Callable[[], datetime.datetime],
        oidc: OidcVerifier | None = None,
    ) -> None:
        self._store = store
        self.accounts = accounts
        self.revocations = revocations
        self._clock = clock
        self.oidc = oidc
        self._rbac = rbac.RbacConfig()
        self._rbac_data: dict[str, str] | None = None

    async def rbac_config(self) -> rbac.RbacConfig:
        """``argocd-rbac-cm`` as last read; an invalid edit keeps the last good policy."""
        data = await self._store.configmap(rbac.CONFIGMAP)
        if data == self._rbac_data:
            return self._rbac  # parsed once per version of the ConfigMap
        self._rbac_data = data
        try:
            self._rbac = rbac.RbacConfig.from_configmap(data)
        except rbac.RbacPolicyError as err:
            log.error("%s; keeping the last valid policy", err)
        return self._rbac

    async def authenticate(self, token: str | None) -> Caller:
        """The caller ``token`` proves; raises :class:`Unauthenticated`."""
        anonymous = (await self.accounts.settings()).anonymous_enabled
        if not token:
            if anonymous:
                return ANONYMOUS
            raise Unauthenticated(NO_SESSION)
        try:
            return await self._verify(token)
        except tokens.TokenError as err:
            if anonymous:
                return ANONYMOUS  # never the claims of a token that failed its checks
            raise Unauthenticated(f"invalid session: {err}") from None

    async def _verify(self, token: str) -> Caller:
        issuer = tokens.unverified_issuer(token)
        if issuer is None:
            raise tokens.TokenError("token is not a JWT")
        if issuer != tokens.ISSUER:
            if self.oidc is None:
                raise tokens.TokenError("token was not issued by this server")
            caller = await self.oidc.verify(token, (await self.rbac_config()).scopes)
            if caller.token_id and await self.revocations.is_revoked(caller.token_id):
                raise tokens.TokenError("token is revoked")  # logged out through /auth/logout
            return caller
        claims = tokens.verify(await self.accounts.secret_key(), token, self._clock())
        if await self.revocations.is_revoked(claims.token_id):
            raise tokens.TokenError("token is revoked")
        name, kind = tokens.split_subject(claims.subject)
        if kind == "project":
            role = rbac.parse_role_subject(name)
            wanted = role[0] if role else ""
            project = await self._store.project(wanted) if _OBJECT_NAME.match(wanted) else None
            return tokens.project_caller(claims, project)
        return tokens.account_caller(claims, await self.accounts.get(name), kind)

    async def allowed(self, caller: Caller, resource: str, action: str, obj: str) -> bool:
        """Whether RBAC lets ``caller`` ``action`` on ``resource`` ``obj``."""
        config = await self.rbac_config()
        name = rbac.project_of(resource, obj)
        project = await self._store.project(name) if _OBJECT_NAME.match(name) else None
        return rbac.decide(config, caller, resource, action, obj, project)

    async def judges_by_project(self, resource: str, project: str) -> bool:
        """Whether RBAC answers alike for all of a project's apps in one namespace, whoever asks.

        ``rbac.judges_by_project`` under the policy as it is now.
        """
        config = await self.rbac_config()
        found = await self._store.project(project) if _OBJECT_NAME.match(project) else None
        return rbac.judges_by_project(config, resource, found)
