"""What every route is given: the wired runtime and the authority over who may do what.

Also the helpers that read a caller from a request and check one permission.
"""

from __future__ import annotations

import dataclasses
from typing import Protocol

from fastapi import Request

from tether import bootstrap
from tether.api import errors
from tether.core.auth.identity import Caller

FIELD_MANAGER = "tether-server"
"""Who the API's writes to Kubernetes are recorded as: apart from the controller's apply, so a
user's patch of a live object shows as drift rather than as something the controller owns."""

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


@dataclasses.dataclass
class ApiContext:
    """Everything the API's routes share; one per server."""

    runtime: bootstrap.Runtime
    authority: Authority

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
