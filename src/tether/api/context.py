"""What every route is given: the wired runtime and the authority over who may do what.

Also the helpers that read a caller from a request and check one permission.
"""

from __future__ import annotations

import dataclasses
from typing import Protocol

from fastapi import Depends, Request

from tether import bootstrap
from tether.api import errors
from tether.core.auth.identity import Caller
from tether.services.auth.oidcflow import Sso

FIELD_MANAGER = "tether-server"
"""Who every write the API makes for its callers is recorded as (Argo CD's ``argocd-server``):
apart from the controller's apply, so a user's patch of a live object shows as drift, an edit of
an app is told from the controller's, and a refresh annotation is never the parent app's field."""

TOKEN_COOKIE = "argocd.token"
"""Argo CD's session cookie name, so its UI habits and scripts carry over."""


class Authority(Protocol):
    """Authentication and RBAC, as routes need them."""

    async def authenticate(self, token: str | None) -> Caller:
        """The caller a token proves; raises ``ApiError`` (401) when it proves nobody."""
        ...

    async def allowed(self, caller: Caller, resource: str, action: str, obj: str) -> bool:
        """Whether ``caller`` may ``action`` on ``resource`` ``obj`` (Argo CD's RBAC tuple)."""
        ...

    async def judges_by_project(self, resource: str, project: str) -> bool:
        """Whether ``allowed`` answers alike for all of a project's apps in one namespace.

        True when no policy line can name an app (whoever asks): lists then ask once per
        project and namespace.
        """
        ...


@dataclasses.dataclass
class ApiContext:
    """Everything the API's routes share; one per server."""

    runtime: bootstrap.Runtime
    authority: Authority
    sso: Sso | None = None
    """SSO through the configured OIDC issuer (``bootstrap.sso``); none serves no SSO routes."""

    @property
    def namespace(self) -> str:
        """The control-plane namespace (Argo CD's ``argocd``)."""
        return self.runtime.settings.control_plane_namespace


def context_of(request: Request) -> ApiContext:
    """The context of the server ``request`` arrived at."""
    ctx: ApiContext = request.app.state.ctx
    return ctx


def token_of(request: Request) -> str | None:
    """The session token: an ``Authorization: Bearer`` JWT first, then the session cookie."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and value.strip().count(".") == 2:
        return value.strip()
    return request.cookies.get(TOKEN_COOKIE) or None


async def caller_of(request: Request) -> Caller:
    """The authenticated caller (FastAPI dependency); 401 when the request proves nobody."""
    cached: Caller | None = getattr(request.state, "caller", None)
    if cached is not None:
        return cached
    caller = await context_of(request).authority.authenticate(token_of(request))
    request.state.caller = caller
    return caller


async def require(request: Request, resource: str, action: str, obj: str) -> Caller:
    """The caller, if RBAC lets them ``action`` ``obj``; otherwise 403 ``permission denied``."""
    caller = await caller_of(request)
    if not await context_of(request).authority.allowed(caller, resource, action, obj):
        raise errors.denied()
    return caller


AUTHENTICATED = [Depends(caller_of)]
"""A router's dependencies when every route of it needs a session: the caller is proved before
any parameter or body is read, so an anonymous request learns nothing from a 400 or 422."""
