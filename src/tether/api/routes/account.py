"""Accounts: listing them, changing a password, API keys, and ``can-i``.

A local caller manages their own account without RBAC; another account needs ``accounts, get``
or ``accounts, update`` on its name. Responses name tokens by id and times only.
"""

from __future__ import annotations

import datetime
import urllib.parse
from typing import Any

import pydantic
from fastapi import APIRouter, Request

from tether.api import errors
from tether.api.auth import as_api_error, services_of
from tether.api.context import caller_of, context_of
from tether.core.auth import rbac
from tether.core.auth.accounts import Account
from tether.core.auth.identity import Caller
from tether.model.errors import TetherError
from tether.services.auth.sessions import LoginRefused

router = APIRouter()

SSO_FRESHNESS = datetime.timedelta(minutes=5)
"""An SSO caller changing a local password must have logged in this recently."""


def _is_self(caller: Caller, name: str) -> bool:
    return caller.kind in ("login", "apiKey") and caller.subject == name


async def _may(request: Request, caller: Caller, action: str, name: str) -> bool:
    if _is_self(caller, name):
        return True
    return await context_of(request).authority.allowed(caller, "accounts", action, name)


def _describe(account: Account) -> dict[str, Any]:
    return {
        "name": account.name,
        "enabled": account.enabled,
        "capabilities": sorted(account.capabilities),
        "tokens": [
            {"id": t.id, "issuedAt": t.issued_at, "expiresAt": t.expires_at} for t in account.tokens
        ],
    }


@router.get("/api/v1/account")
async def list_accounts(request: Request) -> dict[str, Any]:
    """The accounts the caller may see."""
    caller = await caller_of(request)
    found = await services_of(request).accounts.all()
    items = [
        _describe(account)
        for name, account in sorted(found.items())
        if await _may(request, caller, "get", name)
    ]
    return {"items": items}


CAN_I = "/api/v1/account/can-i/"


def _can_i_words(request: Request, resource: str, action: str, subresource: str) -> list[str]:
    """The request's three words, split where the client put literal slashes.

    An action such as ``action/apps/Deployment/restart`` travels as one segment with its slashes
    escaped (``%2F``), as Argo CD's clients send it; the decoded path would split it wrongly.
    """
    raw = request.scope.get("raw_path")
    if isinstance(raw, bytes):
        _, found, tail = raw.decode("latin-1").partition(CAN_I)
        words = tail.split("/", 2)
        if found and len(words) == 3:
            return [urllib.parse.unquote(word) for word in words]
    return [resource, action, subresource]


@router.get(CAN_I + "{resource}/{action}/{subresource:path}")
async def can_i(request: Request, resource: str, action: str, subresource: str) -> dict[str, str]:
    """Whether the caller may ``action`` on ``resource`` ``subresource``."""
    resource, action, subresource = _can_i_words(request, resource, action, subresource)
    caller = await caller_of(request)
    if not rbac.known_request(resource, action):
        raise errors.invalid(f"unknown resource or action: {resource}, {action}")
    allowed = await context_of(request).authority.allowed(caller, resource, action, subresource)
    return {"value": "yes" if allowed else "no"}


@router.get("/api/v1/account/{name}")
async def get_account(request: Request, name: str) -> dict[str, Any]:
    """One account."""
    caller = await caller_of(request)
    if not await _may(request, caller, "get", name):
        raise errors.denied()
    account = await services_of(request).accounts.get(name)
    if account is None:
        raise errors.not_found(f"account '{name}' does not exist")
    return _describe(account)


class PasswordChange(pydantic.BaseModel):
    """``{name, currentPassword, newPassword}``; ``name`` defaults to the caller."""

    model_config = pydantic.ConfigDict(populate_by_name=True)
    name: str = ""
    current_password: str = pydantic.Field("", alias="currentPassword")
    new_password: str = pydantic.Field("", alias="newPassword")


@router.put("/api/v1/account/password")
async def update_password(request: Request, body: PasswordChange) -> dict[str, Any]:
    """Set an account's password; every older token of that account stops working."""
    caller = await caller_of(request)
    services = services_of(request)
    name = body.name or caller.subject
    if not _is_self(caller, name) and not await context_of(request).authority.allowed(
        caller, "accounts", "update", name
    ):
        raise errors.denied()
    if caller.kind in ("login", "apiKey"):
        # The caller proves they are at the keyboard with their own current password, within
        # the login limits (a stolen session must not become a password oracle).
        client = request.client.host if request.client else ""
        try:
            await services.sessions.verify_password(caller.subject, body.current_password, client)
        except LoginRefused:
            raise errors.invalid("current password does not match") from None
    elif caller.kind == "sso":
        issued = caller.issued_at
        if issued is None or context_of(request).runtime.clock() - issued > SSO_FRESHNESS:
            raise errors.invalid("log in again (SSO session older than 5 minutes)")
    else:
        raise errors.denied()
    target = await services.accounts.get(name)
    if target is None:
        raise errors.not_found(f"account '{name}' does not exist")
    settings = await services.accounts.settings()
    if not body.new_password or not settings.password_allowed(body.new_password):
        raise errors.invalid(f"new password does not match {settings.password_pattern}")
    await services.accounts.set_password(name, body.new_password)
    return {}


class TokenCreate(pydantic.BaseModel):
    """``{expiresIn (seconds, 0 = never), id}``."""

    model_config = pydantic.ConfigDict(populate_by_name=True)
    expires_in: int = pydantic.Field(0, alias="expiresIn", ge=0)
    id: str = ""


@router.post("/api/v1/account/{name}/token")
async def create_token(request: Request, name: str, body: TokenCreate) -> dict[str, str]:
    """A new API key for an account with the ``apiKey`` capability."""
    caller = await caller_of(request)
    if not await _may(request, caller, "update", name):
        raise errors.denied()
    try:
        token = await services_of(request).sessions.create_api_key(name, body.expires_in, body.id)
    except TetherError as err:
        raise as_api_error(err) from None
    return {"token": token}


@router.delete("/api/v1/account/{name}/token/{token_id}")
async def delete_token(request: Request, name: str, token_id: str) -> dict[str, Any]:
    """Revoke an account's API key."""
    caller = await caller_of(request)
    if not await _may(request, caller, "update", name):
        raise errors.denied()
    try:
        await services_of(request).sessions.delete_api_key(name, token_id)
    except TetherError as err:
        raise as_api_error(err) from None
    return {}
