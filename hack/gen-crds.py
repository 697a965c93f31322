"""Regenerate deploy/crds/ from the models: `uv run --frozen python hack/gen-crds.py`."""

from __future__ import annotations

import pathlib

from tether.core.app import crds

OUT = pathlib.Path(__file__).resolve().parent.parent / "deploy" / "crds"


def main() -> None:
    """Write every CRD manifest; a test fails when the committed files are stale."""
    OUT.mkdir(parents=True, exist_ok=True)
    for file_name, manifest in crds.manifests().items():
        (OUT / file_name).write_text(crds.to_yaml(manifest), encoding="utf-8")


if __name__ == "__main__":
    main()
