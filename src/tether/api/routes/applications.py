"""``/api/v1/applications``: list, get (with refresh), create, update, patch and delete.

Lists are read from the server's Application index, never from a LIST per request; every item
and every single app is checked with the caller's ``applications, get`` (or the action's).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from tether.api import appcommon, appindexing, errors
from tether.api.appaccess import (
    RESOURCE,
    AppAccess,
    app_for,
    app_namespace,
    project_of,
    rbac_object,
)
from tether.api.appcommon import json_body, json_response, translated
from tether.api.context import (
    AUTHENTICATED,
    FIELD_MANAGER,
    ApiContext,
    caller_of,
    context_of,
    require,
)
from tether.api.routes import clusters as cluster_routes
from tether.core.app import listing
from tether.core.auth.identity import Caller
from tether.model import application
from tether.model.errors import InvalidInputError
from tether.model.resources import metadata_of, resource_version, version_number
from tether.services import appedits, apps, clusters
from tether.services.appindex import Entry

router = APIRouter(lifespan=appindexing.lifespan, dependencies=AUTHENTICATED)

REFRESH_WAIT_S = 10.0
"""How long a get with ``refresh`` waits for the controller to compare the app again; then it
answers with the app as it is (Argo CD waits likewise, and a busy controller may be slow)."""

REMAINING_COUNT_BUDGET = 500
"""Permission checks a page may spend past its last item to count what remains: with a
per-app RBAC check (tens of microseconds with Casbin), an exact count over 10,000 apps would
cost more than the page itself; 500 keeps a page of 100 well within its 100 ms."""

MAX_PAGE = 10_000
"""The largest page a caller may ask for; no limit (0) means every app in one answer."""

DIFFERENT_SPEC = "existing application spec is different, use upsert flag to force update"


def _query(
    projects: list[str],
    selector: str,
    name: str,
    repo: str,
    namespace: str,
    search: str,
    **more: Any,
) -> listing.Query:
    try:
        return listing.query(
            projects=projects,
            selector=selector,
            name=name,
            repo=repo,
            namespace=namespace,
            search=search,
            **more,
        )
    except InvalidInputError as exc:
        raise errors.invalid(str(exc)) from None


@router.get("/api/v1/applications")
async def list_applications(
    request: Request,
    projects: Annotated[list[str], Query()] = [],  # noqa: B006 - FastAPI copies defaults
    project: Annotated[list[str], Query()] = [],  # noqa: B006
    selector: str = "",
    name: str = "",
    repo: str = "",
    appNamespace: str = "",  # Argo CD's parameter names
    search: str = "",
    sync: Annotated[list[str], Query()] = [],  # noqa: B006
    health: Annotated[list[str], Query()] = [],  # noqa: B006
    cluster: str = "",
    destNamespace: str = "",
    counts: bool = False,
    limit: Annotated[int, Query(ge=0, le=MAX_PAGE)] = 0,
    continue_: Annotated[str, Query(alias="continue")] = "",
    fields: str = "",
) -> Response:
    """Apps the caller may see, sorted by namespace and name, optionally a page at a time.

    Beyond Argo CD: ``search``, ``sync``, ``health``, ``cluster`` (a cluster's server URL or
    name: destinations giving either match) and ``destNamespace`` filter on the server;
    ``counts=true`` adds ``metadata.counts``, every matching app the caller may see counted by
    sync and health.
    """
    ctx = context_of(request)
    caller = await caller_of(request)
    namespace = app_namespace(request, appNamespace) if appNamespace else ""
    query = _query(
        [*projects, *project],
        selector,
        name,
        repo,
        namespace,
        search,
        syncs=sync,
        healths=health,
        clusters=await _names_of_cluster(ctx, caller, cluster),
        destination_namespace=destNamespace,
    )
    try:
        after = listing.after_key(continue_)
    except InvalidInputError as exc:
        raise errors.invalid(str(exc)) from None
    index = await appindexing.index_of(request)
    version = index.resource_version
    caller_may_get = _visibility(ctx, caller)
    page, metadata = await _page(index.entries(after), query, caller_may_get, limit)
    metadata = {"resourceVersion": version, **metadata}
    if counts:
        metadata["counts"] = (await _count(index.entries(None), query, caller_may_get)).as_json()
    if fields:
        return json_response(
            _filtered({"metadata": metadata, "items": [e.obj for e in page]}, fields)
        )
    # The items are spliced in as encoded once by the index: no per-request encoding.
    head = appcommon.json_response(metadata).body
    items = b",".join(entry.encoded for entry in page)
    body = b'{"metadata":' + bytes(head) + b',"items":[' + items + b"]}"
    return Response(body, media_type="application/json")


async def _names_of_cluster(ctx: ApiContext, caller: Caller, cluster: str) -> list[str]:
    """``cluster`` and the other name of each cluster it names that the caller may see.

    A destination gives a server URL or a cluster's name; the caller filters by either, as
    Argo CD's UI does, and a cluster the caller may not see lends no name.
    """
    if not cluster:
        return []
    server = cluster.rstrip("/")  # as cluster Secrets store it
    names = [cluster, server]
    for stored in await clusters.stored(ctx.runtime.cluster, ctx.namespace):
        entry = stored.entry
        if server != entry.server and cluster != entry.name:
            continue
        obj = cluster_routes.rbac_object(entry.server, stored.project)
        if await ctx.authority.allowed(caller, cluster_routes.RESOURCE, "get", obj):
            names += [entry.server, entry.name]
    return names


Visible = Callable[[listing.Summary], Awaitable[bool]]


def _visibility(ctx: ApiContext, caller: Caller) -> Visible:
    """Whether ``caller`` may see an app, asked once per project and namespace per request.

    Only where no policy line can name an app (``judges_by_project``): counting 10,000 apps in
    ten projects then costs ten RBAC checks, not 10,000 (each reads the settings and the policy).
    """
    by_project: dict[str, bool] = {}
    verdicts: dict[tuple[str, str], bool] = {}

    async def visible(app: listing.Summary) -> bool:
        obj = rbac_object(app.project, app.namespace, app.name, ctx.namespace)
        blind = by_project.get(app.project)
        if blind is None:
            blind = by_project[app.project] = await ctx.authority.judges_by_project(
                RESOURCE, app.project
            )
        if not blind:
            return await ctx.authority.allowed(caller, RESOURCE, "get", obj)
        verdict = verdicts.get((app.project, app.namespace))
        if verdict is None:
            verdict = await ctx.authority.allowed(caller, RESOURCE, "get", obj)
            verdicts[(app.project, app.namespace)] = verdict
        return verdict

    return visible


async def _page(
    entries: Iterable[Entry], query: listing.Query, visible: Visible, limit: int
) -> tuple[list[Entry], dict[str, Any]]:
    """The visible matching entries of one page, and its ``continue`` and remaining count.

    Past a full page, RBAC is asked about at most ``REMAINING_COUNT_BUDGET`` more apps: the
    count is given only when exact, and otherwise the token resumes after the last app asked
    about (all of them hidden) or the page's last.
    """
    page: list[Entry] = []
    remaining = checked = 0
    last_hidden: listing.Key | None = None
    for entry in entries:
        if not query.matches(entry.summary):
            continue
        full = bool(limit) and len(page) == limit
        if full and checked >= REMAINING_COUNT_BUDGET:
            resume = page[-1].key if remaining or last_hidden is None else last_hidden
            return page, {"continue": listing.continue_token(resume)}
        checked += full
        if not await visible(entry.summary):
            if full and not remaining:
                last_hidden = entry.key
            continue
        if full:
            remaining += 1
        else:
            page.append(entry)
    if not remaining:
        return page, {}
    return page, {
        "continue": listing.continue_token(page[-1].key),
        "remainingItemCount": remaining,
    }


async def _count(
    entries: Iterable[Entry], query: listing.Query, visible: Visible
) -> listing.Counts:
    counted = listing.Counts()
    for entry in entries:
        if query.matches(entry.summary) and await visible(entry.summary):
            counted.add(entry.summary)
    return counted


def _filtered(value: dict[str, Any], fields: str) -> dict[str, Any]:
    """Argo CD's ``fields``: dotted paths to keep, or with a leading ``-`` to drop.

    ``items.metadata.name`` keeps only that of every item; lists are walked through.
    """
    paths = [p.strip() for p in fields.split(",") if p.strip()]
    drop = [p[1:].split(".") for p in paths if p.startswith("-")]
    keep = [p.split(".") for p in paths if not p.startswith("-")]
    result: Any = _keep(value, keep) if keep else value
    for path in drop:
        result = _drop(result, path)
    return dict(result)


def _keep(value: Any, paths: list[list[str]]) -> Any:
    if any(not p for p in paths):
        return value
    if isinstance(value, list):
        return [_keep(v, paths) for v in value]
    if not isinstance(value, dict):
        return value
    kept: dict[str, Any] = {}
    for key in dict.fromkeys(p[0] for p in paths):
        if key in value:
            kept[key] = _keep(value[key], [p[1:] for p in paths if p[0] == key])
    return kept


def _drop(value: Any, path: list[str]) -> Any:
    if isinstance(value, list):
        return [_drop(v, path) for v in value]
    if not isinstance(value, dict) or not path or path[0] not in value:
        return value
    copy = dict(value)
    if len(path) == 1:
        del copy[path[0]]
    else:
        copy[path[0]] = _drop(copy[path[0]], path[1:])
    return copy


@router.get("/api/v1/applications/{name}")
async def get_application(
    request: Request,
    name: str,
    refresh: str = "",
    project: str = "",
    appNamespace: str = "",
) -> Response:
    """One app; ``refresh`` (normal or hard) asks the controller to compare it first."""
    access = await app_for(request, name, "get", project=project, namespace=appNamespace)
    if not refresh:
        return json_response(access.obj)
    if refresh not in apps.REFRESH_LEVELS:
        raise errors.invalid(f"refresh {refresh!r}: use normal or hard")
    cluster = context_of(request).runtime.cluster
    with translated():
        requested = await apps.refresh(
            cluster, access.namespace, name, hard=refresh == "hard", field_manager=FIELD_MANAGER
        )
    # Only a version at least as new as the request's write can tell it has been honoured.
    asked = version_number(resource_version(requested.app))
    index = await appindexing.index_of(request)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + REFRESH_WAIT_S
    while loop.time() < deadline:
        entry = index.get(access.namespace, name)
        if entry is None:
            raise errors.denied()  # deleted meanwhile
        seen = version_number(entry.resource_version)
        if seen >= asked and not apps.refresh_pending(entry.obj):
            return json_response(entry.obj)
        await asyncio.sleep(0.1)
    with translated():
        return json_response(await apps.get(cluster, access.namespace, name))


async def _validate(request: Request, app: application.Application, validate: bool) -> None:
    """400 naming every reason the app's project refuses it (unless ``validate=false``)."""
    if not validate:
        return
    ctx = context_of(request)
    with translated():
        found = await appedits.problems(ctx.runtime.cluster, app, ctx.namespace)
    if found:
        raise errors.invalid(f"application spec for {app.name} is invalid: " + "; ".join(found))


