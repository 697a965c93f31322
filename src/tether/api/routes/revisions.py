"""``/api/v1/applications/{name}/revisions/{revision}/metadata``: one commit's author and message.

The commit is read where the app's manifests are rendered (this process's Git mirrors, or the
repo-server), with the credentials the app's project may use. Only a full SHA the controller
recorded for the app (compared, synced or in its history) is looked up: a caller cannot make the
server fetch a name of their choosing from the app's repository, nor from any other.
"""

from __future__ import annotations

import re

from fastapi import APIRouter, Request
from fastapi.responses import Response

from tether.api import errors
from tether.api.appaccess import app_for
from tether.api.appcommon import json_response, translated
from tether.api.context import AUTHENTICATED, context_of
from tether.model.application import parse_application
from tether.model.errors import InvalidInputError

router = APIRouter(dependencies=AUTHENTICATED)

FULL_SHA = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")
"""A resolved commit (SHA-1 or SHA-256), lower case as the controller records it."""


@router.get("/api/v1/applications/{name}/revisions/{revision}/metadata")
async def revision_metadata(
    request: Request,
    name: str,
    revision: str,
    appNamespace: str = "",
    project: str = "",
    sourceIndex: int = 0,
) -> Response:
    """A commit's author, date, tags and message (one the app compared, synced or deployed)."""
    access = await app_for(request, name, "get", project=project, namespace=appNamespace)
    if not FULL_SHA.match(revision):
        raise errors.invalid("revision: a full commit SHA the application recorded is required")
    try:
        app = parse_application(access.obj)
    except InvalidInputError as err:
        raise errors.invalid(str(err)) from None
    recorded = app.status.recorded_revisions() if app.status is not None else frozenset()
    if revision not in recorded:
        raise errors.not_found(
            f"application {name!r} has not compared, synced or deployed revision {revision}"
        )
    with translated():
        found = await context_of(request).runtime.manifests.revision_metadata(
            app, revision, source_index=sourceIndex
        )
    return json_response(found.to_json())
