"""Kubeflow distribution fixtures: the corpus as a user's fork, with the distribution added."""

from __future__ import annotations

import pathlib
import shutil

from tether.core.sources import distribution

PROJECT = pathlib.Path(__file__).resolve().parents[3]
DISTRIBUTION = PROJECT / "distributions" / "kubeflow"
CORPUS = PROJECT.parent / "shared" / "corpus"
KUBEFLOW = CORPUS / "kubeflow-manifests"
GOLDEN = CORPUS / "kubeflow-manifests.golden.json"
FORK_URL = "https://git.example/acme/kubeflow.git"
POINTING = distribution.Pointing(FORK_URL, "main", FORK_URL, "main")


def make_fork(where: pathlib.Path) -> pathlib.Path:
    """A copy of kubeflow/manifests @ 009c8808 with ``distributions/kubeflow`` in it."""
    fork = where / "fork"
    shutil.copytree(KUBEFLOW, fork, symlinks=True)
    shutil.copytree(DISTRIBUTION, fork / "distributions" / "kubeflow")
    return fork
