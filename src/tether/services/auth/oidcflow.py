"""SSO through an external OIDC issuer: browser login, callback, token checks, public settings.

The login is the authorization code flow with PKCE (S256); the callback exchanges the code and
verifies the ID token; bearer and cookie SSO tokens are verified the same way.

Every request reads the settings in force (``SsoConfigReader``); each issuer keeps its discovery
document and keys between requests. Randomness comes from ``secrets`` (CVE-2022-31034).
"""

from __future__ import annotations

import dataclasses
import datetime
import secrets
import urllib.parse
from collections.abc import Callable, Iterable
from typing import Any

from tether import ports
from tether.core.auth import oidcclaims, oidcconfig, oidcstate
from tether.core.auth.identity import Caller
from tether.core.auth.oidcconfig import OidcConfig, OidcConfigError
from tether.model.errors import IdentityProviderError
from tether.services.auth.oidc import (
    Discovery,
    Issuer,
    OidcVerifier,
    RevocationCheck,
    TokenRefused,
)
from tether.services.auth.oidcconfig import SsoConfig, SsoConfigReader

ProviderFactory = Callable[[str, bool], ports.OidcProvider]
"""Builds the issuer's HTTP client from ``rootCA`` and ``oidc.tls.insecure.skip.verify``."""

MAX_ID_TOKEN_CHARS = 4000
"""The ID token becomes one cookie; browsers drop cookies over about 4 KB."""


class SsoUnavailable(Exception):
    """SSO cannot serve this request (not configured, no ``server.secretkey``, issuer down)."""


class SsoBadRequest(Exception):
    """The login request or callback is wrong; the message is plain text safe to show escaped."""


@dataclasses.dataclass(frozen=True)
class LoginStart:
    """Where to send the browser, and the state cookie to set on the way."""

    location: str = dataclasses.field(repr=False)
    state_cookie: str = dataclasses.field(repr=False)
    max_age: int = oidcstate.STATE_LIFETIME_S


@dataclasses.dataclass(frozen=True)
class LoginDone:
    """A verified login: the ID token (the session cookie's value) and where to return."""

    id_token: str = dataclasses.field(repr=False)
    caller: Caller
    return_url: str


