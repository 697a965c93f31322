"""Issuing and ending tokens: password logins, logouts, API keys and project-role tokens.

Every failed login looks the same to the caller. The per-user and per-client limits are checked
before the password; unknown users cost a bcrypt like known ones; a disabled account or one
without ``login`` is refused only after its password proved right.
"""

from __future__ import annotations

import datetime
import random
import uuid
from collections.abc import Callable
from typing import Any

from tether.core.auth import login, rbac, tokens
from tether.core.auth.accounts import Account, TokenEntry
from tether.core.auth.identity import Caller
from tether.model.errors import InvalidInputError, TetherError
from tether.services.auth.accounts import Accounts
from tether.services.auth.revocation import Revocations
from tether.services.auth.store import SettingsStore

MAX_CONCURRENT_LOGINS = 50
"""Password checks in progress at once; more are refused like a wrong password."""


class LoginRefused(TetherError):
    """A login failed; ``bad_request`` when the request itself was malformed (400)."""

    def __init__(self, message: str = login.INVALID_LOGIN, *, bad_request: bool = False) -> None:
        super().__init__(message)
        self.bad_request = bad_request


class MissingError(TetherError):
    """The account, project or role named does not exist."""


class Sessions:
    """Logins, logouts and the tokens accounts and project roles hold."""

    def __init__(
        self,
        store: SettingsStore,
        accounts_: Accounts,
        revocations: Revocations,
        clock: Callable[[], datetime.datetime],
        *,
        rng: random.Random | None = None,
    ) -> None:
        self._store = store
        self._accounts = accounts_
        self._revocations = revocations
        self._clock = clock
        self._users = login.FailureTracker(*login.LIMITS["user"], rng=rng)
        self._clients = login.FailureTracker(*login.LIMITS["client"], rng=rng)
        self._checking = 0

    async def login(self, username: str, password: str, client: str) -> str:
        """A login session's token; raises :class:`LoginRefused`."""
        account = await self.verify_password(username, password, client)
        if not account.can("login"):
            raise LoginRefused()  # only now: a wrong password must not learn this
        settings = await self._accounts.settings()
        return tokens.issue(
            await self._accounts.secret_key(),
            tokens.login_subject(account.name),
            str(uuid.uuid4()),
            self._clock(),
            settings.session_duration,
        )

    async def verify_password(self, username: str, password: str, client: str) -> Account:
        """The account, if ``password`` is its own; within the per-user and per-client limits.

        Raises :class:`LoginRefused` (the same for every failure but a too long name).
        """
        if login.username_too_long(username):
            raise LoginRefused("username is too long", bad_request=True)
        if not username or not password or self._checking >= MAX_CONCURRENT_LOGINS:
            raise LoginRefused()
        now = self._clock().timestamp()
        if not self._users.begin(username, now):
            raise LoginRefused()
        if not self._clients.begin(client, now):
            self._users.abandon(username)
            raise LoginRefused()
        self._checking += 1
        try:
            account = await self._accounts.get(username)
            right = await self._accounts.check_password(account, password)
        except BaseException:
            self._users.abandon(username)
            self._clients.abandon(client)
            raise
        finally:
            self._checking -= 1
        now = self._clock().timestamp()
        if not right or account is None:
            self._users.fail(username, now)
            self._clients.fail(client, now)
            raise LoginRefused()
        self._users.succeed(username)
        self._clients.abandon(client)  # a success elsewhere does not forgive the address
        return account

    async def logout(self, caller: Caller) -> None:
        """Revoke the caller's token on every replica until it expires."""
        if caller.token_id:
            await self._revocations.revoke(caller.token_id, caller.expires_at)

    async def create_api_key(self, name: str, expires_in: int, token_id: str = "") -> str:
        """A new API key for account ``name`` (which needs the ``apiKey`` capability)."""
        account = await self._accounts.get(name)
        if account is None:
            raise MissingError(f"account '{name}' does not exist")
        if not account.can("apiKey"):
            raise InvalidInputError(f"account '{name}' does not have 'apiKey' capability")
        token_id = token_id or str(uuid.uuid4())
        now = self._clock()
        lifetime = datetime.timedelta(seconds=expires_in) if expires_in > 0 else None
        expires = int((now + lifetime).timestamp()) if lifetime else 0
        entry = TokenEntry(token_id, int(now.timestamp()), expires)
        if not await self._accounts.add_token(name, entry):
            raise InvalidInputError(f"account '{name}' already has a token with id '{token_id}'")
        key = await self._accounts.secret_key()
        return tokens.issue(key, tokens.api_key_subject(name), token_id, now, lifetime)

    async def delete_api_key(self, name: str, token_id: str) -> None:
        """Revoke an account's API key by its id."""
        if await self._accounts.get(name) is None:
            raise MissingError(f"account '{name}' does not exist")
        await self._accounts.remove_token(name, token_id)

    async def create_project_token(
        self, project: str, role: str, expires_in: int, token_id: str = ""
    ) -> str:
        """A token for a project role, listed in ``status.jwtTokensByRole``."""
        token_id = token_id or str(uuid.uuid4())
        now = self._clock()
        lifetime = datetime.timedelta(seconds=expires_in) if expires_in > 0 else None
        entry: dict[str, Any] = {"iat": int(now.timestamp()), "id": token_id}
        if lifetime:
            entry["exp"] = int((now + lifetime).timestamp())

        def add(obj: dict[str, Any]) -> bool:
            items = _items(obj, role)
            if any(item.get("id") == token_id for item in items):
                raise InvalidInputError(f"token id '{token_id}' has been used")
            items.append(entry)
            return True

        if await self._store.update_project(project, add) is None:
            raise MissingError(f"project '{project}' does not exist")
        key = await self._accounts.secret_key()
        return tokens.issue(key, rbac.role_subject(project, role), token_id, now, lifetime)

    async def delete_project_token(self, project: str, role: str, iat: int, token_id: str) -> None:
        """Unlist a project role's token (by id; by ``iat`` for tokens without one)."""

        def remove(obj: dict[str, Any]) -> bool:
            items = _items(obj, role)
            kept = [
                item
                for item in items
                if not (item.get("id") == token_id if token_id else item.get("iat") == iat)
            ]
            spec_role = _role(obj, role)
            legacy = spec_role.get("jwtTokens") or []
            kept_legacy = [t for t in legacy if t.get("iat") != iat]  # older Argo CD's list
            if kept_legacy:
                spec_role["jwtTokens"] = kept_legacy
            else:
                spec_role.pop("jwtTokens", None)
            changed = len(kept) != len(items) or len(kept_legacy) != len(legacy)
            items[:] = kept
            return changed

        if await self._store.update_project(project, remove) is None:
            raise MissingError(f"project '{project}' does not exist")


def _role(obj: dict[str, Any], role: str) -> dict[str, Any]:
    for candidate in (obj.get("spec") or {}).get("roles") or []:
        if isinstance(candidate, dict) and candidate.get("name") == role:
            return candidate
    raise MissingError(f"project '{obj['metadata']['name']}' has no role '{role}'")


def _items(obj: dict[str, Any], role: str) -> list[dict[str, Any]]:
    """The role's token list in the project's status, created empty if absent."""
    _role(obj, role)
    status = obj.setdefault("status", {}) or {}
    obj["status"] = status
    by_role = status.setdefault("jwtTokensByRole", {}) or {}
    status["jwtTokensByRole"] = by_role
    entry = by_role.setdefault(role, {}) or {}
    by_role[role] = entry
    items: list[dict[str, Any]] = entry.setdefault("items", []) or []
    entry["items"] = items
    return items
