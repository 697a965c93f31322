"""Regenerate docs/openapi.json and the endpoint table of docs/api.md from the API's routes.

`uv run --frozen python hack/gen-api-docs.py`; a unit test fails when either is stale.
"""

from __future__ import annotations

import pathlib

from tether.api import apidoc, server

DOCS = pathlib.Path(__file__).resolve().parent.parent / "docs"


def main() -> None:
    """Write both documents."""
    document = server.openapi_document()
    (DOCS / "openapi.json").write_text(apidoc.openapi_json(document), encoding="utf-8")
    page = DOCS / "api.md"
    table = apidoc.endpoint_table(document)
    page.write_text(apidoc.with_table(page.read_text(encoding="utf-8"), table), encoding="utf-8")


if __name__ == "__main__":
    main()