class Sso:
    """SSO for one control-plane namespace."""

    def __init__(
        self,
        reader: SsoConfigReader,
        provider_for: ProviderFactory,
        clock: Callable[[], datetime.datetime],
        *,
        revoked: RevocationCheck | None = None,
    ) -> None:
        self._reader = reader
        self._provider_for = provider_for
        self._clock = clock
        self._revoked = revoked
        self._issuers: dict[tuple[str, str, bool], Issuer] = {}

    async def config(self) -> SsoConfig:
        """The settings in force.

        Raises:
            SsoUnavailable: ``oidc.config`` is unusable.
        """
        try:
            return await self._reader.current()
        except OidcConfigError as err:
            raise SsoUnavailable(str(err)) from None

    async def public_settings(self) -> dict[str, Any]:
        """``GET /api/v1/settings`` for anonymous callers: login fields only (CVE-2024-37152)."""
        settings = (await self.config()).settings
        body: dict[str, Any] = {
            "url": settings.url,
            "userLoginsDisabled": settings.user_logins_disabled,
        }
        if settings.oidc is not None:
            oidc = settings.oidc
            body["oidcConfig"] = {
                "name": oidc.name,
                "issuer": oidc.issuer,
                "clientID": oidc.client_id,
                "cliClientID": oidc.cli_client_id,
                "scopes": list(oidc.requested_scopes),
                "enablePKCEAuthentication": True,
            }
        return body

    async def issuer_of(self, config: OidcConfig) -> Issuer:
        """The issuer's cached discovery and keys, for these TLS settings."""
        key = (config.issuer, config.root_ca, config.insecure_skip_verify)
        issuer = self._issuers.get(key)
        if issuer is None:
            try:
                provider = self._provider_for(config.root_ca, config.insecure_skip_verify)
            except IdentityProviderError as err:
                raise SsoUnavailable(str(err)) from None
            issuer = self._issuers[key] = Issuer(provider, config.issuer, self._clock)
        return issuer

    async def verifier(
        self, scopes: Iterable[str] = oidcclaims.DEFAULT_GROUP_SCOPES
    ) -> OidcVerifier:
        """A verifier for the configured issuer, taking groups from the claims ``scopes`` names.

        Raises:
            SsoUnavailable: SSO is not configured.
        """
        oidc = _oidc(await self.config())
        return OidcVerifier(
            await self.issuer_of(oidc), oidc, self._clock, scopes=scopes, revoked=self._revoked
        )

    async def configured_issuer(self) -> str:
        """The configured issuer ("" without SSO): tokens with this ``iss`` are verified here."""
        try:
            oidc = (await self.config()).settings.oidc
        except SsoUnavailable:
            return ""
        return oidc.issuer if oidc is not None else ""

    async def verify(
        self, token: str, scopes: Iterable[str] = oidcclaims.DEFAULT_GROUP_SCOPES
    ) -> Caller:
        """The SSO caller a bearer or cookie token proves.

        Raises:
            TokenRefused: see :meth:`OidcVerifier.verify`; also when SSO is not configured or
                the issuer's keys cannot be read (the token then proves nobody).
        """
        try:
            verifier = await self.verifier(scopes)
            return await verifier.verify(token)
        except SsoUnavailable:
            raise TokenRefused("SSO is not configured") from None
        except IdentityProviderError:
            raise TokenRefused("the identity provider's keys could not be read") from None

    async def begin(self, return_url: str) -> LoginStart:
        """Start a browser login that comes back to ``return_url`` (default: the server's URL).

        Raises:
            SsoBadRequest: ``return_url`` is not under the configured ``url``.
            SsoUnavailable: no SSO, no ``url``, no ``server.secretkey``, or the issuer is down.
        """
        config = await self.config()
        oidc = _oidc(config)
        url = config.settings.url
        if not url:
            raise SsoUnavailable("argocd-cm has no url: SSO needs the server's external URL")
        target = return_url or url
        if not oidcstate.return_url_allowed(target, url):
            raise SsoBadRequest("return_url must be under the server's URL")
        key = _state_key(config)
        issuer = await self.issuer_of(oidc)
        discovery = await _discover(issuer)
        now = int(self._clock().timestamp())
        login = oidcstate.LoginState(
            state=secrets.token_urlsafe(32),
            nonce=secrets.token_urlsafe(32),
            verifier=secrets.token_urlsafe(48),
            return_url=target,
            expires_at=now + oidcstate.STATE_LIFETIME_S,
        )
        query = {
            "response_type": "code",
            "client_id": oidc.client_id,
            "redirect_uri": config.settings.redirect_uri,
            "scope": " ".join(oidc.requested_scopes),
            "state": login.state,
            "nonce": login.nonce,
            "code_challenge": oidcstate.pkce_challenge(login.verifier),
            "code_challenge_method": "S256",
        }
        endpoint = discovery.authorization_endpoint
        joiner = "&" if "?" in endpoint else "?"
        return LoginStart(
            location=endpoint + joiner + urllib.parse.urlencode(query),
            state_cookie=oidcstate.seal(login, key, secrets.token_bytes(oidcstate.IV_BYTES)),
        )

    async def finish(self, code: str, state: str, state_cookie: str) -> LoginDone:
        """Complete a login: check the state, exchange the code with the PKCE verifier, verify.

        Raises:
            SsoBadRequest: the state cookie is missing, expired or not this login's; the code
                was refused; the ID token does not verify.
            SsoUnavailable: as for :meth:`begin`.
        """
        config = await self.config()
        oidc = _oidc(config)
        try:
            login = oidcstate.unseal(
                state_cookie, _state_key(config), int(self._clock().timestamp())
            )
        except oidcstate.StateRefused as err:
            raise SsoBadRequest(str(err)) from None
        if not state or not secrets.compare_digest(state.encode(), login.state.encode()):
            raise SsoBadRequest("login state does not match; start the login again")
        if not code:
            raise SsoBadRequest("the identity provider sent no authorization code")
        issuer = await self.issuer_of(oidc)
        discovery = await _discover(issuer)
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": config.settings.redirect_uri,
            "code_verifier": login.verifier,
        }
        try:
            answer = await issuer.provider.exchange(
                discovery.token_endpoint, form, oidc.client_id, config.client_secret
            )
        except IdentityProviderError as err:
            raise SsoBadRequest(f"the code could not be exchanged: {err}") from None
        id_token = answer.get("id_token")
        if not isinstance(id_token, str) or not id_token:
            raise SsoBadRequest("the identity provider returned no ID token")
        if len(id_token) > MAX_ID_TOKEN_CHARS:
            raise SsoBadRequest("the ID token is too large for a session cookie")
        verifier = OidcVerifier(issuer, oidc, self._clock, revoked=self._revoked)
        try:
            caller = await verifier.verify(id_token, nonce=login.nonce)
        except TokenRefused as err:
            raise SsoBadRequest(f"the ID token was refused: {err.reason}") from None
        except IdentityProviderError as err:
            raise SsoUnavailable(str(err)) from None
        return LoginDone(id_token=id_token, caller=caller, return_url=login.return_url)

    async def logout_location(self, id_token: str) -> str:
        """Where ``/auth/logout`` sends an SSO user once the session is revoked (``logoutURL``)."""
        return oidcconfig.logout_location((await self.config()).settings, id_token)

    async def aclose(self) -> None:
        """Close every issuer's connections."""
        for issuer in self._issuers.values():
            await issuer.provider.aclose()
        self._issuers.clear()


def _oidc(config: SsoConfig) -> OidcConfig:
    if config.settings.oidc is None:
        raise SsoUnavailable("SSO is not configured (argocd-cm has no oidc.config)")
    return config.settings.oidc


def _state_key(config: SsoConfig) -> bytes:
    if not config.secret_key:
        raise SsoUnavailable(
            "argocd-secret has no server.secretkey: SSO logins need it to protect their state"
        )
    return oidcstate.state_key(config.secret_key)


async def _discover(issuer: Issuer) -> Discovery:
    try:
        return await issuer.discovery()
    except IdentityProviderError as err:
        raise SsoUnavailable(str(err)) from None
