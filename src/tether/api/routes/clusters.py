"""Argo CD's ClusterService: the destination clusters (cluster Secrets plus the built-in one).

The Secrets are those ``tether cluster add`` writes and the controller connects with. Responses
carry no credential (``view``). RBAC is ``clusters, <action>, <server>`` or ``<project>/<server>``
for a project's cluster, checked on the cluster as it was and as it will be (CVE-2023-23947); a
cluster the caller may not see looks exactly like a missing one (CVE-2024-36106).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request

from tether.api import errors
from tether.api.context import AUTHENTICATED, FIELD_MANAGER, caller_of, context_of
from tether.api.pathparams import url_param
from tether.core import redact
from tether.model.errors import TetherError
from tether.services import clusters
from tether.services.clusters import StoredCluster

router = APIRouter(dependencies=AUTHENTICATED)

RESOURCE = "clusters"
PREFIX = "/api/v1/clusters/"

UPDATABLE = ("name", "namespaces", "project", "config", "clusterResources", "labels", "annotations")
"""The fields ``updatedFields`` may name (Argo CD's), each copied whole from the body."""

READ_ONLY = frozenset({"connectionState", "serverVersion", "info", "refreshRequestedAt"})
"""What a GET may show and a client may send back; the server's to set, never the caller's."""


def rbac_object(server: str, project: str) -> str:
    """``<project>/<server>`` for a project's cluster, else ``<server>``; never the name."""
    return f"{project}/{server}" if project else server


def view(cluster: StoredCluster) -> dict[str, Any]:
    """The cluster as a caller sees it: TLS trust mode only, no token, password, key or plugin."""
    entry = cluster.entry
    credentials = entry.credentials
    out: dict[str, Any] = {
        "server": entry.server,
        "name": entry.name,
        "config": {"tlsClientConfig": {"insecure": bool(credentials and credentials.insecure)}},
    }
    if entry.namespaces:
        out["namespaces"] = list(entry.namespaces)
        out["clusterResources"] = entry.cluster_resources
    if cluster.project:
        out["project"] = cluster.project
    if cluster.labels:
        out["labels"] = cluster.labels
    if cluster.annotations:
        out["annotations"] = cluster.annotations
    return out


def fields_of(body: Mapping[str, Any]) -> dict[str, str]:
    """The Secret fields a Cluster body asks for; a field tether does not honour is refused."""
    unknown = sorted(set(body) - {"server", *UPDATABLE} - READ_ONLY)
    for field in unknown:
        if body[field] not in (None, "", False, 0, [], {}):
            raise errors.invalid(f"cluster field {field} is not supported by tether")
    server, name = body.get("server"), body.get("name", "")
    if not isinstance(server, str) or not server.strip():
        raise errors.invalid("cluster field server is required")
    namespaces = body.get("namespaces") or []
    config = body.get("config") or {}
    if not isinstance(name, str) or not isinstance(body.get("project", ""), str):
        raise errors.invalid("cluster fields name and project must be strings")
    if not isinstance(namespaces, list) or not all(isinstance(n, str) for n in namespaces):
        raise errors.invalid("cluster field namespaces must be a list of strings")
    if not isinstance(config, dict):
        raise errors.invalid("cluster field config must be an object")
    return {
        "server": server.strip().rstrip("/"),
        "name": name,
        "project": str(body.get("project") or ""),
        "namespaces": ",".join(namespaces),
        "clusterResources": "true" if body.get("clusterResources") is True else "",
        "config": json.dumps(config) if config else "",
    }


def _metadata_of(body: Mapping[str, Any], field: str) -> dict[str, str]:
    value = body.get(field) or {}
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise errors.invalid(f"cluster field {field} must map names to strings")
    return dict(value)


async def _allowed(request: Request, action: str, cluster_server: str, project: str) -> bool:
    caller = await caller_of(request)
    obj = rbac_object(cluster_server, project)
    return await context_of(request).authority.allowed(caller, RESOURCE, action, obj)


async def _stored(request: Request) -> list[StoredCluster]:
    ctx = context_of(request)
    return await clusters.stored(ctx.runtime.cluster, ctx.namespace)


async def _visible(request: Request, action: str, id_type: str) -> StoredCluster:
    """The cluster the path names (by server URL or name), if the caller may ``action`` it."""
    value = url_param(request, PREFIX)
    known = await _stored(request)
    if id_type == "name":
        found = [c for c in known if c.entry.name == value]
    elif id_type in ("", "server"):
        found = [c for c in known if c.entry.server == value.rstrip("/")]
    else:
        raise errors.invalid("id.type must be server or name")
    # Only the caller's own clusters count: two of the same name, one hidden, must not show.
    visible = [c for c in found if await _allowed(request, action, c.entry.server, c.project)]
    if len(visible) != 1:
        raise errors.denied()
    return visible[0]


@router.get("/api/v1/clusters")
async def list_clusters(
    request: Request, server: str | None = None, name: str | None = None
) -> dict[str, Any]:
    """The clusters the caller may see, filtered by server URL or name."""
    items = []
    for cluster in await _stored(request):
        if server and cluster.entry.server != server.rstrip("/"):
            continue
        if name and cluster.entry.name != name:
            continue
        if await _allowed(request, "get", cluster.entry.server, cluster.project):
            items.append(view(cluster))
    return {"metadata": {}, "items": items}


@router.get(PREFIX + "{cluster_id:path}")
async def get_cluster(
    request: Request, cluster_id: str, id_type: str = Query("server", alias="id.type")
) -> dict[str, Any]:
    """One cluster, without credentials."""
    del cluster_id  # read from the raw path, escaped slashes intact
    return view(await _visible(request, "get", id_type))


@router.post("/api/v1/clusters")
async def create_cluster(
    request: Request, body: Annotated[dict[str, Any], Body()], upsert: bool = False
) -> dict[str, Any]:
    """Add a cluster Secret; an existing cluster with other content only with ``upsert``."""
    fields = fields_of(body)
    if not await _allowed(request, "create", fields["server"], fields["project"]):
        raise errors.denied()
    existing = next((c for c in await _stored(request) if c.entry.server == fields["server"]), None)
    if existing is not None and existing.secret is not None:
        if _same(existing, fields, body):
            return view(existing)
        if not upsert:
            raise errors.invalid(
                "existing cluster spec is different; use upsert flag to force update"
            )
        if not await _allowed(request, "update", existing.entry.server, existing.project):
            raise errors.denied()
    return view(await _write(request, fields, body, existing))


@router.put(PREFIX + "{cluster_id:path}")
async def update_cluster(
    request: Request,
    cluster_id: str,
    body: Annotated[dict[str, Any], Body()],
    id_type: str = Query("server", alias="id.type"),
    updated_fields: Annotated[list[str] | None, Query(alias="updatedFields")] = None,
) -> dict[str, Any]:
    """Change a cluster (only ``updatedFields`` when given); RBAC on it before and after."""
    del cluster_id
    current = await _visible(request, "update", id_type)
    wanted = fields_of({"server": current.entry.server, **body})
    if wanted["server"] != current.entry.server:
        raise errors.invalid("a cluster's server cannot change; add it again under the new URL")
    if updated_fields:
        unknown = sorted(set(updated_fields) - set(UPDATABLE))
        if unknown:
            raise errors.invalid(f"updatedFields: {unknown[0]!r} cannot be updated")
        merged = {**dict(current.fields), "server": current.entry.server}
        merged.update({field: wanted[field] for field in updated_fields if field in wanted})
        kept = {
            f: getattr(current, f) for f in ("labels", "annotations") if f not in updated_fields
        }
        body = {**body, **kept}
        wanted = merged
    if not await _allowed(request, "update", wanted["server"], wanted.get("project", "")):
        raise errors.denied()
    return view(await _write(request, wanted, body, current))


@router.delete(PREFIX + "{cluster_id:path}")
async def delete_cluster(
    request: Request, cluster_id: str, id_type: str = Query("server", alias="id.type")
) -> dict[str, Any]:
    """Remove a cluster's Secret; the built-in cluster has none to remove."""
    del cluster_id
    found = await _visible(request, "delete", id_type)
    if found.secret is None:
        raise errors.invalid("the cluster tether runs in has no Secret to remove")
    secret_ns, _, secret_name = found.entry.secret.partition("/")
    try:
        await context_of(request).runtime.cluster.delete(
            "v1", "Secret", secret_name, secret_ns, propagation="Background"
        )
    except TetherError as err:
        raise _write_error(request, err, {}) from None
    return {}


def _same(existing: StoredCluster, fields: Mapping[str, str], body: Mapping[str, Any]) -> bool:
    stored = {k: v for k, v in existing.fields.items() if v}
    asked = {k: v for k, v in fields.items() if v}
    if "config" in stored and "config" in asked:
        stored["config"], asked["config"] = (
            json.loads(stored["config"]),
            json.loads(asked["config"]),
        )
    return (
        stored == asked
        and existing.labels == _metadata_of(body, "labels")
        and existing.annotations == _metadata_of(body, "annotations")
    )


async def _write(
    request: Request,
    fields: Mapping[str, str],
    body: Mapping[str, Any],
    existing: StoredCluster | None,
) -> StoredCluster:
    ctx = context_of(request)
    try:
        secret = clusters.secret_from(
            fields,
            ctx.namespace,
            labels=_metadata_of(body, "labels"),
            annotations=_metadata_of(body, "annotations"),
            exec_commands=ctx.runtime.settings.cluster_exec_commands,
        )
        return await clusters.write(
            ctx.runtime.cluster, secret, existing, field_manager=FIELD_MANAGER
        )
    except TetherError as err:
        raise _write_error(request, err, fields) from None


def _write_error(request: Request, err: TetherError, fields: Mapping[str, str]) -> errors.ApiError:
    """The API error for a failed write: never a credential, the request's own included."""
    held = set(context_of(request).runtime.destinations.secret_values())
    config = fields.get("config")
    if config:
        held.update(_strings(json.loads(config)))
    return errors.of_failed_write(err, redact.text(str(err), held))


def _strings(value: Any) -> list[str]:
    """Every string inside a config: any of them may be a credential."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []
