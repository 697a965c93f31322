"""``/api/v1/applications/{name}/sync``, ``/rollback`` and ``/operation``: operations over the API.

Each writes the request into the Application (``tether.services.apps``), as the caller
(``initiatedBy.username``); the controller does the work. RBAC: ``get`` to see the app, then
``sync``; a sync window that refuses a manual sync now answers 403, as Argo CD's does.
"""

from __future__ import annotations

from typing import Any

import pydantic
from fastapi import APIRouter, Request
from fastapi.responses import Response

from tether.api import appcommon, appindexing, errors
from tether.api.appaccess import RESOURCE, AppAccess, app_for
from tether.api.appcommon import json_body, json_response, translated
from tether.api.context import AUTHENTICATED, FIELD_MANAGER, context_of, require
from tether.model.app_spec import Info, RetryStrategy
from tether.model.application import format_validation_error
from tether.model.operation import SyncOperation
from tether.model.resources import metadata_of
from tether.services import apps

router = APIRouter(lifespan=appindexing.lifespan, dependencies=AUTHENTICATED)

SYNC_FIELDS = frozenset(
    {
        "name",
        "appNamespace",
        "project",
        "revision",
        "revisions",
        "sourcePositions",
        "dryRun",
        "prune",
        "strategy",
        "resources",
        "manifests",
        "infos",
        "retryStrategy",
        "syncOptions",
    }
)
"""Argo CD's sync request, field by field; anything else is refused by name."""

REFUSED_SYNC_FIELDS: dict[str, str] = {
    # Honoured by Argo CD, refused by tether: a caller must not believe they took effect.
    "manifests": "tether does not sync manifests given in the request (operation.sync.manifests)",
    "sourcePositions": "tether syncs every source of a multi-source app: give revisions for all",
}


async def _for_sync(
    request: Request, name: str, body: dict[str, Any], *, starting: bool = True
) -> AppAccess:
    """The app, once the caller may see it and ``sync`` it.

    ``starting`` an operation also needs an app that is not being deleted.
    """
    project = str(request.query_params.get("project") or body.get("project") or "")
    namespace = str(request.query_params.get("appNamespace") or body.get("appNamespace") or "")
    access = await app_for(request, name, "get", project=project, namespace=namespace)
    await require(request, RESOURCE, "sync", access.rbac_object)
    if starting and metadata_of(access.obj).get("deletionTimestamp"):
        raise errors.ApiError(
            errors.Code.FAILED_PRECONDITION, f"application {name!r} is being deleted"
        )
    return access


def _sync_operation(body: dict[str, Any]) -> SyncOperation:
    """Argo CD's sync request body as tether's ``operation.sync``."""
    unknown = sorted(set(body) - SYNC_FIELDS)
    if unknown:
        raise errors.invalid(f"unknown field(s) in sync request: {', '.join(unknown)}")
    for field, reason in REFUSED_SYNC_FIELDS.items():
        if body.get(field):
            raise errors.invalid(f"{field}: {reason}")
    wire: dict[str, Any] = {
        k: body[k] for k in ("revision", "revisions", "dryRun", "prune", "resources") if body.get(k)
    }
    if body.get("strategy"):
        wire["syncStrategy"] = body["strategy"]
    options = body.get("syncOptions")
    if options:
        if not isinstance(options, dict):
            raise errors.invalid("syncOptions: expected {items: [...]}")
        if options.get("items"):
            wire["syncOptions"] = options["items"]
    try:
        return SyncOperation.model_validate(wire)
    except pydantic.ValidationError as exc:
        raise errors.invalid(format_validation_error("sync request", exc)) from None


def _extras(body: dict[str, Any]) -> tuple[list[Info], RetryStrategy | None]:
    """The operation's ``info`` and ``retry`` from the request's ``infos`` and ``retryStrategy``."""
    try:
        infos = [Info.model_validate(i) for i in body.get("infos") or []]
        retry = body.get("retryStrategy")
        return infos, RetryStrategy.model_validate(retry) if retry else None
    except pydantic.ValidationError as exc:
        raise errors.invalid(format_validation_error("sync request", exc)) from None


@router.post(
    "/api/v1/applications/{name}/sync",
    openapi_extra=appcommon.body_doc("A sync request", *sorted(SYNC_FIELDS)),
)
async def sync_application(request: Request, name: str) -> Response:
    """Request a sync; answers with the Application carrying the new ``operation``."""
    body = await json_body(request)
    sync = _sync_operation(body)
    infos, retry = _extras(body)
    access = await _for_sync(request, name, body)
    runtime = context_of(request).runtime
    ctx = context_of(request)
    now = runtime.clock()
    windows = await apps.windows_now(runtime.cluster, access.obj, ctx.namespace, now)
    if windows is not None and not windows.manual.allowed:
        raise errors.ApiError(
            errors.Code.PERMISSION_DENIED,
            f"cannot sync: blocked by sync window: {windows.manual.reason()}",
        )
    with translated():
        requested = await apps.request_sync(
            runtime.cluster,
            access.namespace,
            name,
            sync,
            username=access.caller.username,
            field_manager=FIELD_MANAGER,
            control_plane_namespace=ctx.namespace,
            now=now,
            info=infos,
            retry=retry,
        )
    return json_response(requested.app)


@router.post(
    "/api/v1/applications/{name}/rollback",
    openapi_extra=appcommon.body_doc("A rollback request", "id", "dryRun", "prune"),
)
async def rollback_application(request: Request, name: str) -> Response:
    """Sync history entry ``id`` again (``{id, dryRun, prune}``); turns automated sync off."""
    body = await json_body(request)
    history_id = body.get("id")
    if isinstance(history_id, str) and history_id.isdigit():
        history_id = int(history_id)  # int64 travels as a string in some of Argo CD's clients
    if not isinstance(history_id, int) or isinstance(history_id, bool):
        raise errors.invalid("id: the history entry's id (a number) is required")
    access = await _for_sync(request, name, body)
    ctx = context_of(request)
    with translated():
        requested = await apps.rollback(
            ctx.runtime.cluster,
            access.namespace,
            name,
            history_id,
            prune=body.get("prune") is True,
            dry_run=body.get("dryRun") is True,
            username=access.caller.username,
            field_manager=FIELD_MANAGER,
            control_plane_namespace=ctx.namespace,
            now=ctx.runtime.clock(),
        )
    return json_response(requested.app)


@router.delete("/api/v1/applications/{name}/operation")
async def terminate_operation(request: Request, name: str) -> Response:
    """Stop the running operation (400 when none runs)."""
    access = await _for_sync(request, name, {}, starting=False)
    with translated():
        await apps.terminate(
            context_of(request).runtime.cluster,
            access.namespace,
            name,
            field_manager=FIELD_MANAGER,
        )
    return json_response({})
