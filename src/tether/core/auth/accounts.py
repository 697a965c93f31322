"""Local accounts as Argo CD stores them, and the rules about them.

``argocd-cm`` says who exists and what they may do; ``argocd-secret`` holds their password
hashes, password times and API tokens.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import re
from collections.abc import Mapping
from typing import Literal

from tether.model import timestamps
from tether.model.errors import InvalidInputError

CONFIGMAP = "argocd-cm"
SECRET = "argocd-secret"
INITIAL_ADMIN_SECRET = "argocd-initial-admin-secret"
"""Holds the generated first admin password (key ``password``) until an operator deletes it."""

ADMIN = "admin"
SECRET_KEY = "server.secretkey"
"""The HMAC key of every token this server signs (32 random bytes, made at first start)."""

Capability = Literal["login", "apiKey"]
CAPABILITIES: tuple[Capability, ...] = ("login", "apiKey")

DEFAULT_SESSION_DURATION = datetime.timedelta(hours=24)
DEFAULT_PASSWORD_PATTERN = "^.{8,32}$"
MAX_USERNAME_BYTES = 32
"""Longer names are refused (400) before anything else is looked at."""

SETTINGS_KEYS: dict[str, str] = {
    # argocd-cm key: what it sets (defaults in ``AuthSettings``).
    "users.session.duration": "how long a login session lasts (Go duration, default 24h)",
    "users.anonymous.enabled": "'true': callers without a valid token get the default role",
    "passwordPattern": "what a new password must match (default ^.{8,32}$)",
    "admin.enabled": "'false' disables the admin account",
}


@dataclasses.dataclass(frozen=True)
class TokenEntry:
    """An issued API key, as the account's ``tokens`` JSON lists it (the token itself is gone)."""

    id: str
    issued_at: int
    expires_at: int = 0
    """Seconds since the epoch; 0 = never."""

    def to_json(self) -> dict[str, object]:
        """The stored shape ``{"id","iat","exp"}``."""
        return {"id": self.id, "iat": self.issued_at, "exp": self.expires_at}


@dataclasses.dataclass(frozen=True)
class Account:
    """One local account: the ``admin`` one or an ``accounts.<name>`` of ``argocd-cm``."""

    name: str
    enabled: bool
    capabilities: frozenset[str]
    password_hash: str = ""
    password_mtime: datetime.datetime | None = None
    tokens: tuple[TokenEntry, ...] = ()

    def can(self, capability: Capability) -> bool:
        """Whether the account is enabled and has ``capability``."""
        return self.enabled and capability in self.capabilities

    def token(self, token_id: str) -> TokenEntry | None:
        """The API key listed under ``token_id``."""
        return next((t for t in self.tokens if t.id == token_id), None)


@dataclasses.dataclass(frozen=True)
class AuthSettings:
    """The account settings of ``argocd-cm``."""

    session_duration: datetime.timedelta = DEFAULT_SESSION_DURATION
    anonymous_enabled: bool = False
    password_pattern: str = DEFAULT_PASSWORD_PATTERN

    @classmethod
    def from_configmap(cls, data: Mapping[str, str] | None) -> AuthSettings:
        """Read ``argocd-cm``; a bad duration or pattern is an error naming the key."""
        data = data or {}
        raw = data.get("users.session.duration", "").strip()
        duration = parse_duration(raw, "users.session.duration") if raw else None
        pattern = data.get("passwordPattern", "") or DEFAULT_PASSWORD_PATTERN
        try:
            re.compile(pattern)
        except re.error:
            raise InvalidInputError(f"{CONFIGMAP} passwordPattern: not a valid regex") from None
        return cls(
            session_duration=duration or DEFAULT_SESSION_DURATION,
            anonymous_enabled=data.get("users.anonymous.enabled", "") == "true",
            password_pattern=pattern,
        )

    def password_allowed(self, password: str) -> bool:
        """Whether a new password matches ``passwordPattern``."""
        return re.search(self.password_pattern, password) is not None