@router.post("/api/v1/applications", openapi_extra=appcommon.body_doc("An Application"))
async def create_application(
    request: Request, upsert: bool = False, validate: bool = True
) -> Response:
    """Create an app; the same app again returns it, a different one needs ``upsert``."""
    ctx = context_of(request)
    body = await json_body(request)
    meta = metadata_of(body)
    name = str(meta.get("name") or "")
    if not name:
        raise errors.invalid("metadata.name: Field required")
    namespace = app_namespace(request, str(meta.get("namespace") or "") or None)
    clean = appedits.user_body(body, name=name, namespace=namespace)
    with translated():
        app = appedits.validated(clean)
    wanted = rbac_object(app.spec.project or "default", namespace, name, ctx.namespace)
    caller = await require(request, RESOURCE, "create", wanted)
    await _validate(request, app, validate)
    cluster = ctx.runtime.cluster
    existing = await cluster.get(application.API_VERSION, application.KIND, name, namespace)
    if existing is None:
        try:
            with translated():
                return json_response(await appedits.create(cluster, clean, FIELD_MANAGER))
        except errors.ApiError as exc:
            if exc.code is not errors.Code.ABORTED:
                raise
        # Created by someone else meanwhile: judge it like any existing app.
        existing = await cluster.get(application.API_VERSION, application.KIND, name, namespace)
        if existing is None:
            raise errors.ApiError(errors.Code.ABORTED, f"application {name!r} changed; try again")
    current = rbac_object(project_of(existing), namespace, name, ctx.namespace)
    if not await ctx.authority.allowed(caller, RESOURCE, "get", current):
        raise errors.denied()  # an app the caller may not see stays invisible, even here
    if appedits.same_user_fields(existing, clean):
        return json_response(existing)
    if not upsert:
        raise errors.invalid(DIFFERENT_SPEC)
    for obj in dict.fromkeys((wanted, current)):
        await require(request, RESOURCE, "update", obj)
    with translated():
        stored = await appedits.replace(
            cluster, clean, expected_project=project_of(existing), field_manager=FIELD_MANAGER
        )
    return json_response(stored)


