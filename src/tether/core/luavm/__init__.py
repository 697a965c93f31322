"""The Lua sandbox argocd-cm's scripts run in: a fresh Lua 5.4 runtime per run.

Each run is bounded by instructions and memory (not by the clock); objects go in as plain
tables and results come out through raw reads, so no script code runs outside its budget.

Health checks (``core/health/lua``) and resource actions (``core/app/luaactions``) both run here.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
from collections.abc import Mapping
from typing import Any, Literal

import lupa.lua54 as lua54

from tether.core.luavm import _sandbox

DEFAULT_INSTRUCTION_BUDGET = 10_000_000
"""Lua VM instructions a script may run: ~10 ms on a laptop, far more than any real script needs
(Argo CD's bundled scripts take thousands), and far less than Argo CD's one-second timeout."""
DEFAULT_MEMORY_LIMIT = 64 * 1024 * 1024
"""Bytes a script may allocate beyond the object it reads: far more than a script needs."""
HOOK_PERIOD = 1_000
"""Instructions between budget checks: often enough to stop close to the budget, rarely enough
to cost nothing."""

INT64 = 2**63
"""Lua 5.4 integers are 64-bit; larger JSON numbers reach scripts as floats, as in Go."""

Mode = Literal["health", "json"]


@dataclasses.dataclass(frozen=True)
class Limits:
    """What one run may use."""

    instruction_budget: int = DEFAULT_INSTRUCTION_BUDGET
    memory_limit: int = DEFAULT_MEMORY_LIMIT


@dataclasses.dataclass(frozen=True)
class Returned:
    """A script's result, decoded from the JSON the sandbox encoded it as."""

    value: Any


@dataclasses.dataclass(frozen=True)
class Failed:
    """A script that did not return a result: why, and whether it ran out of budget."""

    message: str
    budget_exhausted: bool = False


def plain(value: object) -> object:
    """A JSON-like copy of a manifest that lupa turns into plain Lua tables (arrays 1-based)."""
    if isinstance(value, Mapping):
        return {str(key): plain(item) for key, item in value.items() if item is not None}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if isinstance(value, bool | str) or value is None:
        return value
    if isinstance(value, int):
        return value if -INT64 <= value < INT64 else float(value)
    if isinstance(value, float):
        # Go decodes every JSON number as float64 and prints 3.0 as "3"; Lua 5.4 would print "3.0".
        return int(value) if value.is_integer() and abs(value) < INT64 else value
    if isinstance(value, datetime.datetime):
        # YAML loaders turn timestamps into datetimes; the API server sends RFC 3339 strings.
        moment = value if value.tzinfo else value.replace(tzinfo=datetime.UTC)
        return moment.isoformat().replace("+00:00", "Z")
    return str(value)


def epoch(now: datetime.datetime | None) -> int | None:
    """Seconds since the epoch for the script's ``os.time()``; naive times are taken as UTC."""
    if now is None:
        return None
    moment = now if now.tzinfo else now.replace(tzinfo=datetime.UTC)
    return int(moment.timestamp())


def execute(
    source: str,
    chunkname: str,
    obj: Mapping[str, Any],
    *,
    mode: Mode,
    limits: Limits,
    now: datetime.datetime | None = None,
) -> tuple[object, ...]:
    """Run ``source`` with ``obj`` as its global ``obj``; the sandbox's tagged answer.

    Tags: ``budget``; ``error`` with a message; ``memory``; in health mode ``health`` (status,
    message), ``none`` or ``invalid``; in JSON mode ``json`` with the result's JSON text.
    """
    # The limit is set only once the object is in: running out of memory while lupa builds it
    # happens outside Lua's protected mode and would abort the process. The object's own size is
    # bounded by etcd's 1.5 MB; the limit bounds what the script allocates on top of it.
    runtime: Any = lua54.LuaRuntime(
        register_eval=False,
        register_builtins=False,
        unpack_returned_tuples=True,
        max_memory=0,
    )
    runner: Any = runtime.execute(_sandbox.SOURCE)
    table: Any = runtime.table_from(plain(obj), recursive=True)
    runtime.execute("collectgarbage()")  # measure the limit from live memory, not from garbage
    runtime.set_max_memory(int(runtime.get_memory_used()) + limits.memory_limit)
    try:
        answer: object = runner(
            source, chunkname, table, limits.instruction_budget, HOOK_PERIOD, epoch(now), mode
        )
    except lua54.LuaMemoryError:
        # Out of memory outside the script's coroutine, e.g. while the sandbox is being set up.
        return ("memory",)
    except UnicodeDecodeError:
        # lupa decodes the answer's strings as UTF-8; a script may build any bytes.
        return ("error", "the script returned text that is not UTF-8")
    return answer if isinstance(answer, tuple) else (answer,)


def evaluate(
    source: str,
    chunkname: str,
    obj: Mapping[str, Any],
    *,
    limits: Limits,
    now: datetime.datetime | None = None,
) -> Returned | Failed:
    """Run ``source`` and decode what it returns (a table, as JSON: Argo CD's reading of it)."""
    values = execute(source, chunkname, obj, mode="json", limits=limits, now=now)
    tag = values[0]
    if tag == "budget":
        return Failed(
            f"ran past its budget of {limits.instruction_budget:,} instructions "
            "(does it loop forever?)",
            budget_exhausted=True,
        )
    if tag == "memory":
        return Failed("not enough memory")
    if tag != "json":
        detail = values[1] if len(values) > 1 and isinstance(values[1], str) else str(tag)
        return Failed(detail)
    text = values[1] if len(values) > 1 else None
    if not isinstance(text, str):
        return Failed("the sandbox gave no result")
    try:
        return Returned(json.loads(text))
    except ValueError as err:
        return Failed(f"the result is not JSON: {err}")