_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}


def parse_duration(text: str, key: str) -> datetime.timedelta:
    """A Go duration (``24h``, ``1h30m``, ``90s``); must be positive."""
    position, seconds = 0, 0.0
    while position < len(text):
        part = _DURATION_PART.match(text, position)
        if part is None:
            raise InvalidInputError(f"{CONFIGMAP} {key}: not a duration such as 24h or 30m")
        seconds += float(part.group(1)) * _UNIT_SECONDS[part.group(2)]
        position = part.end()
    if seconds <= 0:
        raise InvalidInputError(f"{CONFIGMAP} {key}: must be positive")
    return datetime.timedelta(seconds=seconds)


def password_key(name: str) -> str:
    """The ``argocd-secret`` key of an account's bcrypt hash."""
    return "admin.password" if name == ADMIN else f"accounts.{name}.password"


def mtime_key(name: str) -> str:
    """The ``argocd-secret`` key of when an account's password last changed (RFC 3339)."""
    return "admin.passwordMtime" if name == ADMIN else f"accounts.{name}.passwordMtime"


def tokens_key(name: str) -> str:
    """The ``argocd-secret`` key of an account's API keys (JSON list)."""
    return "admin.tokens" if name == ADMIN else f"accounts.{name}.tokens"


def accounts_from(
    config: Mapping[str, str] | None, secret: Mapping[str, str] | None
) -> dict[str, Account]:
    """Every local account, by name: ``admin`` (unless disabled is all it can be) and the rest."""
    config, secret = config or {}, secret or {}
    names = {ADMIN: "login"}  # admin logs in and has no API keys, whatever argocd-cm says
    for key, value in config.items():
        name = key.removeprefix("accounts.")
        if key.startswith("accounts.") and name and name != ADMIN and _valid_name(name):
            names[name] = value
    accounts = {}
    for name, caps in names.items():
        enabled_key = "admin.enabled" if name == ADMIN else f"accounts.{name}.enabled"
        accounts[name] = Account(
            name=name,
            enabled=config.get(enabled_key, "true").strip().lower() != "false",
            capabilities=frozenset(c.strip() for c in caps.split(",") if c.strip()),
            password_hash=secret.get(password_key(name), ""),
            password_mtime=timestamps.parse(secret.get(mtime_key(name), "")),
            tokens=parse_tokens(secret.get(tokens_key(name), "")),
        )
    return accounts


def _valid_name(name: str) -> bool:
    # No dots (they separate the key's parts) and no colons: a name such as ``proj:p:r`` would
    # be judged as that project role, and ``x:apiKey`` would read as another token kind.
    return "." not in name and ":" not in name


def parse_tokens(text: str) -> tuple[TokenEntry, ...]:
    """The stored ``tokens`` JSON; entries that are not well-formed are skipped."""
    if not text.strip():
        return ()
    try:
        raw = json.loads(text)
    except json.JSONDecodeError:
        return ()
    return tuple(
        TokenEntry(item["id"], int(item.get("iat") or 0), int(item.get("exp") or 0))
        for item in (raw if isinstance(raw, list) else [])
        if isinstance(item, dict) and isinstance(item.get("id"), str)
    )


def dump_tokens(tokens: tuple[TokenEntry, ...]) -> str:
    """The ``tokens`` JSON to store."""
    return json.dumps([t.to_json() for t in tokens], separators=(",", ":"))


def format_mtime(moment: datetime.datetime) -> str:
    """A password time as stored: RFC 3339 in UTC with microseconds.

    The microseconds tell a token issued in the same second as a password change apart.
    """
    return moment.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")


INITIAL_PASSWORD_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-"
INITIAL_PASSWORD_LENGTH = 20
"""Over 16 characters of a 63-letter alphabet: about 119 bits, never derived from anything."""
