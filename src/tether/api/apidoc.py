"""The endpoint table of ``docs/api.md`` and ``docs/openapi.json``, made from the routes.

``hack/gen-api-docs.py`` writes both; a unit test fails when either is stale, so the documents
describe every endpoint the server has, and no other.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

BEGIN = "<!-- endpoints:begin (hack/gen-api-docs.py) -->"
END = "<!-- endpoints:end -->"

OPEN_ROUTES: frozenset[tuple[str, str]] = frozenset(
    {
        # The unauthenticated surface (AC-04); tests/integration/api/test_surface.py holds the
        # server to the same list.
        ("GET", "/api/version"),
        ("POST", "/api/v1/session"),
        ("DELETE", "/api/v1/session"),
        ("GET", "/api/v1/session/userinfo"),
        ("GET", "/api/v1/settings"),
        ("GET", "/auth/login"),
        ("GET", "/auth/callback"),
        ("GET", "/auth/logout"),
        ("POST", "/api/webhook"),
        ("GET", "/healthz"),
        ("GET", "/readyz"),
    }
)


def openapi_json(document: Mapping[str, Any]) -> str:
    """The OpenAPI document as committed: sorted keys, two-space indent, a final newline."""
    return orjson.dumps(document, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode() + "\n"


def endpoint_table(document: Mapping[str, Any]) -> str:
    """A Markdown table of every operation: method, path, session needed, what it does."""
    rows = ["| Method | Path | Session | What it does |", "| --- | --- | --- | --- |"]
    for path, operations in sorted(document.get("paths", {}).items()):
        for method, operation in sorted(operations.items()):
            verb = method.upper()
            description = str(operation.get("description") or operation.get("summary") or "")
            first = description.strip().split("\n\n", 1)[0].replace("\n", " ").replace("|", "\\|")
            session = "no" if (verb, path) in OPEN_ROUTES else "yes"
            rows.append(f"| {verb} | `{path}` | {session} | {first} |")
    return "\n".join(rows) + "\n"


def with_table(page: str, table: str) -> str:
    """``page`` with the text between the markers replaced by ``table``."""
    head, sep, rest = page.partition(BEGIN)
    _, sep2, tail = rest.partition(END)
    if not sep or not sep2:
        raise ValueError(f"docs/api.md lacks the markers {BEGIN!r} and {END!r}")
    return f"{head}{BEGIN}\n{table}{END}{tail}"
