"""Logging for tether's processes: one format, and every line scrubbed of credentials."""

from __future__ import annotations

import logging

from tether.core import redact


class Scrubbed(logging.Filter):
    """Formats each record's message once and scrubs it (``core.redact``) before any handler."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Replace the record's message with its scrubbed text; never drop a record."""
        record.msg = redact.text(record.getMessage())
        record.args = None
        if record.exc_text:
            record.exc_text = redact.text(record.exc_text)
        return True


def configure(verbosity: int) -> None:
    """Log to stderr at WARNING, INFO (``-v``) or DEBUG (``-vv``), every line scrubbed."""
    level = logging.DEBUG if verbosity > 1 else logging.INFO if verbosity else logging.WARNING
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for handler in logging.getLogger().handlers:
        handler.addFilter(Scrubbed())
