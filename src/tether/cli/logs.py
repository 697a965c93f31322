"""Logging for tether's processes: text or JSON lines, and every line scrubbed of credentials.

A line's structured fields come from ``extra=`` (``log.info("sync started", extra={"app":
name})``): JSON lines carry them as keys beside ``time``, ``level``, ``logger`` and ``msg``,
text lines as ``key=value`` after the message.
"""

from __future__ import annotations

import datetime
import json
import logging
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import click

from tether.core import redact

Secrets = Callable[[], Iterable[str]]
"""The secret values known where a line is logged (a repo-server's current request's)."""

FORMATS = ("text", "json")
LEVELS = ("debug", "info", "warning", "error")

QUIET_LOGGERS = {
    "uvicorn.access": "one line per HTTP request (probes, scrapes): noise at info, and a query "
    "string (an SSO callback's code) is no business of a log",
    "httpx2": "one line per Kubernetes request at info",
    "httpx": "one line per request at info",
}
"""Loggers held at WARNING whatever the level, with the reason."""

_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
}
"""A record's own attributes; any other attribute came from ``extra=``: a structured field."""

F = TypeVar("F", bound=Callable[..., Any])


def fields(record: logging.LogRecord) -> dict[str, Any]:
    """The structured fields a record carries (its ``extra=``), in the order given."""
    return {k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")}


class Scrubbed(logging.Filter):
    """Formats each record's message once and scrubs it (``core.redact``) before any handler.

    String fields are scrubbed too: a repository URL given as a field is a message like any other.
    """

    def __init__(self, secrets: Secrets = frozenset) -> None:
        super().__init__()
        self._secrets = secrets

    def filter(self, record: logging.LogRecord) -> bool:
        """Replace the record's message with its scrubbed text; never drop a record."""
        secrets = list(self._secrets())
        record.msg = redact.text(record.getMessage(), secrets)
        record.args = None
        for key, value in fields(record).items():
            if isinstance(value, str):
                setattr(record, key, redact.text(value, secrets))
        if record.exc_info and not record.exc_text:
            # Formatted here, so the traceback is scrubbed too, not formatted raw later.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact.text(record.exc_text, secrets)
        return True


def _plain(value: Any) -> Any:
    """A field's value as JSON has it: numbers, booleans and strings as they are."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    return str(value)


class JsonLines(logging.Formatter):
    """One JSON object per line: time (RFC 3339, UTC), level, logger, msg, then the fields."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON."""
        stamp = datetime.datetime.fromtimestamp(record.created, datetime.UTC)
        line: dict[str, Any] = {
            "time": stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in fields(record).items():
            line.setdefault(key, _plain(value))
        if record.exc_text:
            line["error"] = record.exc_text
        return json.dumps(line, ensure_ascii=False)


class TextLines(logging.Formatter):
    """``time LEVEL logger: message key=value ...``; a value with spaces is quoted."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        """The message, then its fields."""
        text = super().formatMessage(record)
        pairs = []
        for key, value in fields(record).items():
            if isinstance(value, list | tuple | set | frozenset):
                shown = ",".join(str(v) for v in value)
            else:
                shown = value if isinstance(value, str) else json.dumps(_plain(value))
            if not shown or any(c.isspace() or c in '"=' for c in shown):
                shown = json.dumps(shown)
            pairs.append(f"{key}={shown}")
        return " ".join([text, *pairs])


def configure(
    level: str = "info",
    log_format: str = "text",
    secrets: Secrets = frozenset,
    *,
    requests: bool = False,
) -> None:
    """Log to stderr at ``level`` in ``log_format`` (``text`` or ``json``), every line scrubbed.

    ``secrets`` gives the values to mask besides URL userinfo and bearer tokens; it is asked
    at each line, in the context that logs it. ``requests`` (``-v``) logs every HTTP request
    too (the ``QUIET_LOGGERS``).
    """
    if level not in LEVELS:
        raise ValueError(f"log level {level!r} is not one of {', '.join(LEVELS)}")
    if log_format not in FORMATS:
        raise ValueError(f"log format {log_format!r} is not one of {', '.join(FORMATS)}")
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "tether", False)]:
        root.removeHandler(old)
    handler = logging.StreamHandler()
    handler.tether = True  # type: ignore[attr-defined]  # ours, replaced by the next call
    handler.setFormatter(JsonLines() if log_format == "json" else TextLines())
    root.addHandler(handler)
    root.setLevel(level.upper())
    for each in root.handlers:  # a test's capturing handler sees scrubbed lines too
        if not any(isinstance(f, Scrubbed) for f in each.filters):
            each.addFilter(Scrubbed(secrets))
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.NOTSET if requests else logging.WARNING)


def level_of(log_level: str, verbose: int) -> str:
    """The level in force: ``-v``/``-vv`` (kept from before ``--log-level``) win when given."""
    return "debug" if verbose > 1 else "info" if verbose else log_level


def options(func: F) -> F:
    """``--log-format``, ``--log-level`` and ``-v`` for a long-running command."""
    for option in reversed(
        (
            click.option(
                "--log-format",
                type=click.Choice(FORMATS),
                default="text",
                show_default=True,
                help="text lines, or one JSON object per line (time, level, logger, msg, fields).",
            ),
            click.option(
                "--log-level",
                type=click.Choice(LEVELS),
                default="info",
                show_default=True,
                help="The least severe level logged.",
            ),
            click.option(
                "-v",
                "--verbose",
                count=True,
                help="-v: info, and a line per HTTP request; -vv: debug, and the same.",
            ),
        )
    ):
        func = option(func)
    return func
