"""Local accounts over ``argocd-cm`` and ``argocd-secret``: first start, passwords, API keys.

First start makes ``server.secretkey`` and, while ``admin.password`` is empty, a random admin
password kept in ``argocd-initial-admin-secret``; every write is optimistically locked, so
replicas starting together agree on one password. bcrypt runs in a worker thread.
"""

from __future__ import annotations

import asyncio
import base64
import datetime
import functools
import logging
import secrets
from collections.abc import Callable

import bcrypt

from tether.core.auth import accounts
from tether.core.auth.accounts import Account, AuthSettings, TokenEntry
from tether.model.errors import InvalidInputError
from tether.services.auth.store import SettingsStore

log = logging.getLogger(__name__)

BCRYPT_ROUNDS = 10
"""Argo CD's cost; about 50-100 ms a check, which is the point."""


@functools.cache
def _dummy_hash() -> str:
    """Checked against when the user does not exist, so unknown users cost the same bcrypt."""
    return hash_password("tether-no-such-account")


def generate_password() -> str:
    """A fresh initial password from the CSPRNG."""
    alphabet = accounts.INITIAL_PASSWORD_ALPHABET
    return "".join(secrets.choice(alphabet) for _ in range(accounts.INITIAL_PASSWORD_LENGTH))


def hash_password(password: str) -> str:
    """bcrypt hash of ``password`` (blocking: call in a thread)."""
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(BCRYPT_ROUNDS)).decode()


def _matches(password: str, hashed: str) -> bool:
    try:
        return bcrypt.checkpw(password.encode(), hashed.encode())
    except ValueError:
        return False  # a stored hash that is not bcrypt matches nothing


class Accounts:
    """The local accounts and the server's signing key."""

    def __init__(self, store: SettingsStore, clock: Callable[[], datetime.datetime]) -> None:
        self._store = store
        self._clock = clock

    async def ensure_ready(self) -> None:
        """Create the signing key and the initial admin password if missing (idempotent)."""
        await self._store.update_secret(accounts.SECRET, _with_secret_key)
        fields = await self._store.secret(accounts.SECRET)
        if fields.get(accounts.password_key(accounts.ADMIN)):
            return
        # The initial Secret first: creating it is atomic, so of two replicas starting at once
        # one creates it and the other reads that one's password, and both then store its hash.
        kept = await self._store.create_secret_once(
            accounts.INITIAL_ADMIN_SECRET, {"password": generate_password()}
        )
        hashed = await asyncio.to_thread(hash_password, kept["password"])
        mtime = accounts.format_mtime(self._clock())

        def set_admin(current: dict[str, str]) -> dict[str, str | None] | None:
            if current.get(accounts.password_key(accounts.ADMIN)):
                return None  # another replica finished first
            return {
                accounts.password_key(accounts.ADMIN): hashed,
                accounts.mtime_key(accounts.ADMIN): mtime,
            }

        await self._store.update_secret(accounts.SECRET, set_admin)
        log.info(
            "admin password generated; it is in Secret %s/%s (key password)",
            self._store.namespace,
            accounts.INITIAL_ADMIN_SECRET,
        )

    async def secret_key(self) -> bytes:
        """The HMAC key tokens are signed with."""
        key = (await self._store.secret(accounts.SECRET)).get(accounts.SECRET_KEY, "")
        if not key:
            await self.ensure_ready()
            key = (await self._store.secret(accounts.SECRET)).get(accounts.SECRET_KEY, "")
        return key.encode()

    async def settings(self) -> AuthSettings:
        """The account settings of ``argocd-cm``; defaults when they cannot be read."""
        try:
            return AuthSettings.from_configmap(await self._store.configmap(accounts.CONFIGMAP))
        except InvalidInputError as err:
            log.error("%s; using the defaults", err)
            return AuthSettings()

    async def all(self) -> dict[str, Account]:
        """Every local account, by name."""
        return accounts.accounts_from(
            await self._store.configmap(accounts.CONFIGMAP),
            await self._store.secret(accounts.SECRET),
        )

    async def get(self, name: str) -> Account | None:
        """One account, or ``None``."""
        return (await self.all()).get(name)

    async def check_password(self, account: Account | None, password: str) -> bool:
        """Whether ``password`` is the account's; costs one bcrypt even for no account."""
        hashed = account.password_hash if account is not None else ""
        if not hashed:
            await asyncio.to_thread(lambda: _matches(password, _dummy_hash()))
            return False
        return await asyncio.to_thread(_matches, password, hashed)

    async def set_password(self, name: str, password: str) -> None:
        """Store a new password and its time, which ends every older token of the account."""
        hashed = await asyncio.to_thread(hash_password, password)
        mtime = accounts.format_mtime(self._clock())
        await self._store.update_secret(
            accounts.SECRET,
            lambda _fields: {accounts.password_key(name): hashed, accounts.mtime_key(name): mtime},
        )

    async def add_token(self, name: str, entry: TokenEntry) -> bool:
        """List a new API key on the account; ``False`` when its id is taken."""
        taken = False

        def add(fields: dict[str, str]) -> dict[str, str | None] | None:
            nonlocal taken
            current = accounts.parse_tokens(fields.get(accounts.tokens_key(name), ""))
            taken = any(t.id == entry.id for t in current)
            if taken:
                return None
            return {accounts.tokens_key(name): accounts.dump_tokens((*current, entry))}

        await self._store.update_secret(accounts.SECRET, add)
        return not taken

    async def remove_token(self, name: str, token_id: str) -> None:
        """Unlist an API key, which revokes it."""

        def remove(fields: dict[str, str]) -> dict[str, str | None] | None:
            current = accounts.parse_tokens(fields.get(accounts.tokens_key(name), ""))
            kept = tuple(t for t in current if t.id != token_id)
            if kept == current:
                return None
            return {accounts.tokens_key(name): accounts.dump_tokens(kept)}

        await self._store.update_secret(accounts.SECRET, remove)


def _with_secret_key(fields: dict[str, str]) -> dict[str, str | None] | None:
    if fields.get(accounts.SECRET_KEY):
        return None
    return {accounts.SECRET_KEY: base64.b64encode(secrets.token_bytes(32)).decode()}
