"""Helpers of the Application API tests: apps made directly in the cluster, waits on the API."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx2
from lightkube import Client

from tests.support import tetherenv

REPO = "https://git.example.test/apps.git"


def make_app(
    kube: Client,
    namespace: str,
    name: str,
    *,
    project: str = "default",
    labels: dict[str, str] | None = None,
    repo: str = REPO,
) -> dict[str, Any]:
    """Create an Application straight in the cluster (the API's index sees it by its watch)."""
    body = tetherenv.application(name, namespace, repo, "app", namespace, project=project)
    if labels:
        body["metadata"]["labels"] = labels
    tetherenv.create(kube, body)
    return body


async def listed(
    client: httpx2.AsyncClient, count: int, params: Any = None, timeout: float = 20.0
) -> dict[str, Any]:
    """The list once it has ``count`` items (the index catches up with the watch)."""
    deadline = time.monotonic() + timeout
    while True:
        response = await client.get("/api/v1/applications", params=params)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        if len(body["items"]) == count or time.monotonic() > deadline:
            return body
        await asyncio.sleep(0.1)


def names(body: dict[str, Any]) -> list[str]:
    """The names of a list's items, in order."""
    return [item["metadata"]["name"] for item in body["items"]]
