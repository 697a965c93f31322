"""Reading one Application for a caller, with Argo CD's RBAC objects and existence hiding.

A caller who may not see an app cannot tell it from a missing one: both are 403 ``permission
denied`` unless the caller named the project, and then both are 404 (Argo CD's
``getAppEnforceRBAC``).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from fastapi import Request

from tether.api import errors
from tether.api.context import caller_of, context_of
from tether.core.auth.identity import Caller
from tether.model import application
from tether.model.resources import metadata_of

RESOURCE = "applications"


def rbac_object(project: str, namespace: str, name: str, control_plane_namespace: str) -> str:
    """``<project>/<app>``, or ``<project>/<namespace>/<app>`` outside the control plane's."""
    if namespace == control_plane_namespace:
        return f"{project}/{name}"
    return f"{project}/{namespace}/{name}"


def project_of(obj: dict[str, Any]) -> str:
    """The app's project as RBAC names it (``default`` when unset)."""
    spec = obj.get("spec")
    project = spec.get("project") if isinstance(spec, dict) else None
    return project if isinstance(project, str) and project else "default"


@dataclasses.dataclass(frozen=True)
class AppAccess:
    """An Application the caller may act on, and the RBAC object it was checked as."""

    caller: Caller
    obj: dict[str, Any]
    rbac_object: str

    @property
    def name(self) -> str:
        """The Application's name."""
        return str(metadata_of(self.obj).get("name", ""))

    @property
    def namespace(self) -> str:
        """The Application's namespace."""
        return str(metadata_of(self.obj).get("namespace", ""))


def app_namespace(request: Request, given: str | None) -> str:
    """The namespace a request means (``appNamespace``; the control plane's by default).

    A namespace this server does not serve is refused like a forbidden app (CVE-2024-31990).
    """
    settings = context_of(request).runtime.settings
    namespace = given or settings.control_plane_namespace
    if namespace not in settings.app_namespaces:
        raise errors.denied()
    return namespace


async def app_for(
    request: Request,
    name: str,
    action: str,
    *,
    project: str | None = None,
    namespace: str | None = None,
) -> AppAccess:
    """The Application ``name`` if the caller may ``action`` it; else 403 (or 404, see above)."""
    ctx = context_of(request)
    caller = await caller_of(request)
    ns = app_namespace(request, namespace)
    obj = await ctx.runtime.cluster.get(application.API_VERSION, application.KIND, name, ns)
    if project:
        wanted = rbac_object(project, ns, name, ctx.namespace)
        if not await ctx.authority.allowed(caller, RESOURCE, action, wanted):
            raise errors.denied()
        if obj is None or project_of(obj) != project:
            raise errors.not_found(f"application {name!r} not found")
    if obj is None:
        raise errors.denied()
    checked = rbac_object(project_of(obj), ns, name, ctx.namespace)
    if not await ctx.authority.allowed(caller, RESOURCE, action, checked):
        if project:
            raise errors.not_found(f"application {name!r} not found")
        raise errors.denied()
    return AppAccess(caller, obj, checked)
