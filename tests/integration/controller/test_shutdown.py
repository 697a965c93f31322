"""Stopping the controller leaves nothing of it running in the event loop."""

from __future__ import annotations

import asyncio
import contextlib

import pytest

from tests.support import tetherenv
from tether.controller import main as controller_main
from tether.settings import Settings

pytestmark = pytest.mark.timeout(120)

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {color: blue}\n"


def controller_tasks() -> list[asyncio.Task[object]]:
    """Tasks running code of tether's controller or cache (workers, reflectors, senders)."""
    found = []
    for task in asyncio.all_tasks():
        code = task.get_coro().cr_code  # type: ignore[union-attr]
        if "/tether/" in code.co_filename and not task.done():
            found.append(task)
    return found


async def test_cancelling_the_controller_stops_its_workers_and_watches(
    crds, full_namespace, tmp_path
):
    async with tetherenv.app_under_controller(
        crds.kubeconfig,
        full_namespace,
        tmp_path,
        "web",
        {"app/cm.yaml": CM},
        resync_s=1.0,
        syncPolicy={"automated": {}},
    ) as (kube, _):
        await tetherenv.eventually(
            lambda: tetherenv.synced_healthy(kube, full_namespace, "web"), 60, "Synced"
        )
        assert controller_tasks()  # workers and reflectors are running
    # The controller's task was cancelled and awaited: a worker left behind would loop on in
    # the event loop (and hang its teardown, as one did in CI).
    await asyncio.sleep(0)
    assert [task.get_name() for task in controller_tasks()] == []


async def test_cancelling_the_controller_ends_the_jobs_it_hosts_such_as_the_api(
    crds, full_namespace, tmp_path
):
    ended = asyncio.Event()

    async def hosted(_rt: object, stop: asyncio.Event) -> None:
        await stop.wait()  # as the API server does: it ends once ``stop`` is set
        ended.set()

    settings = Settings(
        app_namespaces=(full_namespace,),
        metrics_address="127.0.0.1:0",
        leader_election=False,
        cache_dir=str(tmp_path / "cache"),
        freeze_gc=False,
    )
    ready = asyncio.Event()
    task = asyncio.create_task(
        controller_main.run(settings, kubeconfig=str(crds.kubeconfig), ready=ready, beside=[hosted])
    )
    await asyncio.wait_for(ready.wait(), 60)
    task.cancel()
    # Before the fix, the controller awaited its hosted jobs without telling them to stop, and
    # `tether demo` never returned.
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.wait_for(task, 30)
    assert ended.is_set()
