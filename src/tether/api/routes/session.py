"""Sessions: password login, logout, and who the caller is.

``POST /api/v1/session`` answers a token and sets it as the ``argocd.token`` cookie (HttpOnly,
Secure, SameSite=Lax); ``DELETE /api/v1/session`` and ``GET /auth/logout`` revoke it on every
replica and empty the cookie.
"""

from __future__ import annotations

from typing import Any

import pydantic
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from tether.api import errors
from tether.api.auth import as_api_error, services_of
from tether.api.context import TOKEN_COOKIE, caller_of, token_of
from tether.core.auth import login
from tether.core.auth.identity import Caller
from tether.services.auth.sessions import LoginRefused

router = APIRouter()


class SessionCreate(pydantic.BaseModel):
    """``{"username", "password"}``; a ``token`` field is Argo CD's SSO path, refused here."""

    username: str = ""
    password: str = ""
    token: str = ""


def _set_cookie(response: Response, token: str) -> None:
    response.set_cookie(
        TOKEN_COOKIE,
        token,
        path="/",
        httponly=True,  # no script reads the session
        secure=True,  # never sent over plain HTTP except to loopback
        samesite="lax",  # not sent on cross-site subrequests or POSTs
    )


@router.post("/api/v1/session")
async def create_session(request: Request, body: SessionCreate) -> Response:
    """Log in with a password."""
    if body.token:
        raise errors.unauthenticated(login.INVALID_LOGIN)
    client = request.client.host if request.client else ""
    try:
        token = await services_of(request).sessions.login(body.username, body.password, client)
    except LoginRefused as err:
        raise as_api_error(err) from None
    response = JSONResponse({"token": token})
    _set_cookie(response, token)
    return response


async def _revoke(request: Request) -> None:
    if token_of(request) is None:
        return
    try:
        caller: Caller = await caller_of(request)
    except errors.ApiError:
        return  # an invalid token needs no revoking
    await services_of(request).sessions.logout(caller)


@router.delete("/api/v1/session")
async def delete_session(request: Request) -> Response:
    """Log out: revoke the token and empty the cookie."""
    await _revoke(request)
    response = JSONResponse({"token": ""})
    _set_cookie(response, "")
    return response


@router.get("/auth/logout")
async def logout(request: Request) -> Response:
    """Log out from a browser: revoke, empty the cookie, go to the start page."""
    await _revoke(request)
    response = RedirectResponse("/", status_code=303)
    _set_cookie(response, "")
    return response


@router.get("/api/v1/session/userinfo")
async def userinfo(request: Request) -> dict[str, Any]:
    """Who the caller is; works without a token."""
    if token_of(request) is None:
        return {"loggedIn": False}
    try:
        caller = await caller_of(request)
    except errors.ApiError:
        return {"loggedIn": False}
    if caller.kind == "anonymous":
        return {"loggedIn": False}
    return {
        "loggedIn": True,
        "username": caller.username,
        "iss": caller.issuer,
        "groups": list(caller.groups),
    }
