"""Argo CD's ProjectService: the AppProjects of the control plane, through the API.

RBAC is ``projects, <action>, <name>``, checked before the project is read, so the answer never
depends on whether it exists. Tokens are the server's to issue: a write keeps the stored ones
and the stored status. The detailed view lists the project's repositories and clusters without
credentials (CVE-2025-55190).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Request

from tether.api import errors
from tether.api.context import AUTHENTICATED, FIELD_MANAGER, caller_of, context_of, require
from tether.api.routes import clusters as cluster_routes, repositories as repo_routes
from tether.core.auth import projectroles
from tether.model import application, project as project_model
from tether.model.errors import ConflictError, InvalidInputError, TetherError
from tether.model.resources import metadata_of
from tether.services import clusters, repositories

router = APIRouter(dependencies=AUTHENTICATED)

RESOURCE = "projects"
BASE = "/api/v1/projects"

CALLER_FIELDS = ("spec", "labels", "annotations", "finalizers")
"""What a caller's write sets; everything else of the stored object is the server's."""


async def _read(request: Request, name: str) -> dict[str, Any] | None:
    ctx = context_of(request)
    return await ctx.runtime.cluster.get(
        application.API_VERSION, project_model.KIND, name, ctx.namespace
    )


async def _existing(request: Request, name: str) -> dict[str, Any]:
    found = await _read(request, name)
    if found is None:
        raise errors.not_found(f"appprojects.argoproj.io {name!r} not found")
    return found


def _checked(request: Request, body: Any) -> dict[str, Any]:
    """The AppProject a body holds, validated, in the control-plane namespace, without status."""
    if not isinstance(body, dict):
        raise errors.invalid("project must be an AppProject object")
    try:
        parsed = project_model.parse_project(body)
    except InvalidInputError as err:
        raise errors.invalid(str(err)) from None
    name = parsed.name
    if not name:
        raise errors.invalid("project metadata.name is required")
    problems = [
        problem
        for role in parsed.spec.roles or []
        for problem in projectroles.policy_problems(name, role.name, list(role.policies or []))
    ]
    if problems:
        raise errors.invalid("; ".join(problems))
    meta = dict(body.get("metadata") or {})
    return {
        "apiVersion": application.API_VERSION,
        "kind": project_model.KIND,
        "metadata": {
            "name": name,
            "namespace": context_of(request).namespace,
            **{k: meta[k] for k in ("labels", "annotations", "finalizers") if meta.get(k)},
        },
        "spec": _without_tokens(dict(body.get("spec") or {})),
    }


def _without_tokens(spec: dict[str, Any]) -> dict[str, Any]:
    roles = [
        {k: v for k, v in role.items() if k != "jwtTokens"}
        for role in spec.get("roles") or []
        if isinstance(role, dict)
    ]
    return {**spec, "roles": roles} if roles else spec


def _same(stored: dict[str, Any], wanted: dict[str, Any]) -> bool:
    def caller_view(obj: dict[str, Any]) -> tuple[Any, ...]:
        meta = metadata_of(obj)
        return (
            _without_tokens(dict(obj.get("spec") or {})),
            *(meta.get(k) or None for k in ("labels", "annotations", "finalizers")),
        )

    return caller_view(stored) == caller_view(wanted)


def _replacing(stored: dict[str, Any], wanted: dict[str, Any]) -> dict[str, Any]:
    """``wanted``'s caller fields over ``stored``, keeping the issued tokens and the status."""
    tokens = {
        role.get("name"): role["jwtTokens"]
        for role in (stored.get("spec") or {}).get("roles") or []
        if isinstance(role, dict) and role.get("jwtTokens")
    }
    spec = dict(wanted["spec"])
    if spec.get("roles"):
        spec["roles"] = [
            {**role, "jwtTokens": tokens[role.get("name")]} if role.get("name") in tokens else role
            for role in spec["roles"]
        ]
    meta = {k: v for k, v in metadata_of(stored).items() if k not in ("managedFields",)}
    for key in ("labels", "annotations", "finalizers"):
        meta.pop(key, None)
        if key in wanted["metadata"]:
            meta[key] = wanted["metadata"][key]
    return {**stored, "metadata": meta, "spec": spec}