async def _replace(
    request: Request, access: AppAccess, body: dict[str, Any], validate: bool
) -> dict[str, Any]:
    """Set an app's spec and user metadata to ``body``'s.

    ``access`` holds the caller's ``update`` on the app as it is; this checks ``update`` on the
    app as it will be (its project may change).
    """
    ctx = context_of(request)
    name = access.name
    clean = appedits.user_body(body, name=name, namespace=access.namespace)
    with translated():
        app = appedits.validated(clean)
    wanted = rbac_object(app.spec.project or "default", access.namespace, name, ctx.namespace)
    if wanted != access.rbac_object:
        await require(request, RESOURCE, "update", wanted)
    await _validate(request, app, validate)
    with translated():
        stored = await appedits.replace(
            ctx.runtime.cluster,
            clean,
            expected_project=project_of(access.obj),
            field_manager=FIELD_MANAGER,
        )
    return stored


@router.put("/api/v1/applications/{name}", openapi_extra=appcommon.body_doc("An Application"))
async def update_application(
    request: Request,
    name: str,
    project: str = "",
    appNamespace: str = "",
    validate: bool = True,
) -> Response:
    """Replace an app's spec, labels, annotations and finalizers (never status or operation)."""
    body = await json_body(request)
    meta = metadata_of(body)
    if meta.get("name") not in (None, "", name):
        raise errors.invalid(f"metadata.name {meta.get('name')!r} differs from the path's {name!r}")
    namespace = appNamespace or str(meta.get("namespace") or "")
    access = await app_for(request, name, "update", project=project, namespace=namespace)
    return json_response(await _replace(request, access, body, validate))


