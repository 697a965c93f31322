"""The loop never decides on a cached Application older than its own last write of it.

Such a read still carries the status and operation state that write replaced: acting on it
wrote the same status twice (one more patch and Event per sync) or stepped an operation again.
"""

from __future__ import annotations

import asyncio
import datetime
from types import SimpleNamespace
from typing import Any, cast

from tether import bootstrap
from tether.controller import loop
from tether.services.appwriter import AppWriter


class _Cluster:
    """Stores one patch; any other request is a test failure."""

    def __init__(self) -> None:
        self.patches = 0

    async def patch(self, *_args: Any, **_kwargs: Any) -> dict[str, Any]:
        self.patches += 1
        return {"metadata": {"resourceVersion": "7"}}

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"unexpected request: {name}")


class _Live:
    def __init__(self, version: str) -> None:
        self.version = version

    def manifest(self, _key: Any) -> dict[str, Any]:
        return {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Application",
            "metadata": {"name": "one", "namespace": "apps", "resourceVersion": self.version},
            "spec": {"project": "default", "destination": {}, "source": {"repoURL": "x"}},
        }


def test_a_cached_app_older_than_our_write_waits_for_that_writes_watch_event() -> None:
    cluster = _Cluster()
    apps = AppWriter(cast(Any, cluster), "tether")
    live = _Live("6")
    runtime = SimpleNamespace(
        clock=lambda: datetime.datetime.now(datetime.UTC),
        cluster=cluster,
        settings=SimpleNamespace(status_field_manager="tether"),
        live=live,
        apps=apps,
    )
    controller = loop.Controller(cast(bootstrap.Runtime, runtime))

    async def scenario() -> float | None:
        await apps.patch("apps", "one", {"status": {"sync": {"status": "Synced"}}})
        return await controller.reconcile(("apps", "one"))

    # Nothing is read, compared or written: the app is looked at again when its event comes.
    assert asyncio.run(scenario()) == loop.CACHE_CATCH_UP_S
    assert cluster.patches == 1
