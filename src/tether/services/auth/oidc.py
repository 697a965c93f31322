"""Verifying OIDC ID tokens: the issuer's discovery and keys (cached), and :class:`OidcVerifier`.

A token is accepted only when signed by one of the issuer's published asymmetric keys (the set is
fetched again, at most every ``REFETCH_MIN_S``, when a token names an unknown ``kid``), its ``iss``
is the configured issuer, its ``aud`` an allowed audience, it has not expired, and (in a login)
its ``nonce`` is the one sent.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

import jwt

from tether import ports
from tether.core.auth import oidcclaims
from tether.core.auth.identity import Caller
from tether.core.auth.oidcconfig import OidcConfig
from tether.model.errors import IdentityProviderError

DISCOVERY_CACHE_S = 3600.0
KEYS_CACHE_S = 3600.0
REFETCH_MIN_S = 10.0
"""Forged tokens naming random key ids must not turn into a flood of requests to the issuer."""

NBF_LEEWAY_S = 60
"""Clock skew allowed for ``nbf`` and ``iat`` in the future; expiry gets none."""

SIGNING_ALGORITHMS = frozenset(
    # Only public-key signatures: an HMAC "signed" with a published key, or "none", proves nothing.
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)

RevocationCheck = Callable[[Caller], Awaitable[bool]]
"""Whether a caller's token was revoked (logout); the sessions service provides it."""


class TokenRefused(Exception):
    """The token proves nobody; the message is safe to show (it never quotes the token)."""

    def __init__(self, reason: str, *, expired: bool = False) -> None:
        super().__init__(reason)
        self.reason = reason
        self.expired = expired


@dataclasses.dataclass(frozen=True)
class Discovery:
    """The endpoints of an issuer's discovery document that tether uses."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str


class Issuer:
    """One issuer's discovery document and signing keys, fetched through the port and cached."""

    def __init__(
        self,
        provider: ports.OidcProvider,
        issuer: str,
        clock: Callable[[], datetime.datetime],
    ) -> None:
        self.provider = provider
        self.issuer = issuer
        self._clock = clock
        self._discovery: tuple[float, Discovery] | None = None
        self._keys: dict[str, jwt.PyJWK] = {}
        self._keys_at: float | None = None
        self._lock = asyncio.Lock()

    async def discovery(self) -> Discovery:
        """The issuer's endpoints.

        Raises:
            IdentityProviderError: unreachable, or a document for another issuer.
        """
        now = self._clock().timestamp()
        if self._discovery is not None and now - self._discovery[0] < DISCOVERY_CACHE_S:
            return self._discovery[1]
        doc = await self.provider.discovery(self.issuer)
        found = Discovery(
            issuer=_field(doc, "issuer"),
            authorization_endpoint=_field(doc, "authorization_endpoint"),
            token_endpoint=_field(doc, "token_endpoint"),
            jwks_uri=_field(doc, "jwks_uri"),
        )
        if found.issuer != self.issuer:
            raise IdentityProviderError(
                f"the discovery document of {self.issuer} names another issuer"
            )
        self._discovery = (now, found)
        return found

    async def key(self, kid: str) -> jwt.PyJWK | None:
        """The signing key ``kid`` names (``None`` when the issuer does not publish it)."""
        async with self._lock:
            now = self._clock().timestamp()
            stale = self._keys_at is None or now - self._keys_at >= KEYS_CACHE_S
            unknown = kid not in self._keys
            may_refetch = self._keys_at is None or now - self._keys_at >= REFETCH_MIN_S
            if stale or (unknown and may_refetch):
                self._keys = await self._fetch_keys()
                self._keys_at = now
            return self._keys.get(kid)

    async def _fetch_keys(self) -> dict[str, jwt.PyJWK]:
        jwks = await self.provider.jwks((await self.discovery()).jwks_uri)
        keys: dict[str, jwt.PyJWK] = {}
        for raw in jwks.get("keys") or ():
            if not isinstance(raw, dict) or raw.get("use", "sig") != "sig":
                continue
            try:
                key = jwt.PyJWK.from_dict(raw)
            except (jwt.PyJWKError, jwt.InvalidKeyError):
                continue  # a key type PyJWT cannot use signs nothing we accept
            keys[str(key.key_id or "")] = key
        return keys


class OidcVerifier:
    """Verifies ID tokens of one configured issuer and says who they prove."""

    def __init__(
        self,
        issuer: Issuer,
        config: OidcConfig,
        clock: Callable[[], datetime.datetime],
        *,
        scopes: Iterable[str] = oidcclaims.DEFAULT_GROUP_SCOPES,
        revoked: RevocationCheck | None = None,
    ) -> None:
        self._issuer = issuer
        self._config = config
        self._clock = clock
        self._scopes = tuple(scopes)
        self._revoked = revoked

    async def verify(self, token: str, *, nonce: str | None = None) -> Caller:
        """The SSO caller ``token`` proves.

        Raises:
            TokenRefused: bad signature, wrong issuer or audience, expired (``expired``
                set), a nonce not this login's, or revoked.
            IdentityProviderError: the issuer's keys could not be fetched.
        """
        claims = await self.claims(token, nonce=nonce)
        try:
            caller = oidcclaims.caller_from_claims(claims, self._scopes)
        except ValueError as err:
            raise TokenRefused(str(err)) from None
        if self._revoked is not None and await self._revoked(caller):
            raise TokenRefused("token is revoked")
        return caller

    async def claims(self, token: str, *, nonce: str | None = None) -> dict[str, Any]:
        """The verified claims of ``token`` (see :meth:`verify`)."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise TokenRefused("token is not a JWT") from None
        alg = header.get("alg")
        if alg not in SIGNING_ALGORITHMS:
            raise TokenRefused("token is not signed with a public-key algorithm")
        key = await self._issuer.key(str(header.get("kid") or ""))
        if key is None:
            raise TokenRefused("token is signed with a key the issuer does not publish")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key,
                algorithms=[str(alg)],
                issuer=self._config.issuer,
                options={
                    # Time and audience are checked below, against tether's clock and rules.
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                    "verify_aud": False,
                    "require": ["iss", "exp"],
                },
            )
        except jwt.InvalidIssuerError:
            raise TokenRefused("token is from another issuer") from None
        except jwt.PyJWTError as err:
            raise TokenRefused(f"token is invalid ({type(err).__name__})") from None
        self._check(claims, nonce)
        return claims

    def _check(self, claims: Mapping[str, Any], nonce: str | None) -> None:
        config = self._config
        if not oidcclaims.audience_allowed(
            claims, config.audiences, skip_when_absent=config.skip_audience_check_when_no_audience
        ):
            raise TokenRefused("token is for another audience")
        now = self._clock().timestamp()
        exp = claims.get("exp")
        if not isinstance(exp, int | float) or isinstance(exp, bool):
            raise TokenRefused("token has no valid expiry")
        if exp <= now:
            raise TokenRefused("token has expired", expired=True)
        for name in ("nbf", "iat"):
            value = claims.get(name)
            if isinstance(value, int | float) and value > now + NBF_LEEWAY_S:
                raise TokenRefused(f"token is not valid yet ({name})")
        if nonce is not None and claims.get("nonce") != nonce:
            raise TokenRefused("token was not issued for this login")


def _field(doc: Mapping[str, Any], name: str) -> str:
    value = doc.get(name)
    if not isinstance(value, str) or not value:
        raise IdentityProviderError(f"the issuer's discovery document has no {name}")
    return value
