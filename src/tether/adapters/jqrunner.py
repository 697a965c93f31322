"""Runs ignoreDifferences jq expressions with a deadline, in a worker process.

jq.py cannot be interrupted from Python, so expressions run in one reused worker (compiled
programs cached there); a call past its deadline kills the worker and a fresh one takes over.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import threading
from multiprocessing.context import ForkServerContext, SpawnContext
from typing import Any, Literal

from tether.core.diff.ignore import JqError, JqEvaluationError, JqTimeoutError

DEADLINE_S = 1.0
"""Argo CD's jq timeout for ignoreDifferences: a diff must not hang on one user expression."""

START_TIMEOUT_S = 30.0
"""Allowance for starting a worker: a spawned process imports Python and jq from scratch."""

COMPILE_CACHE_SIZE = 256
"""Distinct programs kept compiled in the worker; apps reuse a handful of expressions."""


def _worker(conn: multiprocessing.connection.Connection) -> None:  # pragma: no cover (child)
    import jq

    conn.send(("ready", None))
    cache: dict[str, Any] = {}
    while True:
        try:
            program, value = conn.recv()
        except EOFError:
            return
        try:
            compiled = cache.get(program)
            if compiled is None:
                compiled = jq.compile(program)
                if len(cache) >= COMPILE_CACHE_SIZE:
                    cache.pop(next(iter(cache)))
                cache[program] = compiled
            results = compiled.input_value(value).all()
        except Exception as err:  # jq raises ValueError for both syntax and runtime errors.
            conn.send(("error", str(err)))
            continue
        if len(results) != 1:
            conn.send(("error", f"produced {len(results)} results, expected exactly 1"))
        else:
            conn.send(("ok", results[0]))


class JqRunner:
    """A ``tether.core.diff.ignore.JqEvaluator``: call it with a jq program and one JSON input.

    Thread-safe (calls are serialised). Close it, or use it as a context manager, to stop the
    worker.
    """

    def __init__(
        self,
        deadline_s: float = DEADLINE_S,
        start_method: Literal["spawn", "forkserver"] = "spawn",
    ) -> None:
        self._deadline_s = deadline_s
        self._context: SpawnContext | ForkServerContext = (
            multiprocessing.get_context("forkserver")
            if start_method == "forkserver"
            else multiprocessing.get_context("spawn")
        )
        self._lock = threading.Lock()
        self._process: Any = None
        self._conn: multiprocessing.connection.Connection | None = None

    def __enter__(self) -> JqRunner:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def __call__(self, program: str, value: Any) -> Any:
        """Run ``program`` on ``value`` and return its single result.

        Raises:
            JqTimeoutError: past the deadline; the worker is replaced.
            JqEvaluationError: the program failed, or did not give exactly one result.
            JqError: the worker died.
        """
        with self._lock:
            conn = self._ensure_worker()
            try:
                conn.send((program, value))
                if not conn.poll(self._deadline_s):
                    self._stop()
                    raise JqTimeoutError(
                        f"jq expression {program!r} did not finish within {self._deadline_s:g} s"
                    )
                status, payload = conn.recv()
            except (EOFError, OSError, BrokenPipeError) as err:
                self._stop()
                raise JqError(f"jq worker failed while running {program!r}: {err}") from err
            if status == "error":
                raise JqEvaluationError(f"jq expression {program!r} failed: {payload}")
            return payload

    def close(self) -> None:
        """Stop the worker process."""
        with self._lock:
            self._stop()

    def _ensure_worker(self) -> multiprocessing.connection.Connection:
        if self._conn is not None and self._process is not None and self._process.is_alive():
            return self._conn
        self._stop()
        parent, child = self._context.Pipe()
        process = self._context.Process(target=_worker, args=(child,), daemon=True)
        process.start()
        child.close()
        self._process, self._conn = process, parent
        # Wait for the import outside the deadline, so a cold start never counts as a timeout.
        if not parent.poll(START_TIMEOUT_S) or parent.recv()[0] != "ready":
            self._stop()
            raise JqError(f"jq worker did not start within {START_TIMEOUT_S:g} s")
        return parent

    def _stop(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.join(timeout=5)
            self._process.close()
        if self._conn is not None:
            self._conn.close()
        self._process, self._conn = None, None
