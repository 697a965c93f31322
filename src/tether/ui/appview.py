"""What the pages show of an Application, read once from the API's JSON.

Pages and fragments take these views rather than digging into the Argo CD shape themselves, so
a field's place in the wire format is known in one module.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote


@dataclasses.dataclass(frozen=True)
class AppView:
    """One Application as a tile, a row or a page header shows it."""

    name: str
    namespace: str
    project: str
    sync: str
    health: str
    health_message: str
    revision: str
    repo: str
    path: str
    target_revision: str
    cluster: str
    destination_namespace: str
    operation_phase: str
    operation_message: str
    labels: Mapping[str, str]
    resource_version: str

    @property
    def href(self) -> str:
        """The app's page."""
        return f"/applications/{quote(self.namespace, safe='')}/{quote(self.name, safe='')}"

    @property
    def short_revision(self) -> str:
        """A commit as Git shows it short; anything else (a chart version) as it is."""
        is_sha = len(self.revision) == 40 and all(c in "0123456789abcdef" for c in self.revision)
        return self.revision[:7] if is_sha else self.revision


def _source(spec: Mapping[str, Any]) -> Mapping[str, Any]:
    source = spec.get("source")
    if isinstance(source, Mapping):
        return source
    sources = spec.get("sources") or []
    first = sources[0] if sources else None
    return first if isinstance(first, Mapping) else {}


def app_view(obj: Mapping[str, Any]) -> AppView:
    """The view of an Application as the API answers it."""
    meta = obj.get("metadata") or {}
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    source = _source(spec)
    destination = spec.get("destination") or {}
    sync = status.get("sync") or {}
    health = status.get("health") or {}
    operation = status.get("operationState") or {}
    revisions = sync.get("revisions") or []
    return AppView(
        name=str(meta.get("name") or ""),
        namespace=str(meta.get("namespace") or ""),
        project=str(spec.get("project") or "default"),
        sync=str(sync.get("status") or "Unknown"),
        health=str(health.get("status") or "Unknown"),
        health_message=str(health.get("message") or ""),
        revision=str(sync.get("revision") or (revisions[0] if revisions else "")),
        repo=str(source.get("repoURL") or ""),
        path=str(source.get("path") or source.get("chart") or ""),
        target_revision=str(source.get("targetRevision") or "HEAD"),
        cluster=str(destination.get("name") or destination.get("server") or ""),
        destination_namespace=str(destination.get("namespace") or ""),
        operation_phase=str(operation.get("phase") or ""),
        operation_message=str(operation.get("message") or ""),
        labels={str(k): str(v) for k, v in (meta.get("labels") or {}).items()},
        resource_version=str(meta.get("resourceVersion") or ""),
    )
