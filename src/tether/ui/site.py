"""Mounting the UI on the API server's app: its pages, its assets, and how API errors show.

A page whose API call answers 401 sends the browser to the login page (and back after);
any other API error is shown as a page with the API's own message.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from tether.ui import apicall, render
from tether.ui.pages import (
    apphistory,
    application,
    applications,
    login,
    resourceactions,
    settings,
)

PAGE_ROUTERS = (
    login.router,
    applications.router,
    application.router,
    apphistory.router,
    resourceactions.router,
    settings.router,
)

ERROR_HEADINGS = {
    403: "Permission denied",
    404: "Not found",
    503: "Not ready yet",
}


class Assets(StaticFiles):
    """The UI's stylesheets and scripts, revalidated by their ETag on every page load.

    The API's default (``no-store``) would send every script again on every page; a longer
    cache would keep old scripts after an upgrade.
    """

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        """The file, marked to be revalidated before each use."""
        response = super().file_response(*args, **kwargs)
        response.headers["Cache-Control"] = "no-cache"
        return response


def mount(app: FastAPI) -> None:
    """Serve the UI from ``app``: pages at ``/``, assets at ``/assets``."""
    for router in PAGE_ROUTERS:
        app.include_router(router)
    app.mount("/assets", Assets(directory=render.STATIC, check_dir=False), name="assets")
    app.add_exception_handler(apicall.NotSignedIn, _to_login)
    app.add_exception_handler(apicall.ApiCallFailed, _error_page)


async def _to_login(request: Request, _: Exception) -> Response:
    if request.headers.get("hx-request"):
        # htmx follows redirects itself; a whole-page visit to the login page is what we want.
        return Response(status_code=204, headers={"HX-Redirect": login.login_url(request)})
    return RedirectResponse(login.login_url(request), status_code=303)


async def _error_page(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, apicall.ApiCallFailed)
    heading = ERROR_HEADINGS.get(exc.status, "Something went wrong")
    return render.html(
        request,
        "error.html",
        status_code=exc.status,
        heading=heading,
        message=exc.message,
        section="",
        user="",
    )
