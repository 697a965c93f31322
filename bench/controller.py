"""tether's controller in a process of its own, with the settings a benchmark needs.

``tether run`` cannot set the resync jitter; this entry point can, and it touches ``--ready-file``
once the cache has synced, and optionally profiles the whole run with cProfile.
``BENCH_CONTROLLER_LOG=INFO`` (or DEBUG) raises its log level; the log is in the work directory.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import datetime
import logging
import os
import pathlib

from tether.controller import main as controller_main
from tether.settings import Settings


async def _run(args: argparse.Namespace) -> None:
    settings = Settings(
        app_namespaces=(args.namespace,),
        resync_period=datetime.timedelta(seconds=args.resync),
        resync_jitter=datetime.timedelta(seconds=args.jitter),
        workers=args.workers,
        metrics_address=f"127.0.0.1:{args.metrics_port}",
        leader_election=False,
        cache_dir=args.cache_dir,
    )
    ready = asyncio.Event()

    async def mark_ready() -> None:
        await ready.wait()
        pathlib.Path(args.ready_file).write_text("ready\n")

    marker = asyncio.create_task(mark_ready())
    try:
        await controller_main.run(settings, kubeconfig=args.kubeconfig, ready=ready)
    finally:
        marker.cancel()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--kubeconfig", required=True)
    parser.add_argument("--namespace", required=True)
    parser.add_argument("--resync", type=float, default=180.0)
    parser.add_argument("--jitter", type=float, default=30.0)
    parser.add_argument("--workers", type=int, default=Settings().workers)
    parser.add_argument("--metrics-port", type=int, required=True)
    parser.add_argument("--cache-dir", required=True)
    parser.add_argument("--ready-file", required=True)
    parser.add_argument("--profile", default="")
    args = parser.parse_args()
    logging.basicConfig(
        level=os.environ.get("BENCH_CONTROLLER_LOG", "WARNING"),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # tether's own DEBUG lines, not the HTTP stack's per-frame ones.
    for noisy in ("httpcore", "hpack", "h2"):
        logging.getLogger(noisy).setLevel(logging.INFO)
    if not args.profile:
        asyncio.run(_run(args))
        return
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        asyncio.run(_run(args))
    finally:
        profiler.disable()
        profiler.dump_stats(args.profile)


if __name__ == "__main__":
    main()
