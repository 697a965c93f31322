"""Revoked session ids, shared by every replica through one Secret in the control-plane namespace.

A logout lists the token's ``jti`` with its expiry in Secret ``tether-revoked-tokens``; entries
whose token has expired anyway are pruned on each write, and the list is bounded
(``tokens.revoked_with``). Reads go through the store's short cache.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable

from tether.core.auth import tokens
from tether.services.auth.store import SettingsStore

SECRET = "tether-revoked-tokens"
KEY = "revoked"

NO_EXPIRY_KEEP = datetime.timedelta(days=365)
"""How long a token without ``exp`` stays listed after its revocation."""


def _parse(text: str) -> dict[str, float]:
    try:
        raw = json.loads(text) if text else {}
    except json.JSONDecodeError:
        return {}
    if not isinstance(raw, dict):
        return {}
    return {
        str(k): float(v)
        for k, v in raw.items()
        if isinstance(v, int | float) and not isinstance(v, bool)
    }


class Revocations:
    """The revoked token ids."""

    def __init__(self, store: SettingsStore, clock: Callable[[], datetime.datetime]) -> None:
        self._store = store
        self._clock = clock

    async def is_revoked(self, token_id: str) -> bool:
        """Whether a token id was revoked (by any replica, up to the store's cache age ago)."""
        listed = _parse((await self._store.secret(SECRET)).get(KEY, ""))
        return token_id in listed

    async def revoke(self, token_id: str, expires_at: datetime.datetime | None) -> None:
        """List ``token_id`` until its token would have expired anyway."""
        now = self._clock()
        until = (expires_at or now + NO_EXPIRY_KEEP).timestamp()

        def add(fields: dict[str, str]) -> dict[str, str | None]:
            listed = _parse(fields.get(KEY, ""))
            kept = tokens.revoked_with(listed, token_id, until, now.timestamp())
            return {KEY: json.dumps(kept, separators=(",", ":"))}

        await self._store.update_secret(SECRET, add)
