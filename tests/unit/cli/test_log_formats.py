"""The log line formats: JSON objects with structured fields, text with key=value, both scrubbed."""

from __future__ import annotations

import json
import logging

from tether.cli import logs


def record(msg: str, *args: object, **extra: object) -> logging.LogRecord:
    made = logging.getLogger("tether.test").makeRecord(
        "tether.test", logging.INFO, __file__, 1, msg, args, None, extra=extra
    )
    logs.Scrubbed(lambda: ["s3cr3t-value"]).filter(made)
    return made


def test_a_json_line_carries_time_level_logger_message_and_the_fields():
    line = json.loads(logs.JsonLines().format(record("sync started: %s", "a", app="a", wave=2)))
    assert line["level"] == "info"
    assert line["logger"] == "tether.test"
    assert line["msg"] == "sync started: a"
    assert (line["app"], line["wave"]) == ("a", 2)
    assert line["time"].endswith("Z")


def test_credentials_in_the_message_and_in_fields_are_scrubbed():
    made = record(
        "fetching https://user:pw@example.com/r.git",
        repo="https://user:pw@example.com/r.git",
        note="token s3cr3t-value",
    )
    line = logs.JsonLines().format(made)
    assert "pw@" not in line and "s3cr3t-value" not in line
    assert "example.com/r.git" in json.loads(line)["repo"]


def test_a_text_line_ends_with_the_fields_quoting_values_with_spaces():
    text = logs.TextLines().format(record("sync finished", phase="Succeeded", detail="all ok"))
    assert text.endswith('tether.test: sync finished phase=Succeeded detail="all ok"')


def test_a_text_line_shows_a_list_field_comma_separated():
    text = logs.TextLines().format(record("starting", namespaces=["a", "b"]))
    assert text.endswith("starting namespaces=a,b")


def test_v_and_vv_still_choose_the_level():
    assert logs.level_of("warning", 0) == "warning"
    assert logs.level_of("warning", 1) == "info"
    assert logs.level_of("info", 2) == "debug"
