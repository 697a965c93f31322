"""An application's sync history, as the history dialog loads it, with a rollback per entry."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from tether.model.application import parse_application
from tether.model.errors import InvalidInputError
from tether.ui import apicall, render
from tether.ui.pages import appheader

router = APIRouter(include_in_schema=False)


@router.get("/applications/{namespace}/{name}/history", name="application_history")
async def history(request: Request, namespace: str, name: str) -> HTMLResponse:
    """The dialog's body: every history entry, newest first."""
    api = apicall.api_of(request)
    try:
        obj = await api.get(apicall.app_path(name), {"appNamespace": namespace})
        may_sync = await api.may(appheader.RESOURCE, "sync", appheader.rbac_object(obj))
    except apicall.NotSignedIn:
        raise
    except apicall.ApiCallFailed as err:
        return render.html(request, "_app_history.html", problem=err.message, entries=[])
    try:
        app = parse_application(obj)
    except InvalidInputError as err:
        return render.html(request, "_app_history.html", problem=str(err), entries=[])
    entries = list(reversed(app.status.history or [])) if app.status is not None else []
    return render.html(
        request,
        "_app_history.html",
        problem="",
        entries=entries,
        latest=entries[0].id if entries else None,
        may_sync=may_sync,
        automated=app.spec.is_automated,
        api=appheader.endpoints(obj),
        when=appheader.when,
    )