@router.put(
    "/api/v1/applications/{name}/spec", openapi_extra=appcommon.body_doc("An ApplicationSpec")
)
async def update_application_spec(
    request: Request,
    name: str,
    project: str = "",
    appNamespace: str = "",
    validate: bool = True,
) -> Response:
    """Replace an app's spec; answers with the spec as stored."""
    spec = await json_body(request)
    access = await app_for(request, name, "update", project=project, namespace=appNamespace)
    body = {"metadata": metadata_of(access.obj), "spec": spec}
    stored = await _replace(request, access, body, validate)
    return json_response(stored.get("spec") or {})


@router.patch(
    "/api/v1/applications/{name}",
    openapi_extra=appcommon.body_doc(
        "A patch of the Application, as a JSON string", "patch", "patchType", "project"
    ),
)
async def patch_application(
    request: Request,
    name: str,
    project: str = "",
    appNamespace: str = "",
) -> Response:
    """Patch an app: ``{patch: "<JSON>", patchType: "json" | "merge"}``."""
    body = await json_body(request)
    patch, patch_type = body.get("patch"), body.get("patchType") or "json"
    if not isinstance(patch, str) or not isinstance(patch_type, str):
        raise errors.invalid("patch: a JSON document as a string is required")
    project = project or str(body.get("project") or "")
    namespace = appNamespace or str(body.get("appNamespace") or "")
    access = await app_for(request, name, "update", project=project, namespace=namespace)
    with translated():
        patched = appedits.patched(access.obj, patch, patch_type)
    return json_response(await _replace(request, access, patched, validate=True))


PROPAGATION_POLICIES = ("", "foreground", "background")


@router.delete("/api/v1/applications/{name}")
async def delete_application(
    request: Request,
    name: str,
    cascade: bool | None = None,
    propagationPolicy: str = "",
    project: str = "",
    appNamespace: str = "",
) -> Response:
    """Delete an app; unless ``cascade=false`` the controller deletes its resources first."""
    if propagationPolicy not in PROPAGATION_POLICIES:
        raise errors.invalid(f"invalid propagation policy: {propagationPolicy}")
    if cascade is False and propagationPolicy:
        raise errors.invalid("cannot set propagation policy when cascading is disabled")
    access = await app_for(request, name, "get", project=project, namespace=appNamespace)
    await require(request, RESOURCE, "delete", access.rbac_object)
    cluster = context_of(request).runtime.cluster
    with translated():
        await apps.delete(
            cluster,
            access.namespace,
            name,
            cascade=cascade is not False,
            propagation=propagationPolicy or "foreground",
            field_manager=FIELD_MANAGER,
        )
    return json_response({})
