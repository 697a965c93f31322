"""SSO settings as ``argocd-cm`` keeps them: the external ``url`` and ``oidc.config``, parsed.

Pure: the ConfigMap's data comes in, a frozen :class:`SsoSettings` (with warnings) goes out.
Secret references (``$key``, ``$name:key``) are named here and resolved by the service.
"""

from __future__ import annotations

import dataclasses
import urllib.parse
from collections.abc import Mapping
from typing import Any

import yaml

from tether.model.errors import InvalidInputError

CONFIGMAP = "argocd-cm"
SECRET = "argocd-secret"
SERVER_SECRET_KEY = "server.secretkey"
"""The ``argocd-secret`` key that signs local tokens; the state cookie's key derives from it."""

INSECURE_SKIP_VERIFY = "oidc.tls.insecure.skip.verify"

DEFAULT_SCOPES = ("openid", "profile", "email", "groups")
"""What a login asks the issuer for unless ``requestedScopes`` says otherwise."""

SUPPORTED_KEYS = frozenset(
    {
        "name",
        "issuer",
        "clientID",
        "clientSecret",
        "cliClientID",
        "allowedAudiences",
        "skipAudienceCheckWhenTokenHasNoAudience",
        "requestedScopes",
        "rootCA",
        "logoutURL",
    }
)

IMPLIED_KEYS = frozenset({"enablePKCEAuthentication"})
"""Keys accepted without effect because tether always behaves as their ``true``: every login
uses PKCE (S256), the confidential client's secret notwithstanding."""

UNSUPPORTED_KEYS: dict[str, str] = {
    # Argo CD's keys tether reads but does not act on; each warning says why.
    "requestedIDTokenClaims": "essential-claim requests are not sent",
    "enableUserInfoGroups": "groups come from the ID token only",
    "userInfoBaseURL": "groups come from the ID token only",
    "userInfoURL": "groups come from the ID token only",
    "userInfoPath": "groups come from the ID token only",
    "userInfoCacheExpiration": "groups come from the ID token only",
    "domainHint": "no Azure-specific login hints",
    "azure": "no Azure workload identity",
    "refreshTokenThreshold": "ID tokens are not refreshed",
}


class OidcConfigError(InvalidInputError):
    """``oidc.config`` cannot be used; the message names the key, never a secret value."""


@dataclasses.dataclass(frozen=True)
class SecretRef:
    """A ``$key`` or ``$name:key`` reference from ``argocd-cm`` to a Secret's key."""

    secret: str
    key: str


@dataclasses.dataclass(frozen=True)
class OidcConfig:
    """``oidc.config``, typed; ``client_secret`` may still be a reference to resolve."""

    name: str
    issuer: str
    client_id: str
    client_secret: str | SecretRef = dataclasses.field(default="", repr=False)
    cli_client_id: str = ""
    allowed_audiences: tuple[str, ...] = ()
    """As configured; empty means the defaults of :meth:`audiences`."""
    skip_audience_check_when_no_audience: bool = False
    requested_scopes: tuple[str, ...] = DEFAULT_SCOPES
    root_ca: str = ""
    """PEM certificates to trust for the issuer instead of the system's."""
    logout_url: str = ""
    insecure_skip_verify: bool = False
    """``oidc.tls.insecure.skip.verify``: the issuer's certificate is not checked."""

    @property
    def audiences(self) -> tuple[str, ...]:
        """The ``aud`` values an ID token may carry: the configured list, else the client ids."""
        if self.allowed_audiences:
            return self.allowed_audiences
        return tuple(a for a in (self.client_id, self.cli_client_id) if a)


@dataclasses.dataclass(frozen=True)
class SsoSettings:
    """What ``argocd-cm`` says about SSO."""

    url: str = ""
    """The server's external URL: logins return under it and the callback lives at it."""
    oidc: OidcConfig | None = None
    user_logins_disabled: bool = False
    """See :func:`user_logins_disabled`."""
    warnings: tuple[str, ...] = ()

    @property
    def redirect_uri(self) -> str:
        """Where the issuer sends the browser back to."""
        return self.url.rstrip("/") + "/auth/callback"


