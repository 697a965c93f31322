"""Project-role tokens: issuing one for a role of an AppProject, and revoking it by id.

Allowed with ``projects, update, <project>``, or to members of one of the role's groups.
Issued tokens are listed in the project's ``status.jwtTokensByRole``; removing one revokes it.
"""

from __future__ import annotations

from typing import Any

import pydantic
from fastapi import APIRouter, Request

from tether.api import errors
from tether.api.auth import as_api_error, services_of
from tether.api.context import caller_of, context_of
from tether.model.errors import TetherError

router = APIRouter()


class ProjectTokenCreate(pydantic.BaseModel):
    """``{description, expiresIn (seconds, 0 = never), id}``."""

    model_config = pydantic.ConfigDict(populate_by_name=True)
    description: str = ""
    expires_in: int = pydantic.Field(0, alias="expiresIn", ge=0)
    id: str = ""


async def _authorize(request: Request, project: str, role: str) -> None:
    """403 alike for a missing project and a forbidden one."""
    caller = await caller_of(request)
    if await context_of(request).authority.allowed(caller, "projects", "update", project):
        return
    found = await services_of(request).store.project(project)
    roles = (found.spec.roles or []) if found is not None else []
    groups = {g for r in roles if r.name == role for g in (r.groups or [])}
    if caller.kind == "sso" and groups.intersection(caller.groups):
        return
    raise errors.denied()


@router.post("/api/v1/projects/{project}/roles/{role}/token")
async def create_project_token(
    request: Request, project: str, role: str, body: ProjectTokenCreate
) -> dict[str, str]:
    """A token acting as ``proj:<project>:<role>``."""
    await _authorize(request, project, role)
    sessions = services_of(request).sessions
    try:
        token = await sessions.create_project_token(project, role, body.expires_in, body.id)
    except TetherError as err:
        raise as_api_error(err) from None
    return {"token": token}


@router.delete("/api/v1/projects/{project}/roles/{role}/token/{iat}")
async def delete_project_token(
    request: Request, project: str, role: str, iat: int, id: str = ""
) -> dict[str, Any]:
    """Revoke a role's token: by ``id``, or by ``iat`` for tokens issued without one."""
    await _authorize(request, project, role)
    try:
        await services_of(request).sessions.delete_project_token(project, role, iat, id)
    except TetherError as err:
        raise as_api_error(err) from None
    return {}
