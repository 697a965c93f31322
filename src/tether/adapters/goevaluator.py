"""Runs Argo CD's expressions and Go templates in ``tether-goeval``, one worker, with a deadline.

The worker (``goeval/main.go``, built as a tool) answers one JSON line per request and caches
what it compiled. A request past its deadline kills the worker; the next request starts another.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal

import orjson

from tether.adapters import _process
from tether.model.errors import EvaluationError, TetherError

DEADLINE_S = 2.0
"""One condition or template; Argo CD's are microseconds, so this only stops a runaway one."""

START_TIMEOUT_S = 10.0
"""Starting the worker is outside the deadline: a cold exec is not the user's fault."""

MISSING_RETRY_S = 60.0
"""After the binary could not be found or built, requests fail at once for this long: looking
again may run a build, which must not happen once per expression."""

MAX_MESSAGE_CHARS = 500
"""An evaluation error is cut to this: it goes to logs, and expressions can be long."""


class GoEvaluator:
    """The ``ports.Evaluator`` over a ``tether-goeval`` worker process."""

    def __init__(self, binary: Callable[[], str], *, deadline_s: float = DEADLINE_S) -> None:
        self._binary = binary
        self._deadline_s = deadline_s
        self._lock = asyncio.Lock()
        self._proc: asyncio.subprocess.Process | None = None
        self._missing: tuple[float, str] | None = None

    async def expr(self, program: str, env: Mapping[str, Any]) -> Any:
        """The value of ``program`` over ``env``."""
        return await self._call({"op": "expr", "program": program, "env": env})

    async def template(
        self,
        text: str,
        data: Mapping[str, Any],
        *,
        mode: Literal["html", "text"] = "html",
        options: Sequence[str] = (),
    ) -> str:
        """``text`` executed over ``data``."""
        request = {"op": "template", "mode": mode, "text": text, "data": data}
        return str(await self._call({**request, "options": list(options)}))

    async def aclose(self) -> None:
        """Stop the worker."""
        async with self._lock:
            await self._stop()

    async def _call(self, request: Mapping[str, Any]) -> Any:
        line = orjson.dumps(request, default=str) + b"\n"
        async with self._lock:
            proc = await self._ensure()
            assert proc.stdin is not None and proc.stdout is not None
            try:
                async with asyncio.timeout(self._deadline_s):
                    proc.stdin.write(line)
                    await proc.stdin.drain()
                    answer = await proc.stdout.readline()
            except TimeoutError:
                await self._stop()
                raise EvaluationError(
                    f"did not finish within {self._deadline_s:g} s (the evaluator was restarted)"
                ) from None
            except asyncio.CancelledError:
                # Its answer would be read as the next request's: start afresh instead.
                await asyncio.shield(self._stop())
                raise
            except (OSError, ValueError) as err:
                await self._stop()
                raise EvaluationError(f"the evaluator failed: {type(err).__name__}") from None
            if not answer:
                await self._stop()
                raise EvaluationError("the evaluator exited")
        reply = orjson.loads(answer)
        if "error" in reply:
            raise EvaluationError(str(reply["error"])[:MAX_MESSAGE_CHARS])
        return reply.get("value")

    async def _ensure(self) -> asyncio.subprocess.Process:
        if self._proc is not None and self._proc.returncode is None:
            return self._proc
        await self._stop()
        loop = asyncio.get_running_loop()
        if self._missing is not None and loop.time() < self._missing[0]:
            raise EvaluationError(self._missing[1])
        try:
            # A thread: the first lookup may build the tool, which takes a while.
            binary = await asyncio.to_thread(self._binary)
        except TetherError as err:
            reason = f"the evaluator (tether-goeval) is missing: {str(err)[:300]}"
            self._missing = (loop.time() + MISSING_RETRY_S, reason)
            raise EvaluationError(reason) from None
        self._missing = None
        proc = await _process.start_worker([binary], env=_process.base_env())
        self._proc = proc
        assert proc.stdin is not None and proc.stdout is not None
        try:
            async with asyncio.timeout(START_TIMEOUT_S):
                proc.stdin.write(b'{"op":"ping"}\n')
                await proc.stdin.drain()
                ready = await proc.stdout.readline()
        except (TimeoutError, OSError):
            ready = b""
        if b"pong" not in ready:
            await self._stop()
            raise EvaluationError("the evaluator (tether-goeval) did not start")
        return proc

    async def _stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            await _process.stop_worker(proc)
