"""Logging for tether's processes: one format, and every line scrubbed of credentials."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable

from tether.core import redact

Secrets = Callable[[], Iterable[str]]
"""The secret values known where a line is logged (a repo-server's current request's)."""


class Scrubbed(logging.Filter):
    """Formats each record's message once and scrubs it (``core.redact``) before any handler."""

    def __init__(self, secrets: Secrets = frozenset) -> None:
        super().__init__()
        self._secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        """Replace the record's message with its scrubbed text; never drop a record."""
        secrets = self._secrets()
        record.msg = redact.text(record.getMessage(), secrets)
        record.args = None
        if record.exc_info and not record.exc_text:
            # Formatted here, so the traceback is scrubbed too, not formatted raw later.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact.text(record.exc_text, secrets)
        return True


def configure(verbosity: int, secrets: Secrets = frozenset) -> None:
    """Log to stderr at WARNING, INFO (``-v``) or DEBUG (``-vv``), every line scrubbed.

    ``secrets`` gives the values to mask besides URL userinfo and bearer tokens; it is asked
    at each line, in the context that logs it.
    """
    level = logging.DEBUG if verbosity > 1 else logging.INFO if verbosity else logging.WARNING
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        handler.addFilter(Scrubbed(secrets))


LEVELS: dict[str, int] = {
    # Settings.log_level: the logging level it means.
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
}


class JsonLines(logging.Formatter):
    """One JSON object per line: time, level, logger and the (already scrubbed) message."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as a JSON line."""
        line = {
            "time": self.formatTime(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_text:
            line["error"] = record.exc_text
        return json.dumps(line)


def reconfigure(log_format: str, log_level: str) -> None:
    """Switch the configured handlers to ``log_format`` (text, json) and ``log_level``.

    What argocd-cmd-params-cm's ``controller.log.format`` and ``controller.log.level`` set at
    start (``configure`` ran before they were read).
    """
    root = logging.getLogger()
    if log_level in LEVELS:
        root.setLevel(LEVELS[log_level])
    if log_format == "json":
        for handler in root.handlers:
            handler.setFormatter(JsonLines())
