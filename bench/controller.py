"""tether's controller in a process of its own, with the settings a benchmark needs.

``tether run`` cannot set the resync jitter; this entry point can, and it touches ``--ready-file``
once the cache has synced, and optionally profiles the whole run with cProfile.
``--leader-election`` turns the Lease on (off by default: one controller per bench), and any other
field of ``Settings`` is set with a repeated ``--setting name=value`` (parsed by the field's type),
so a scenario can pass through settings this file does not know of.
``BENCH_CONTROLLER_LOG=INFO`` (or DEBUG) raises its log level; the log is in the work directory.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import dataclasses
import datetime
import enum
import logging
import os
import pathlib
import typing
from typing import Any

from tether.controller import main as controller_main
from tether.settings import Settings

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _parse_value(name: str, kind: Any, text: str) -> Any:
    """``text`` as a value of the Settings field ``name`` of type ``kind``."""
    options = [a for a in typing.get_args(kind) if a is not type(None)]
    if options and type(None) in typing.get_args(kind):  # ``X | None``
        return None if text.lower() in ("", "none") else _parse_value(name, options[0], text)
    origin = typing.get_origin(kind)
    if origin in (tuple, frozenset):
        items = tuple(p.strip() for p in text.split(",") if p.strip())
        return items if origin is tuple else frozenset(items)
    if kind is bool:
        if text.lower() not in _TRUE | _FALSE:
            raise ValueError(f"--setting {name}: not a boolean: {text!r}")
        return text.lower() in _TRUE
    if kind is int:
        return int(text)
    if kind is float:
        return float(text)
    if kind is datetime.timedelta:
        return datetime.timedelta(seconds=float(text))
    if kind is str:
        return text
    if isinstance(kind, type) and issubclass(kind, enum.Enum):
        return kind(text)
    raise ValueError(f"--setting {name}: cannot parse a {kind!r}")


def parse_settings(pairs: list[str]) -> dict[str, Any]:
    """``name=value`` pairs as Settings fields (timedeltas in seconds, tuples comma-separated);
    an unknown field is an error, not a setting silently ignored."""
    hints = typing.get_type_hints(Settings)
    fields = {f.name for f in dataclasses.fields(Settings)}
    parsed: dict[str, Any] = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        name = name.strip().replace("-", "_")
        if not sep or name not in fields:
            raise ValueError(f"--setting {pair!r}: not name=value with a field of Settings")
        parsed[name] = _parse_value(name, hints[name], text)
    return parsed


async def _run(args: argparse.Namespace) -> None:
    settings = Settings(
        app_namespaces=(args.namespace,),
        resync_period=datetime.timedelta(seconds=args.resync),
        resync_jitter=datetime.timedelta(seconds=args.jitter),
        workers=args.workers,
        metrics_address=f"127.0.0.1:{args.metrics_port}",
        leader_election=args.leader_election,
        cache_dir=args.cache_dir,
    )
    extra = parse_settings(args.setting)
    if extra:
        settings = dataclasses.replace(settings, **extra)
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
    parser.add_argument("--leader-election", action=argparse.BooleanOptionalAction, default=False)
    parser.add_argument(
        "--setting",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="any Settings field (repeatable), e.g. lease_name=bench or workers=40",
    )
    args = parser.parse_args()
    try:
        parse_settings(args.setting)
    except ValueError as err:
        parser.error(str(err))
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
