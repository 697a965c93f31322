"""The API server's probes: anyone may ask, and they say only whether it serves and is ready."""

from __future__ import annotations

import asyncio

from tests.integration.api.conftest import Api


async def test_healthz_answers_and_readyz_turns_ready_once_the_app_index_is_listed(
    api: Api,
) -> None:
    async with api.client() as http:
        health = await http.get("/healthz")
        assert (health.status_code, health.text) == (200, "ok\n")
        ready = await http.get("/readyz")
        for _ in range(150):
            if ready.status_code == 200:
                break
            assert ready.status_code == 503
            await asyncio.sleep(0.2)
            ready = await http.get("/readyz")
        assert (ready.status_code, ready.text) == (200, "ok\n")
