"""Callers of a running API server, made as an administrator makes them: accounts, keys, RBAC.

A caller is a local account (``accounts.<name>: apiKey, login`` in ``argocd-cm``) holding an API
key the ``admin`` mints over HTTP; a grant is a ``p`` line of ``policy.csv`` in
``argocd-rbac-cm``; revoking deletes the key over HTTP. Every change returns once the server acts
on it: the server reads its settings through a short cache (``CACHE_TTL_S``), so the helpers poll.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import secrets
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import httpx2
from lightkube import ApiError
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import ConfigMap, Secret

from tests.support import tetherenv

T = TypeVar("T")

CACHE_TTL_S = 0.2
"""The settings cache of the servers these helpers drive (``build_context(cache_ttl=...)``):
short, so a grant or a revocation takes effect within a poll or two."""

WAIT_S = 20.0
"""How long a change may take to reach the server before a helper gives up."""

ACCOUNTS_CM = "argocd-cm"
RBAC_CM = "argocd-rbac-cm"
ADMIN_SECRET = "argocd-initial-admin-secret"

PROBE = "rbac-probe"
"""An account whose marker line changes with every policy write: once the server allows the
probe the new marker, it reads this version of ``argocd-rbac-cm`` (grants and withdrawals)."""

Grant = tuple[str, str, str]
"""``(resource, action glob, object glob)``; Casbin globs, where ``*`` spans ``/``."""


async def until(check: Callable[[], Awaitable[T | None]], what: str, timeout: float = WAIT_S) -> T:
    """Poll the coroutine ``check`` until it returns something other than ``None``."""
    deadline = time.monotonic() + timeout
    while True:
        found = await check()
        if found is not None:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(CACHE_TTL_S / 2)


def policy_line(subject: str, resource: str, action: str, obj: str) -> str:
    """A ``policy.csv`` line allowing ``subject`` ``action`` on ``resource`` ``obj``."""
    return f"p, {subject}, {resource}, {action}, {obj}, allow"


@dataclasses.dataclass
class ApiUsers:
    """The callers of the API server at ``url`` whose control-plane namespace is ``namespace``.

    Loop-agnostic (HTTP clients are made per call, the cluster is reached from a thread), so a
    module-wide server's users serve every test's event loop.
    """

    url: str
    kubeconfig: Path
    namespace: str
    _admin: str = ""
    _probe: str = ""
    _keys: dict[str, tuple[str, str]] = dataclasses.field(default_factory=dict)
    """Each minted token: ``(account, key id)``."""

    def client(self, token: str | None = None, **kwargs: Any) -> httpx2.AsyncClient:
        """A client of the server, sending ``token`` as a bearer token when given."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx2.AsyncClient(base_url=self.url, headers=headers, timeout=60.0, **kwargs)

    async def user(self, name: str, *grants: Grant) -> str:
        """A new API key of account ``name`` (created when missing), allowed ``grants``."""
        await self._edit(ACCOUNTS_CM, lambda data: {**data, f"accounts.{name}": "apiKey, login"})
        if grants:
            await self._write_policy(add=[policy_line(name, *grant) for grant in grants])
        return await self._mint(name)

    async def assign(self, name: str, role: str) -> None:
        """Give ``name`` the role ``role`` (``role:readonly``); returns once in force."""
        await self._write_policy(add=[f"g, {name}, {role}"])

    async def set_password(self, name: str, password: str) -> None:
        """Set ``name``'s password as the ``admin`` does (its ``login`` capability signs in)."""
        body = {
            "name": name,
            "currentPassword": await self.admin_password(),
            "newPassword": password,
        }
        async with self.client(await self._admin_token()) as http:
            answer = await http.put("/api/v1/account/password", json=body)
        assert answer.status_code == 200, answer.text

    async def grant(self, name: str, resource: str, action: str, obj: str) -> None:
        """Allow ``name`` ``action`` on ``resource`` objects matching ``obj``; returns once in
        force."""
        await self._write_policy(add=[policy_line(name, resource, action, obj)])

    async def withdraw(self, name: str, resource: str, action: str, obj: str) -> None:
        """Remove a grant's line; returns once the server reads the policy without it."""
        await self._write_policy(remove=[policy_line(name, resource, action, obj)])

    async def revoke(self, token: str) -> None:
        """Delete the API key ``token`` is, once the server refuses it."""
        name, key_id = self._keys.pop(token)
        async with self.client(await self._admin_token()) as http:
            answer = await http.delete(f"/api/v1/account/{name}/token/{key_id}")
        assert answer.status_code == 200, answer.text

        async def refused() -> bool | None:
            async with self.client(token) as http:
                info = (await http.get("/api/v1/session/userinfo")).json()
            return True if info == {"loggedIn": False} else None

        await until(refused, f"the server to refuse {name}'s revoked key {key_id}")

    async def admin_password(self) -> str:
        """The initial ``admin`` password the server wrote when it first started."""
        secret = await asyncio.to_thread(self._secret, ADMIN_SECRET)
        assert secret.data is not None
        return base64.b64decode(secret.data["password"]).decode()

    async def _admin_token(self) -> str:
        if not self._admin:
            body = {"username": "admin", "password": await self.admin_password()}
            async with self.client() as http:
                answer = await http.post("/api/v1/session", json=body)
            assert answer.status_code == 200, answer.text
            self._admin = str(answer.json()["token"])
        return self._admin

    async def _mint(self, name: str) -> str:
        """A new API key for ``name``, minted by ``admin`` once the server knows the account."""
        key_id = f"{name}-{secrets.token_hex(4)}"
        admin = await self._admin_token()

        async def minted() -> str | None:
            async with self.client(admin) as http:
                answer = await http.post(f"/api/v1/account/{name}/token", json={"id": key_id})
            if answer.status_code == 404:  # argocd-cm as the server last read it lacks name
                return None
            assert answer.status_code == 200, answer.text
            return str(answer.json()["token"])

        token = await until(minted, f"the server to know account {name} and mint its key")
        self._keys[token] = (name, key_id)
        return token

    async def _write_policy(self, *, add: Sequence[str] = (), remove: Sequence[str] = ()) -> None:
        """Change ``policy.csv``'s lines, then wait until the server reads the new version."""
        if not self._probe:
            await self._edit(ACCOUNTS_CM, lambda data: {**data, f"accounts.{PROBE}": "apiKey"})
            self._probe = await self._mint(PROBE)
        marker = f"marker-{secrets.token_hex(6)}"

        def change(data: dict[str, str]) -> dict[str, str]:
            lines = [
                line
                for line in data.get("policy.csv", "").splitlines()
                if line.strip() and line not in remove and not line.startswith(f"p, {PROBE},")
            ]
            lines += [line for line in add if line not in lines]
            lines.append(policy_line(PROBE, "accounts", "get", marker))
            return {**data, "policy.csv": "\n".join(lines) + "\n"}

        await self._edit(RBAC_CM, change)

        async def in_force() -> bool | None:
            async with self.client(self._probe) as http:
                answer = await http.get(f"/api/v1/account/can-i/accounts/get/{marker}")
            assert answer.status_code == 200, answer.text
            return True if answer.json()["value"] == "yes" else None

        await until(in_force, f"the server to read {RBAC_CM} with {add or remove}")

    def _secret(self, name: str) -> Secret:
        with tetherenv.client(self.kubeconfig) as kube:
            return kube.get(Secret, name, namespace=self.namespace)

    async def _edit(self, name: str, change: Callable[[dict[str, str]], dict[str, str]]) -> None:
        """Read-modify-write a ConfigMap's ``data`` (created when missing); retried on conflict."""
        await asyncio.to_thread(self._edit_now, name, change)

    def _edit_now(self, name: str, change: Callable[[dict[str, str]], dict[str, str]]) -> None:
        with tetherenv.client(self.kubeconfig) as kube:
            for _attempt in range(8):
                try:
                    found = kube.get(ConfigMap, name, namespace=self.namespace)
                except ApiError as err:
                    if err.status.code != 404:
                        raise
                    fresh = ConfigMap(
                        metadata=ObjectMeta(name=name, namespace=self.namespace), data=change({})
                    )
                    try:
                        kube.create(fresh)
                    except ApiError as conflict:
                        if conflict.status.code != 409:
                            raise
                        continue  # created meanwhile: edit that one
                    return
                found.data = change(dict(found.data or {}))
                try:
                    kube.replace(found)  # with the read's resourceVersion: a lost race is a 409
                except ApiError as conflict:
                    if conflict.status.code != 409:
                        raise
                    continue
                return
        raise AssertionError(f"ConfigMap {self.namespace}/{name}: too many concurrent writers")