def parse(data: Mapping[str, str]) -> SsoSettings:
    """``argocd-cm``'s data → :class:`SsoSettings`.

    Raises:
        OidcConfigError: ``oidc.config`` is not a mapping, or misses ``issuer`` or ``clientID``.
    """
    url = str(data.get("url", "")).strip()
    logins_disabled = user_logins_disabled(data)
    raw = data.get("oidc.config", "")
    if not raw.strip():
        return SsoSettings(url=url, user_logins_disabled=logins_disabled)
    try:
        loaded = yaml.safe_load(raw)
    except yaml.YAMLError as err:
        raise OidcConfigError(f"{CONFIGMAP} oidc.config: not YAML ({_where(err)})") from None
    if not isinstance(loaded, dict):
        raise OidcConfigError(f"{CONFIGMAP} oidc.config: expected a mapping")
    warnings = _warnings(loaded)
    insecure = _flag(data.get(INSECURE_SKIP_VERIFY, "false"), INSECURE_SKIP_VERIFY)
    config = OidcConfig(
        name=_text(loaded, "name") or "SSO",
        issuer=_required(loaded, "issuer"),
        client_id=_required(loaded, "clientID"),
        client_secret=secret_ref(_text(loaded, "clientSecret")) or _text(loaded, "clientSecret"),
        cli_client_id=_text(loaded, "cliClientID"),
        allowed_audiences=_strings(loaded, "allowedAudiences"),
        skip_audience_check_when_no_audience=_bool(
            loaded, "skipAudienceCheckWhenTokenHasNoAudience"
        ),
        requested_scopes=_strings(loaded, "requestedScopes") or DEFAULT_SCOPES,
        root_ca=_text(loaded, "rootCA"),
        logout_url=_text(loaded, "logoutURL"),
        insecure_skip_verify=insecure,
    )
    if "enablePKCEAuthentication" in loaded:
        _bool(loaded, "enablePKCEAuthentication")  # still refused when malformed
    if "openid" not in config.requested_scopes:
        raise OidcConfigError(f"{CONFIGMAP} oidc.config requestedScopes: must include openid")
    return SsoSettings(
        url=url, oidc=config, user_logins_disabled=logins_disabled, warnings=warnings
    )


def secret_ref(value: str) -> SecretRef | None:
    """``$key`` → ``argocd-secret``'s key; ``$name:key`` → Secret ``name``'s key; else ``None``."""
    if not value.startswith("$") or len(value) < 2:
        return None
    name, sep, key = value[1:].partition(":")
    if sep and name and key:
        return SecretRef(name, key)
    return SecretRef(SECRET, value[1:])


def _warnings(loaded: dict[Any, Any]) -> tuple[str, ...]:
    known = SUPPORTED_KEYS | IMPLIED_KEYS | UNSUPPORTED_KEYS.keys()
    unknown = sorted(str(k) for k in loaded if k not in known)
    found: list[str] = []
    if unknown:
        found.append(f"{CONFIGMAP} oidc.config: unknown keys ignored: {', '.join(unknown)}")
    found.extend(
        f"{CONFIGMAP} oidc.config: {key} is not supported ({why})"
        for key, why in UNSUPPORTED_KEYS.items()
        if key in loaded
    )
    return tuple(found)


def _text(loaded: dict[Any, Any], key: str) -> str:
    value = loaded.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise OidcConfigError(f"{CONFIGMAP} oidc.config {key}: expected a string")
    return value.strip()


def _required(loaded: dict[Any, Any], key: str) -> str:
    value = _text(loaded, key)
    if not value:
        raise OidcConfigError(f"{CONFIGMAP} oidc.config: {key} is required")
    return value


def _strings(loaded: dict[Any, Any], key: str) -> tuple[str, ...]:
    value = loaded.get(key)
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise OidcConfigError(f"{CONFIGMAP} oidc.config {key}: expected a list of strings")
    return tuple(value)


def _bool(loaded: dict[Any, Any], key: str) -> bool:
    value = loaded.get(key, False)
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return _flag(value, f"oidc.config {key}")
    raise OidcConfigError(f"{CONFIGMAP} oidc.config {key}: expected true or false")


def _flag(value: str, where: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("true", "false", ""):
        return lowered == "true"
    raise OidcConfigError(f"{CONFIGMAP} {where}: expected true or false")


def _where(err: yaml.YAMLError) -> str:
    mark = getattr(err, "problem_mark", None)
    return f"line {mark.line + 1}" if mark is not None else "unparsable"


def user_logins_disabled(data: Mapping[str, str]) -> bool:
    """Whether no local account may log in with a password (the login page then offers SSO only).

    True when ``admin.enabled`` is ``false`` and no ``accounts.<name>`` has the ``login``
    capability while enabled.
    """
    if data.get("admin.enabled", "true").strip().lower() != "false":
        return False
    for key, value in data.items():
        name = key.removeprefix("accounts.")
        if key == name or "." in name:
            continue
        capabilities = {c.strip() for c in value.split(",")}
        enabled = data.get(f"accounts.{name}.enabled", "true").strip().lower() != "false"
        if "login" in capabilities and enabled:
            return False
    return True


def logout_location(settings: SsoSettings, id_token: str) -> str:
    """Where to send an SSO user after logout: ``logoutURL`` with its placeholders filled.

    ``{{token}}`` becomes the ID token and ``{{logoutRedirectURL}}`` the server's URL (both
    URL-encoded); without a ``logoutURL``, the server's URL (``/`` when unset).
    """
    back = settings.url or "/"
    if settings.oidc is None or not settings.oidc.logout_url:
        return back
    return settings.oidc.logout_url.replace(
        "{{token}}", urllib.parse.quote(id_token, safe="")
    ).replace("{{logoutRedirectURL}}", urllib.parse.quote(back, safe=""))
