"""The Application writer remembers its own last write of each app until a read catches up."""

from __future__ import annotations

import asyncio
from typing import Any, cast

from tether import ports
from tether.services.appwriter import AppWriter


class _VersionCountingCluster:
    """Answers each patch with the app as stored at the next resourceVersion."""

    def __init__(self) -> None:
        self.version = 100

    async def patch(self, *_args: Any, **_kwargs: Any) -> dict[str, Any]:
        self.version += 1
        return {"metadata": {"resourceVersion": str(self.version)}}


def _read(version: int) -> dict[str, Any]:
    return {"metadata": {"resourceVersion": str(version)}}


def test_a_read_older_than_our_last_write_predates_it_until_one_catches_up() -> None:
    writer = AppWriter(cast(ports.Cluster, _VersionCountingCluster()), "tether")
    assert not writer.predates_own_write("ns", "app", _read(100))  # nothing written yet
    asyncio.run(writer.patch("ns", "app", {"status": {}}))
    assert writer.predates_own_write("ns", "app", _read(100))
    assert not writer.predates_own_write("ns", "other", _read(100))
    assert not writer.predates_own_write("ns", "app", _read(101))
    # Once caught up the write is forgotten: 10,000 apps leave nothing behind.
    assert not writer.predates_own_write("ns", "app", _read(100))


def test_each_write_moves_the_mark_and_forgetting_an_app_drops_it() -> None:
    writer = AppWriter(cast(ports.Cluster, _VersionCountingCluster()), "tether")
    asyncio.run(writer.patch("ns", "app", {"status": {}}))
    asyncio.run(writer.patch("ns", "app", {"status": {}}))
    assert writer.predates_own_write("ns", "app", _read(101))
    writer.forget("ns", "app")
    assert not writer.predates_own_write("ns", "app", _read(101))
