"""The unauthenticated surface is an allow-list (AC-04): every other route wants a session."""

from __future__ import annotations

import re

from fastapi.routing import APIRoute

from tests.integration.api.conftest import Api
from tether.api import apidoc, server

OPEN = apidoc.OPEN_ROUTES
"""Routes anyone may call; each answers a caller without a session in its own safe way."""


def every_route() -> list[tuple[str, str]]:
    return sorted(
        (method, route.path)
        for router in server.ROUTERS
        for route in router.routes
        if isinstance(route, APIRoute)
        for method in route.methods or ()
    )


async def test_every_route_outside_the_allow_list_refuses_a_caller_without_a_session(
    api: Api,
) -> None:
    routes = every_route()
    assert ("GET", "/api/v1/account") in routes
    async with api.client() as http:
        for method, path in routes:
            if (method, path) in OPEN:
                continue
            url = re.sub(r"\{[^}]+\}", "1", path)  # "1" fits string and number parameters
            answer = await http.request(method, url, json={} if method != "GET" else None)
            assert answer.status_code == 401, (method, path, answer.status_code)
            assert answer.json()["message"] == "no session information", (method, path)


async def test_the_openapi_document_is_served_to_signed_in_callers_only(api: Api) -> None:
    async with api.client() as anonymous:
        refused = await anonymous.get("/api/openapi.json")
    assert refused.status_code == 401
    token = await api.login("admin", await api.admin_password())
    async with api.client(token) as http:
        served = await http.get("/api/openapi.json")
    assert served.status_code == 200
    assert "/api/v1/applications" in served.json()["paths"]
