"""The login page: a local account's username and password, and SSO when it is configured."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from tether.ui import apicall, render

router = APIRouter(include_in_schema=False)


UNSAFE_IN_RETURN = frozenset("\\") | frozenset(chr(c) for c in (*range(0x21), 0x7F))
"""Characters a return address never holds: browsers drop tabs and newlines from a URL and read
a backslash as a slash, so a tab or a backslash between two slashes would make ``//host`` of it,
another site; a space or a control character has no business in a path of ours."""


def safe_return(target: str) -> str:
    """``target`` when it is a path on this server, else the applications page.

    A return address is user input: ``//host`` or ``https://...`` would make the login page an
    open redirect.
    """
    if (
        target.startswith("/")
        and not target.startswith("//")
        and not any(c in UNSAFE_IN_RETURN for c in target)
    ):
        return target
    return "/applications"


def login_url(request: Request) -> str:
    """The login page, coming back to ``request``'s page afterwards."""
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    current = request.headers.get("hx-current-url", "")
    if request.headers.get("hx-request") and "://" in current:
        # A fragment's own URL is no page to come back to; the page that asked for it is.
        here = "/" + current.split("://", 1)[1].partition("/")[2]
    return "/login?" + urlencode({"return": safe_return(here)})


@router.get("/", name="root")
async def root() -> Response:
    """The start page is the applications list."""
    return RedirectResponse("/applications", status_code=303)


@router.get("/login", name="login_page")
async def login_page(request: Request) -> HTMLResponse:
    """The sign-in form, and the SSO button when the server has SSO."""
    return_to = safe_return(request.query_params.get("return", ""))
    settings = await apicall.api_of(request).get("/api/v1/settings")
    oidc = settings.get("oidcConfig") or {}
    base = str(settings.get("url") or "").rstrip("/")
    return render.html(
        request,
        "login.html",
        return_to=return_to,
        sso_name=str(oidc.get("name") or "SSO") if oidc else "",
        # The issuer sends the browser back to an address under the server's external URL
        # (argocd-cm's url), which SSO cannot work without.
        sso_href="/auth/login?" + urlencode({"return_url": base + return_to}) if base else "",
        user_logins_disabled=bool(settings.get("userLoginsDisabled")),
        section="",
        user="",
    )
