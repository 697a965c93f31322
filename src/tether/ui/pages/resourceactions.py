"""A resource's actions (restart, pause, resume, ...), loaded lazily into the resource panel.

The panel itself stays one API call; this fragment asks for the app, the object's actions and,
concurrently, whether the user may run each one (``action/<group>/<kind>/<action>``). Only those
are offered; running one is the browser's call to the API.
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from tether.ui import apicall, render
from tether.ui.pages import appheader

router = APIRouter(include_in_schema=False)


@dataclasses.dataclass(frozen=True)
class Action:
    """One action the user may run, with the API call that runs it."""

    name: str
    label: str
    disabled: bool
    body: dict[str, Any]


@router.get("/applications/{app_namespace}/{app_name}/resource-actions", name="resource_actions")
async def resource_actions(
    request: Request,
    app_namespace: str,
    app_name: str,
    kind: str,
    resourceName: str,
    group: str = "",
    version: str = "",
    namespace: str = "",
) -> HTMLResponse:
    """The actions of one of the app's objects, as buttons."""
    api = apicall.api_of(request)
    app_path = apicall.app_path(app_name)
    target = {
        "appNamespace": app_namespace,
        "namespace": namespace,
        "resourceName": resourceName,
        "version": version,
        "group": group,
        "kind": kind,
    }
    try:
        obj, listed = await asyncio.gather(
            api.get(app_path, {"appNamespace": app_namespace}),
            api.get(app_path + "/resource/actions", target),
        )
        offered = [a for a in listed.get("actions") or [] if isinstance(a, dict) and a.get("name")]
        rbac = appheader.rbac_object(obj)
        allowed = await asyncio.gather(
            *(
                api.may(appheader.RESOURCE, f"action/{group}/{kind}/{a['name']}", rbac)
                for a in offered
            )
        )
    except apicall.NotSignedIn:
        raise
    except apicall.ApiCallFailed as err:
        return render.html(request, "_resource_action_list.html", problem=err.message, actions=[])
    actions = [
        Action(
            name=str(a["name"]),
            label=str(a.get("displayName") or a["name"]),
            disabled=bool(a.get("disabled")),
            body={**target, "action": str(a["name"])},
        )
        for a, may in zip(offered, allowed, strict=True)
        if may
    ]
    return render.html(
        request,
        "_resource_action_list.html",
        problem="",
        actions=actions,
        path=appheader.endpoints(obj).path("/resource/actions/v2"),
        kind=kind,
        name=resourceName,
    )
