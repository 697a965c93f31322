"""An application's page: its header and operation, its resource tree, its resources' panels."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from tether.ui import apicall, appview, render
from tether.ui.pages import appheader

router = APIRouter(include_in_schema=False)


def app_params(namespace: str) -> dict[str, str]:
    """The API's parameters naming an app's namespace."""
    return {"appNamespace": namespace}


@router.get("/applications/{namespace}/{name}", name="application_page")
async def application_page(request: Request, namespace: str, name: str) -> HTMLResponse:
    """The whole page."""
    api = apicall.api_of(request)
    obj = await api.get(f"/api/v1/applications/{name}", app_params(namespace))
    userinfo = await api.get("/api/v1/session/userinfo")
    values: dict[str, Any] = {"app": appview.app_view(obj), "obj": obj}
    values |= await appheader.values(api, obj)
    return render.html(
        request,
        "application.html",
        section="applications",
        user=userinfo.get("username") or "",
        **values,
    )
