"""The SSO seam of authentication: the gate's ``OidcVerifier`` over the SSO service.

The gate dispatches on a token's unverified ``iss`` (``argocd`` for the server's own tokens) and
hands every other token here; refusals become the gate's ``TokenError`` (Argo CD's 401
``invalid session``), and an issuer that cannot be reached proves nobody rather than failing
the request with a 500.
"""

from __future__ import annotations

from collections.abc import Sequence

from tether.core.auth.identity import Caller
from tether.core.auth.tokens import TokenError
from tether.model.errors import IdentityProviderError
from tether.services.auth.oidc import TokenRefused
from tether.services.auth.oidcflow import Sso


class SsoVerifier:
    """Verifies ID tokens of the configured OIDC issuer for the gate."""

    def __init__(self, sso: Sso) -> None:
        self.sso = sso

    async def verify(self, token: str, scopes: Sequence[str]) -> Caller:
        """The SSO caller ``token`` proves; ``TokenError`` with a safe reason otherwise."""
        try:
            return await self.sso.verify(token, scopes)
        except TokenRefused as err:
            raise TokenError(err.reason) from None
        except IdentityProviderError:
            raise TokenError("the SSO issuer's keys could not be fetched") from None
