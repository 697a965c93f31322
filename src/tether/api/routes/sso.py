"""SSO routes: ``/auth/login``, ``/auth/callback`` and the login page's ``/api/v1/settings``.

The callback answers errors as a small HTML page whose every piece of text is escaped: an
issuer's ``error`` parameter is attacker-controlled (CVE-2021-23347).
"""

from __future__ import annotations

import html

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tether.api import errors
from tether.api.context import TOKEN_COOKIE, context_of
from tether.core.auth.oidcstate import STATE_COOKIE
from tether.services.auth.oidcflow import Sso, SsoBadRequest, SsoUnavailable

router = APIRouter()

MAX_ERROR_CHARS = 500
"""An issuer's error text is shown cut to this length."""


def sso_of(request: Request) -> Sso:
    """The server's SSO service; 503 when the server runs without one."""
    sso = context_of(request).sso
    if sso is None:
        raise errors.ApiError(errors.Code.UNAVAILABLE, "SSO is not available on this server")
    return sso


@router.get("/api/v1/settings")
async def settings(request: Request) -> dict[str, object]:
    """The settings a login page needs, and nothing else (no secrets, no other settings)."""
    sso = context_of(request).sso
    try:
        if sso is None:
            raise SsoUnavailable("no SSO on this server")
        return await sso.public_settings()
    except SsoUnavailable:
        # A broken oidc.config must not hide the password login.
        return {"url": "", "userLoginsDisabled": False}


@router.get("/auth/login")
async def login(request: Request, return_url: str = "") -> Response:
    """Send the browser to the issuer, remembering the login in the state cookie."""
    try:
        start = await sso_of(request).begin(return_url)
    except SsoBadRequest as err:
        raise errors.invalid(str(err)) from None
    except SsoUnavailable as err:
        raise errors.ApiError(errors.Code.UNAVAILABLE, str(err)) from None
    response = RedirectResponse(start.location, status_code=303)
    response.set_cookie(
        STATE_COOKIE,
        start.state_cookie,
        max_age=start.max_age,
        path="/auth/",
        httponly=True,
        secure=True,
        samesite="lax",  # sent on the issuer's top-level redirect back to us
    )
    return response


@router.get("/auth/callback")
async def callback(
    request: Request,
    code: str = "",
    state: str = "",
    error: str = "",
    error_description: str = "",
) -> Response:
    """Finish the login: set the session cookie to the verified ID token and return."""
    if error:
        text = f"{error}: {error_description}" if error_description else error
        return _page(400, "Login failed", text[:MAX_ERROR_CHARS])
    try:
        done = await sso_of(request).finish(code, state, request.cookies.get(STATE_COOKIE, ""))
    except SsoBadRequest as err:
        return _page(400, "Login failed", str(err))
    except SsoUnavailable as err:
        return _page(503, "Login unavailable", str(err))
    response = RedirectResponse(done.return_url, status_code=303)
    response.delete_cookie(STATE_COOKIE, path="/auth/", secure=True, httponly=True)
    response.set_cookie(
        TOKEN_COOKIE,
        done.id_token,
        path="/",
        httponly=True,
        secure=True,
        samesite="lax",
    )
    return response


def _page(status: int, title: str, text: str) -> HTMLResponse:
    body = (
        '<!DOCTYPE html><html><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title></head><body>"
        f"<h1>{html.escape(title)}</h1><p>{html.escape(text)}</p></body></html>"
    )
    return HTMLResponse(body, status_code=status)
