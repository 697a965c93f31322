"""Regenerate docs/compatibility.md from the field table.

`uv run --frozen python hack/gen-compatibility.py`; a unit test fails when the page is stale.
"""

from __future__ import annotations

import pathlib

from tether.core.app import compatibility_doc

OUT = pathlib.Path(__file__).resolve().parent.parent / "docs" / "compatibility.md"


def main() -> None:
    """Write the page; a unit test fails when the committed one is stale."""
    OUT.write_text(compatibility_doc.markdown(), encoding="utf-8")


if __name__ == "__main__":
    main()
