"""An Application with what its resource routes need: its project, its cluster and its tree.

Also the one translation of Kubernetes and tether errors into API errors for those routes, so a
message from the cluster about a Secret never reaches a caller (CVE-2025-23216).
"""

from __future__ import annotations

import dataclasses

from fastapi import Request

from tether.api import errors
from tether.api.appaccess import AppAccess, app_for
from tether.api.context import context_of
from tether.core import redact
from tether.core.diff import secrets
from tether.model.application import Application, parse_application
from tether.model.errors import (
    ClusterError,
    ConflictError,
    ForbiddenError,
    InvalidError,
    InvalidInputError,
    KubeApiError,
    NotFoundError,
    TetherError,
)
from tether.model.project import AppProject
from tether.model.resources import ResourceKey
from tether.services import apps, apptree
from tether.services.destinations import Destination


@dataclasses.dataclass(frozen=True)
class AppScope:
    """An Application the caller may act on, its project and its destination's services."""

    access: AppAccess
    app: Application
    project: AppProject
    destination: Destination

    def tree(self, control_plane_namespace: str) -> apptree.AppTree:
        """The app's resource tree from its cluster's live cache, as its project permits."""
        return apptree.build(
            self.destination.live,
            self.app,
            self.project,
            self.destination.entry,
            control_plane_namespace=control_plane_namespace,
        )


async def scope_of(
    request: Request,
    name: str,
    action: str,
    *,
    project: str | None = None,
    namespace: str | None = None,
) -> AppScope:
    """The app ``name`` if the caller may ``action`` it, with its project and cluster."""
    access = await app_for(request, name, action, project=project, namespace=namespace)
    rt = context_of(request).runtime
    try:
        app = parse_application(access.obj)
        found = await apps.project_of(rt.cluster, app, rt.settings.control_plane_namespace)
    except InvalidInputError as err:
        raise errors.ApiError(errors.Code.FAILED_PRECONDITION, str(err)) from None
    if found is None:
        raise errors.ApiError(
            errors.Code.FAILED_PRECONDITION,
            f"application {app.qualified_name} references project {app.spec.project!r}, "
            "which does not exist",
        )
    try:
        # Refused here, not answered from the local cluster as a comparison would be: another
        # cluster's objects with the same tracking are not this app's.
        rt.destinations.resolve(app)
    except InvalidInputError as err:
        raise errors.ApiError(errors.Code.FAILED_PRECONDITION, str(err)) from None
    try:
        destination = await rt.destinations.for_app(app)
    except ClusterError as err:
        raise errors.ApiError(errors.Code.UNAVAILABLE, scrubbed(request, str(err))) from None
    return AppScope(access, app, found, destination)


def scrubbed(request: Request, message: str) -> str:
    """``message`` without any credential this server holds."""
    rt = context_of(request).runtime
    held = rt.credentials.secret_values() | rt.destinations.secret_values()
    return redact.text(message, held)


def from_cluster(
    request: Request, err: TetherError, key: ResourceKey, verb: str
) -> errors.ApiError:
    """The API error for a failed write or read of ``key``.

    Kubernetes quotes the offending values in its messages; for a Secret that is the secret
    itself, so Secrets get a message naming only the object and the verb.
    """
    code = errors.Code.INTERNAL
    if isinstance(err, NotFoundError):
        code = errors.Code.NOT_FOUND
    elif isinstance(err, ConflictError):
        code = errors.Code.ABORTED
    elif isinstance(err, ForbiddenError):
        code = errors.Code.PERMISSION_DENIED
    elif isinstance(err, (InvalidError, InvalidInputError)) or (
        isinstance(err, KubeApiError) and err.code == 400
    ):
        code = errors.Code.INVALID_ARGUMENT
    elif isinstance(err, ClusterError):
        code = errors.Code.UNAVAILABLE
    if key.group_kind == secrets.SECRET:
        return errors.ApiError(code, f"failed to {verb} Secret {key.namespace}/{key.name}")
    return errors.ApiError(code, f"failed to {verb} {key}: {scrubbed(request, str(err))}")
