"""Users' edits of Applications in core mode: written to Kubernetes as the API server writes them.

The same rules as ``POST``/``PUT``/``PATCH /api/v1/applications`` (``tether.services.appedits``):
only ``spec`` and user metadata are written; a create never silently replaces a different app.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tether.cli.commands import app_common as common
from tether.model import application
from tether.model.errors import InvalidInputError
from tether.model.resources import metadata_of
from tether.services import appedits, apps

DIFFERENT = "existing application spec is different, use upsert flag to force update"


def _project(obj: dict[str, Any]) -> str:
    return str((obj.get("spec") or {}).get("project") or "default")


async def create(target: common.Target, body: dict[str, Any], *, upsert: bool) -> dict[str, Any]:
    """Create the app of ``body``; the same app again is no change, another needs ``upsert``."""
    meta = metadata_of(body)
    name = str(meta.get("name") or "")
    if not name:
        raise InvalidInputError("metadata.name: Field required")
    namespace = str(meta.get("namespace") or target.namespace)
    clean = appedits.user_body(body, name=name, namespace=namespace)
    appedits.validated(clean)
    async with common.connect(target) as rt:
        existing = await rt.cluster.get(application.API_VERSION, application.KIND, name, namespace)
        if existing is None:
            return await appedits.create(rt.cluster, clean, rt.settings.field_manager)
        if appedits.same_user_fields(existing, clean):
            return existing
        if not upsert:
            raise InvalidInputError(DIFFERENT)
        return await appedits.replace(
            rt.cluster,
            clean,
            expected_project=_project(existing),
            field_manager=rt.settings.field_manager,
        )


async def edit(
    target: common.Target, name: str, change: Callable[[dict[str, Any]], dict[str, Any]]
) -> dict[str, Any]:
    """Replace the app's spec and user metadata with ``change(app as stored)``."""
    async with common.connect(target) as rt:
        obj = await apps.get(rt.cluster, target.namespace, name)
        clean = appedits.user_body(change(obj), name=name, namespace=target.namespace)
        appedits.validated(clean)
        return await appedits.replace(
            rt.cluster,
            clean,
            expected_project=_project(obj),
            field_manager=rt.settings.field_manager,
        )
