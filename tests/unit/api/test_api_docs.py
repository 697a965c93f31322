"""docs/openapi.json and docs/api.md describe every endpoint the API server serves."""

from __future__ import annotations

import pathlib

from tether.api import apidoc, server

DOCS = pathlib.Path(__file__).resolve().parents[3] / "docs"


def test_the_committed_openapi_document_is_the_servers() -> None:
    committed = (DOCS / "openapi.json").read_text(encoding="utf-8")
    assert committed == apidoc.openapi_json(server.openapi_document()), (
        "docs/openapi.json is stale: run hack/gen-api-docs.py"
    )


def test_the_endpoint_table_of_api_md_lists_every_route() -> None:
    page = (DOCS / "api.md").read_text(encoding="utf-8")
    table = apidoc.endpoint_table(server.openapi_document())
    assert apidoc.with_table(page, table) == page, "docs/api.md is stale: run hack/gen-api-docs.py"
