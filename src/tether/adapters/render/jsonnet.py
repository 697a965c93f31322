"""Evaluate Jsonnet with gojsonnet in a killable worker process, imports jailed to the repository.

Jsonnet in Git is user code: it runs off the event loop, under a wall-clock limit, and its imports
may only read files inside the repository root (libs included, as they must live there too).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import multiprocessing
import os
import resource
from collections.abc import Sequence
from multiprocessing.connection import Connection
from typing import Any

from tether.adapters import _process
from tether.core.sources import jail
from tether.model.errors import InvalidInputError, RenderError
from tether.model.source import JsonnetVar


async def evaluate(
    filenames: Sequence[str],
    *,
    root: str,
    ext_vars: Sequence[JsonnetVar] = (),
    tlas: Sequence[JsonnetVar] = (),
    libs: Sequence[str] = (),
    timeout_s: float = 30.0,
) -> list[str]:
    """Evaluate ``.jsonnet`` files in one worker; returns their JSON outputs in order.

    One worker per render, not per file: starting an interpreter costs ~0.3 s. ``libs`` are
    already-resolved directories inside ``root``; ``timeout_s`` bounds the whole batch.

    Raises:
        RenderError: on a Jsonnet error or when the time limit is hit.
        InvalidInputError: when an import leaves the repository.
    """
    job = {
        "filenames": list(filenames),
        "root": os.path.realpath(root),
        "libs": [os.path.realpath(lib) for lib in libs],
        "ext_vars": {v.name: v.value for v in ext_vars if not v.code},
        "ext_codes": {v.name: v.value for v in ext_vars if v.code},
        "tla_vars": {v.name: v.value for v in tlas if not v.code},
        "tla_codes": {v.name: v.value for v in tlas if v.code},
    }
    if not filenames:
        return []
    status, payload = await asyncio.to_thread(_run_worker, job, timeout_s)
    if status == "ok" and isinstance(payload, list):
        return payload
    if status == "jail":
        raise InvalidInputError(str(payload))
    raise RenderError(str(payload))


def _run_worker(job: dict[str, Any], timeout_s: float) -> tuple[str, str | list[str]]:
    # A fresh interpreter: forking a threaded asyncio process (and a Go runtime) is unsafe.
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe(duplex=False)
    job = {**job, "parent_pid": os.getpid(), "cpu_limit_s": math.ceil(timeout_s) + 1}
    worker = context.Process(target=_worker, args=(child, job), daemon=True)
    worker.start()
    child.close()
    try:
        if not parent.poll(timeout_s):
            return "error", f"jsonnet timed out after {timeout_s:g}s"
        status, payload = parent.recv()
        return str(status), payload
    except EOFError:
        return "error", f"jsonnet worker died (exit code {worker.exitcode})"
    finally:
        if worker.is_alive():
            worker.kill()
        worker.join()
        worker.close()
        parent.close()


def _worker(conn: Connection, job: dict[str, Any]) -> None:  # pragma: no cover - child process
    # The parent kills a late worker; these end one whose parent was killed first (seen: an
    # orphaned runaway evaluation spinning for minutes after its controller stopped).
    _process.die_with_parent(parent_pid=job["parent_pid"])
    with contextlib.suppress(ValueError, OSError):  # a lower hard limit already set is fine
        resource.setrlimit(resource.RLIMIT_CPU, (job["cpu_limit_s"], job["cpu_limit_s"] + 1))
    import _gojsonnet

    root: str = job["root"]
    libs: list[str] = job["libs"]
    # gojsonnet copies an import callback's error message without its terminator, so the text
    # it reports back carries stray bytes (sometimes not even UTF-8). The callback's own reason
    # is kept here and reported instead of the garbled copy.
    refusals: list[tuple[str, str]] = []

    def import_callback(base: str, rel: str) -> tuple[str, bytes]:
        for directory in (base, *libs):
            candidate = os.path.normpath(os.path.join(directory, rel))
            real = os.path.realpath(candidate)
            if not jail.is_inside(root, real):
                refusals.append(("jail", f"import {rel!r} escapes the repository root"))
                raise RuntimeError("refused")
            if os.path.isfile(real):
                with open(real, "rb") as handle:
                    return candidate, handle.read()
        refusals.append(("error", f"import {rel!r} not found"))
        raise RuntimeError("not found")

    outputs: list[str] = []
    filename = ""
    try:
        for filename in job["filenames"]:
            outputs.append(
                _gojsonnet.evaluate_file(
                    filename,
                    ext_vars=job["ext_vars"],
                    ext_codes=job["ext_codes"],
                    tla_vars=job["tla_vars"],
                    tla_codes=job["tla_codes"],
                    import_callback=import_callback,
                )
            )
        conn.send(("ok", outputs))
    except Exception as err:  # every failure must reach the parent as a message
        if refusals:
            status, reason = refusals[0]
            conn.send((status, f"{os.path.relpath(filename, root)}: {reason}"))
        else:
            conn.send(("error", _first_lines(str(err))))
    finally:
        conn.close()


def _first_lines(message: str, count: int = 6) -> str:
    return "\n".join(message.strip().splitlines()[:count])
