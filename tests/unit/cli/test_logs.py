"""Every log line is scrubbed: URL credentials, known secret values, and tracebacks too."""

from __future__ import annotations

import logging
import sys

from tether.cli.logs import Scrubbed

SECRET = "log-canary-s3cret"


def record(message: str, *args: object, exc: bool = False) -> logging.LogRecord:
    exc_info = None
    if exc:
        try:
            raise RuntimeError(f"failed with {SECRET}")
        except RuntimeError:
            exc_info = sys.exc_info()
    return logging.LogRecord("t", logging.ERROR, __file__, 1, message, args, exc_info)


def formatted(rec: logging.LogRecord, secrets: frozenset[str]) -> str:
    assert Scrubbed(lambda: secrets).filter(rec)
    return logging.Formatter().format(rec)


def test_a_known_secret_value_is_masked_in_the_message_and_its_arguments():
    line = formatted(record("fetch %s failed: %s", "https://u:pw@h/x", SECRET), frozenset({SECRET}))
    assert SECRET not in line
    assert "pw@" not in line


def test_a_tracebacks_text_is_scrubbed_before_any_handler_formats_it():
    line = formatted(record("boom", exc=True), frozenset({SECRET}))
    assert "RuntimeError" in line
    assert SECRET not in line


def test_the_secrets_are_asked_for_at_each_line():
    current: set[str] = set()
    scrub = Scrubbed(lambda: current)
    first = record("a %s", SECRET)
    scrub.filter(first)
    current.add(SECRET)
    second = record("b %s", SECRET)
    scrub.filter(second)
    assert SECRET in first.getMessage()
    assert SECRET not in second.getMessage()
