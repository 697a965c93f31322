"""Argo CD's RepositoryService: the repository Secrets of the control plane, through the API.

Credentials are write-only: no response carries a password, key or token (``view``). RBAC is
``repositories, <action>, <url>`` or ``<project>/<url>`` for a project's repository; a caller
who may not see a repository gets the same 403 as for one that does not exist.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request

from tether.api import errors
from tether.api.context import AUTHENTICATED, FIELD_MANAGER, caller_of, context_of
from tether.api.pathparams import url_param
from tether.core import redact
from tether.model.errors import TetherError
from tether.services import repositories
from tether.services.repositories import StoredRepo

router = APIRouter(dependencies=AUTHENTICATED)

RESOURCE = "repositories"
PREFIX = "/api/v1/repositories/"

WIRE: dict[str, str] = {
    # Argo CD's Repository field: the Secret key tether stores it under.
    "repo": "url",
    "type": "type",
    "name": "name",
    "project": "project",
    "username": "username",
    "password": "password",
    "bearerToken": "bearerToken",
    "sshPrivateKey": "sshPrivateKey",
    "insecure": "insecure",
    "insecureIgnoreHostKey": "insecureIgnoreHostKey",
    "enableOCI": "enableOCI",
    "insecureOCIForceHttp": "insecureOCIForceHttp",
}

READ_ONLY = frozenset({"connectionState", "inheritedCreds"})
"""Fields a GET may show and a client may send back; the server sets them, never the caller."""

FLAGS = frozenset({"insecure", "insecureIgnoreHostKey", "enableOCI", "insecureOCIForceHttp"})


def rbac_object(url: str, project: str) -> str:
    """``<project>/<url>`` for a project's repository, else ``<url>`` (Argo CD's)."""
    return f"{project}/{url}" if project else url


def view(repo: StoredRepo) -> dict[str, Any]:
    """The repository as a caller sees it: every credential left out."""
    out: dict[str, Any] = {"repo": repo.url, "type": repo.fields.get("type") or "git"}
    for wire, key in WIRE.items():
        if key in repositories.WRITE_ONLY or wire in out:
            continue
        value = repo.fields.get(key, "")
        if wire in FLAGS:
            if value.strip().lower() in ("true", "yes", "1"):
                out[wire] = True
        elif value:
            out[wire] = value
    return out


def fields_of(body: Mapping[str, Any]) -> dict[str, str]:
    """The Secret fields a Repository body asks for; a field tether does not honour is refused."""
    fields: dict[str, str] = {}
    for wire, value in body.items():
        if wire in READ_ONLY or value in (None, "", False, 0, [], {}):
            continue
        key = WIRE.get(wire)
        if key is None:
            raise errors.invalid(f"repository field {wire} is not supported by tether")
        if wire in FLAGS:
            if not isinstance(value, bool):
                raise errors.invalid(f"repository field {wire} must be true or false")
            fields[key] = "true" if value else ""
        elif isinstance(value, str):
            fields[key] = value
        else:
            raise errors.invalid(f"repository field {wire} must be a string")
    if not fields.get("url", "").strip():
        raise errors.invalid("repository field repo is required")
    return fields


async def _allowed(request: Request, action: str, url: str, project: str) -> bool:
    ctx = context_of(request)
    caller = await caller_of(request)
    return await ctx.authority.allowed(caller, RESOURCE, action, rbac_object(url, project))


async def _stored(request: Request) -> list[StoredRepo]:
    ctx = context_of(request)
    return await repositories.stored(ctx.runtime.cluster, ctx.namespace)


async def _visible(request: Request, action: str, project: str | None) -> tuple[str, StoredRepo]:
    """The repository the path names, if the caller may ``action`` it; else 403 either way."""
    url = url_param(request, PREFIX)
    found = repositories.find(await _stored(request), url, project or None)
    if found is None or not await _allowed(request, action, found.url, found.project):
        raise errors.denied()
    return url, found


@router.get("/api/v1/repositories")
async def list_repositories(
    request: Request,
    repo: str | None = None,
    app_project: str | None = Query(None, alias="appProject"),
) -> dict[str, Any]:
    """The repositories the caller may see, filtered by URL and project."""
    items = []
    for stored in await _stored(request):
        if repo and repositories.find([stored], repo) is None:
            continue
        if app_project and stored.project != app_project:
            continue
        if await _allowed(request, "get", stored.url, stored.project):
            items.append(view(stored))
    return {"metadata": {}, "items": items}


@router.get(PREFIX + "{repo:path}")
async def get_repository(
    request: Request, repo: str, app_project: str | None = Query(None, alias="appProject")
) -> dict[str, Any]:
    """One repository, credentials left out."""
    del repo  # read from the raw path, escaped slashes intact
    _, found = await _visible(request, "get", app_project)
    return view(found)


@router.post("/api/v1/repositories")
async def create_repository(
    request: Request, body: Annotated[dict[str, Any], Body()], upsert: bool = False
) -> dict[str, Any]:
    """Add a repository; an existing one with other content only with ``upsert``."""
    fields = fields_of(body)
    url, project = fields["url"], fields.get("project", "")
    if not await _allowed(request, "create", url, project):
        raise errors.denied()
    existing = repositories.find(await _stored(request), url, project)
    if existing is not None:
        if dict(existing.fields) == fields:
            return view(existing)
        if not upsert:
            raise errors.invalid(
                "existing repository spec is different; use upsert flag to force update"
            )
        if not await _allowed(request, "update", existing.url, existing.project):
            raise errors.denied()
    return view(await _write(request, fields, existing))


@router.put(PREFIX + "{repo:path}")
async def update_repository(
    request: Request, repo: str, body: Annotated[dict[str, Any], Body()]
) -> dict[str, Any]:
    """Replace a repository's content; RBAC on the repository as it was and as it will be."""
    del repo
    fields = fields_of(body)
    url, current = await _visible(request, "update", fields.get("project") or None)
    if repositories.find([current], fields["url"]) is None:
        raise errors.invalid(f"the body's repo does not match {redact.text(url)!r}")
    if not await _allowed(request, "update", fields["url"], fields.get("project", "")):
        raise errors.denied()
    return view(await _write(request, fields, current))


@router.delete(PREFIX + "{repo:path}")
async def delete_repository(
    request: Request, repo: str, app_project: str | None = Query(None, alias="appProject")
) -> dict[str, Any]:
    """Remove a repository's Secret."""
    del repo
    _, found = await _visible(request, "delete", app_project)
    try:
        await repositories.delete(context_of(request).runtime.cluster, found)
    except TetherError as err:
        raise _write_error(request, err, found.fields) from None
    return {}


async def _write(
    request: Request, fields: Mapping[str, str], existing: StoredRepo | None
) -> StoredRepo:
    ctx = context_of(request)
    try:
        return await repositories.write(
            ctx.runtime.cluster, ctx.namespace, fields, existing, field_manager=FIELD_MANAGER
        )
    except TetherError as err:
        raise _write_error(request, err, fields) from None


def _write_error(request: Request, err: TetherError, fields: Mapping[str, str]) -> errors.ApiError:
    """The API error for a failed write, without any credential (those of the request too)."""
    held = [fields[key] for key in repositories.WRITE_ONLY if fields.get(key)]
    held.extend(context_of(request).runtime.credentials.secret_values())
    return errors.of_failed_write(err, redact.text(str(err), held))
