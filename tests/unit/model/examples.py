"""Realistic Argo CD manifests used by the model, policy and CRD tests."""

from __future__ import annotations

import pathlib
from typing import Any

import yaml

DATA = pathlib.Path(__file__).parent / "data"

APPLICATION_FILES = [
    "guestbook-with-status.yaml",
    "kubeflow-pipelines.yaml",
    "multi-source-helm.yaml",
    "plugin-jsonnet-operation.yaml",
    "future-fields.yaml",
]
PROJECT_FILES = ["project-tenant.yaml"]


def load(name: str) -> dict[str, Any]:
    """One example manifest, decoded."""
    loaded = yaml.safe_load((DATA / name).read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def minimal_application(**spec: Any) -> dict[str, Any]:
    """The smallest valid Application, with ``spec`` entries overridden."""
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "foo", "namespace": "tether"},
        "spec": {
            "project": "default",
            "source": {"repoURL": "https://git.example.com/foo.git", "path": "deploy"},
            "destination": {"server": "https://kubernetes.default.svc", "namespace": "foo"},
            **spec,
        },
    }
