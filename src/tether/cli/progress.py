"""Progress of long work on stderr: a line per step with its elapsed time, live on a terminal.

On a terminal the current step's line is redrawn every second with a spinner and the seconds
so far; elsewhere (a log, CI) each step gets plain lines only, so nothing is overwritten.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import TextIO

SPINNER = "|/-\\"


def elapsed(seconds: float) -> str:
    """``42s`` or ``12m03s``."""
    whole = int(seconds)
    return f"{whole}s" if whole < 60 else f"{whole // 60}m{whole % 60:02d}s"


class Progress:
    """``with Progress() as progress: progress.start("helm"); ...; progress.done("helm ready")``."""

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        live: bool | None = None,
        clock: Callable[[], float] = time.monotonic,
        interval: float | None = 1.0,
    ) -> None:
        """``interval``: seconds between redraws on a terminal (``None``: only ``redraw()``)."""
        self._stream = stream or sys.stderr
        self._live = self._stream.isatty() if live is None else live
        self._clock = clock
        self._interval = interval
        self._lock = threading.Lock()
        self._step = ""
        self._turn = 0
        self._started = clock()
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None
        self._drawn = False

    def __enter__(self) -> Progress:
        if self._live and self._interval is not None:
            self._ticker = threading.Thread(target=self._tick, name="progress", daemon=True)
            self._ticker.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join(2)
        with self._lock:
            self._clear()

    def start(self, step: str) -> None:
        """A step begins: said at once, then (on a terminal) kept live with its seconds."""
        with self._lock:
            self._clear()
            self._step, self._started = step, self._clock()
            self._stream.write(f"{step} ...\n")
            self._stream.flush()

    def note(self, text: str) -> None:
        """A line about the current step (what a build script says it is doing)."""
        with self._lock:
            self._clear()
            self._stream.write(f"  {text} [{elapsed(self._clock() - self._started)}]\n")
            self._stream.flush()

    def done(self, text: str) -> None:
        """The current step ended: ``text`` with the time it took."""
        with self._lock:
            self._clear()
            self._stream.write(f"{text} ({elapsed(self._clock() - self._started)})\n")
            self._stream.flush()
            self._step = ""

    def _clear(self) -> None:
        if self._drawn:
            self._stream.write("\r\033[K")
            self._drawn = False

    def redraw(self) -> None:
        """On a terminal, draw the current step again with its seconds and the next spinner."""
        with self._lock:
            if not (self._live and self._step):
                return
            seconds = elapsed(self._clock() - self._started)
            self._stream.write(f"\r\033[K{SPINNER[self._turn % 4]} {self._step} {seconds}")
            self._stream.flush()
            self._drawn = True
            self._turn += 1

    def _tick(self) -> None:
        assert self._interval is not None
        while not self._stop.wait(self._interval):
            self.redraw()
