"""Wiring the API server: its authority over the auth services, its context, its routers.

``ROUTERS`` is the list every route module's router joins; ``build_context`` makes the
authority (creating the signing key and the initial admin password when missing) and the
context ``app.create_app`` serves.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, FastAPI

from tether import bootstrap
from tether.api import app
from tether.api.auth import AuthServices, ServerAuthority
from tether.api.context import ApiContext
from tether.api.routes import (
    account,
    app_operations,
    app_stream,
    applications,
    appresources,
    clusters,
    health,
    projects,
    projecttokens,
    repositories,
    resourceops,
    revisions,
    session,
    sso as sso_routes,
    version,
    webhook,
)
from tether.api.ssoauth import SsoVerifier
from tether.services.auth.accounts import Accounts
from tether.services.auth.gate import Gate, OidcVerifier
from tether.services.auth.oidcflow import Sso
from tether.services.auth.revocation import Revocations
from tether.services.auth.sessions import Sessions
from tether.services.auth.store import SettingsStore
from tether.ui import site

ROUTERS: list[APIRouter] = [
    health.router,
    version.router,
    session.router,
    account.router,
    projecttokens.router,
    sso_routes.router,
    webhook.router,
    applications.router,
    app_operations.router,
    app_stream.router,
    appresources.router,
    resourceops.router,
    revisions.router,
    projects.router,
    # The project-token routes above and the repository and cluster routes end in catch-all
    # paths; later sub-routes of them must be listed before these.
    repositories.router,
    clusters.router,
]
"""Every route module's router; route modules of other groups append theirs here."""

SETTINGS_CACHE_S = 1.0
"""How stale a replica's view of argocd-cm, argocd-secret, argocd-rbac-cm, the revoked ids and
projects may be: a logout or a password change reaches the other replicas within this."""


def build_authority(
    runtime: bootstrap.Runtime,
    *,
    oidc: OidcVerifier | None = None,
    cache_ttl: float = SETTINGS_CACHE_S,
) -> ServerAuthority:
    """The authority over ``runtime``'s cluster and control-plane namespace.

    ``oidc`` verifies tokens of other issuers (SSO); without it they prove nobody.
    """
    store = SettingsStore(runtime.cluster, runtime.settings.control_plane_namespace, ttl=cache_ttl)
    accounts = Accounts(store, runtime.clock)
    revocations = Revocations(store, runtime.clock)
    gate = Gate(store, accounts, revocations, runtime.clock, oidc)
    sessions = Sessions(store, accounts, revocations, runtime.clock)
    return ServerAuthority(AuthServices(store, accounts, revocations, gate, sessions))


async def build_context(
    runtime: bootstrap.Runtime,
    *,
    sso: Sso | None = None,
    cache_ttl: float = SETTINGS_CACHE_S,
) -> ApiContext:
    """The API's context, after making sure the signing key and an admin password exist.

    With ``sso`` (``bootstrap.sso``), tokens of its OIDC issuer are verified and its login
    routes served; its owner closes it.
    """
    oidc = SsoVerifier(sso) if sso is not None else None
    authority = build_authority(runtime, oidc=oidc, cache_ttl=cache_ttl)
    await authority.services.accounts.ensure_ready()
    return ApiContext(runtime=runtime, authority=authority, sso=sso)


def build_app(ctx: ApiContext) -> FastAPI:
    """The ASGI app serving every router in ``ROUTERS``, and the web UI at ``/``."""
    served = app.create_app(ctx, ROUTERS)
    site.mount(served)
    return served


def openapi_document() -> dict[str, Any]:
    """The OpenAPI description of every route in ``ROUTERS`` (``docs/openapi.json``)."""
    return app.create_app(None, ROUTERS).openapi()
