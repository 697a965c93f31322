"""The settings pages: repositories, clusters, projects and accounts the user may see."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from tether.ui import apicall, render

router = APIRouter(include_in_schema=False)


@router.get("/settings", name="settings_page")
async def settings_page(request: Request) -> HTMLResponse:
    """The settings index."""
    api = apicall.api_of(request)
    userinfo = await api.get("/api/v1/session/userinfo")
    return render.html(
        request, "settings.html", section="settings", user=userinfo.get("username") or ""
    )
