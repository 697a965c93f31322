r"""List the input fields of Argo CD's CRDs, for the test that every field has a row.

Writes tests/unit/core/app/data/argocd-fields.txt: a header naming where the CRDs came from, then
one ``<Kind> <path>`` per line (Application spec and operation, AppProject spec). Only the field
paths are kept, none of Argo CD's descriptions. From a clone or mirror of argoproj/argo-cd:

    git -C ARGO show HEAD:manifests/crds/application-crd.yaml > /tmp/application-crd.yaml
    git -C ARGO show HEAD:manifests/crds/appproject-crd.yaml > /tmp/appproject-crd.yaml
    uv run --frozen python hack/argocd-fields.py --commit "$(git -C ARGO rev-parse HEAD)" \\
        /tmp/application-crd.yaml /tmp/appproject-crd.yaml
"""

from __future__ import annotations

import argparse
import pathlib

import yaml

from tether.core.app import compatibility

OUT = pathlib.Path(__file__).resolve().parent.parent / "tests/unit/core/app/data/argocd-fields.txt"


def main() -> None:
    """Read the CRDs named on the command line and write the field list."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commit", required=True, help="the argoproj/argo-cd commit they are from")
    parser.add_argument("crds", nargs="+", type=pathlib.Path, help="Argo CD CRD YAML files")
    args = parser.parse_args()
    fields: list[str] = []
    for path in args.crds:
        fields.extend(compatibility.input_fields(yaml.safe_load(path.read_text(encoding="utf-8"))))
    header = (
        f"# Input fields of Argo CD's CRDs (manifests/crds/) at argoproj/argo-cd {args.commit};\n"
        "# written by hack/argocd-fields.py: field paths only.\n"
    )
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(header + "".join(f"{field}\n" for field in fields), encoding="utf-8")


if __name__ == "__main__":
    main()