async def _write(request: Request, obj: dict[str, Any], *, create: bool) -> dict[str, Any]:
    cluster = context_of(request).runtime.cluster
    try:
        if create:
            return await cluster.create(obj, field_manager=FIELD_MANAGER)
        return await cluster.update(obj, field_manager=FIELD_MANAGER)
    except ConflictError as err:
        raise errors.ApiError(errors.Code.ABORTED, str(err)) from None
    except InvalidInputError as err:
        raise errors.invalid(str(err)) from None
    except TetherError as err:
        raise errors.ApiError(errors.Code.UNAVAILABLE, str(err)) from None


@router.get(BASE)
async def list_projects(request: Request) -> dict[str, Any]:
    """The projects the caller may see."""
    ctx = context_of(request)
    items, version = await ctx.runtime.cluster.list(
        application.API_VERSION, project_model.KIND, ctx.namespace
    )
    caller = await caller_of(request)
    visible = [
        obj
        for obj in sorted(items, key=lambda o: str(metadata_of(o).get("name", "")))
        if await ctx.authority.allowed(
            caller, RESOURCE, "get", str(metadata_of(obj).get("name", ""))
        )
    ]
    return {"metadata": {"resourceVersion": version}, "items": visible}


@router.post(BASE)
async def create_project(
    request: Request, body: Annotated[dict[str, Any], Body()]
) -> dict[str, Any]:
    """Create a project (``{project, upsert}``); an existing one is replaced only with upsert."""
    wanted = _checked(request, body.get("project"))
    name = wanted["metadata"]["name"]
    await require(request, RESOURCE, "create", name)
    stored = await _read(request, name)
    if stored is None:
        return await _write(request, wanted, create=True)
    if _same(stored, wanted):
        return stored
    if body.get("upsert") is not True:
        raise errors.invalid("existing project spec is different, use upsert flag to force update")
    await require(request, RESOURCE, "update", name)
    return await _write(request, _replacing(stored, wanted), create=False)


@router.get(BASE + "/{name}")
async def get_project(request: Request, name: str) -> dict[str, Any]:
    """One project."""
    await require(request, RESOURCE, "get", name)
    return await _existing(request, name)


@router.get(BASE + "/{name}/detailed")
async def get_project_detailed(request: Request, name: str) -> dict[str, Any]:
    """The project with the repositories and clusters scoped to it, credentials left out."""
    await require(request, RESOURCE, "get", name)
    project = await _existing(request, name)
    ctx = context_of(request)
    repos = await repositories.stored(ctx.runtime.cluster, ctx.namespace)
    known = await clusters.stored(ctx.runtime.cluster, ctx.namespace)
    return {
        "project": project,
        "globalProjects": [],
        "repositories": [repo_routes.view(r) for r in repos if r.project == name],
        "clusters": [cluster_routes.view(c) for c in known if c.project == name],
    }


@router.put(BASE + "/{name}")
async def update_project(
    request: Request, name: str, body: Annotated[dict[str, Any], Body()]
) -> dict[str, Any]:
    """Replace a project's spec, labels and annotations (``{project}``)."""
    await require(request, RESOURCE, "update", name)
    wanted = _checked(request, body.get("project"))
    if wanted["metadata"]["name"] != name:
        raise errors.invalid("the project's metadata.name must match the path")
    stored = await _existing(request, name)
    return await _write(request, _replacing(stored, wanted), create=False)


@router.delete(BASE + "/{name}")
async def delete_project(request: Request, name: str) -> dict[str, Any]:
    """Delete a project no Application uses."""
    await require(request, RESOURCE, "delete", name)
    await _existing(request, name)
    ctx = context_of(request)
    users = 0
    for namespace in ctx.runtime.settings.app_namespaces:
        apps, _ = await ctx.runtime.cluster.list(
            application.API_VERSION, application.KIND, namespace
        )
        users += sum(
            1 for app in apps if ((app.get("spec") or {}).get("project") or "default") == name
        )
    if users:
        raise errors.ApiError(
            errors.Code.FAILED_PRECONDITION,
            f"project is referenced by {users} applications",
        )
    await ctx.runtime.cluster.delete(
        application.API_VERSION, project_model.KIND, name, ctx.namespace, propagation="Background"
    )
    return {}
