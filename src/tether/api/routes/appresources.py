"""What an Application deploys, read through the API: tree, diffs, manifests and Events.

Argo CD's ApplicationService reads of resources: the resource tree, the managed resources'
diffs, the rendered manifests and the Events of the app or of one of its objects.

Every object leaves masked (``resourceview``); every call needs ``applications, get``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Path, Query, Request

from tether.api import errors, resourceview
from tether.api.appscope import scope_of, scrubbed
from tether.api.context import AUTHENTICATED, context_of
from tether.core.sources.rendered import RenderFailed
from tether.model import application
from tether.model.resources import metadata_of
from tether.services import apps

router = APIRouter(dependencies=AUTHENTICATED)

BASE = "/api/v1/applications/{name}"

CLUSTER_SCOPED_EVENTS = "default"
"""Where Kubernetes records Events about cluster-scoped objects."""

AppNamespace = Query(None, alias="appNamespace")
Project = Query(None)


@router.get(BASE + "/resource-tree")
async def resource_tree(
    request: Request,
    name: str,
    app_namespace: str | None = AppNamespace,
    project: str | None = Project,
) -> dict[str, Any]:
    """The ApplicationTree: managed objects and their live descendants, with health."""
    scope = await scope_of(request, name, "get", project=project, namespace=app_namespace)
    tree = scope.tree(context_of(request).namespace)
    known = {entry.key: entry.obj for entry in (*tree.nodes, *tree.orphans)}
    judge = context_of(request).runtime.comparer.health_of
    return {
        "nodes": [resourceview.node(entry, known, judge) for entry in tree.nodes],
        "orphanedNodes": [resourceview.node(entry, known, judge) for entry in tree.orphans],
        "hosts": [],
    }


@router.get("/api/v1/applications/{applicationName}/managed-resources")
async def managed_resources(
    request: Request,
    app_name: str = Path(alias="applicationName"),
    app_namespace: str | None = AppNamespace,
    project: str | None = Project,
    namespace: str | None = None,
    name: str | None = Query(None),
    group: str | None = None,
    kind: str | None = None,
) -> dict[str, Any]:
    """Each managed resource's target, live, normalised live and predicted state (hooks aside).

    Compared now as the controller compares (the render and dry runs come from its caches).
    """
    scope = await scope_of(request, app_name, "get", project=project, namespace=app_namespace)
    comparison = await scope.destination.comparer.compare(scope.app, scope.project)
    if not comparison.desired_known:
        raise errors.ApiError(
            errors.Code.FAILED_PRECONDITION, scrubbed(request, comparison.failure)
        )
    wanted = {"namespace": namespace, "name": name, "group": group, "kind": kind}
    items = []
    for state in comparison.resources:
        if state.status.hook or any(
            value is not None and getattr(state.key, field) != value
            for field, value in wanted.items()
        ):
            continue
        target, live = resourceview.masked_all([state.desired, state.live])
        difference = state.difference
        items.append(
            {
                "group": state.key.group,
                "kind": state.key.kind,
                "namespace": state.key.namespace,
                "name": state.key.name,
                "targetState": resourceview.json_string(target),
                "liveState": resourceview.json_string(live),
                "normalizedLiveState": resourceview.json_string(difference.normalized_live),
                "predictedLiveState": resourceview.json_string(difference.predicted_live),
                "hook": False,
                "modified": difference.modified,
                "resourceVersion": str(metadata_of(live).get("resourceVersion", ""))
                if live
                else "",
            }
        )
    return {"items": items}


@router.get("/api/v1/applications/{name}/manifests")
async def manifests(
    request: Request,
    name: str,
    app_namespace: str | None = AppNamespace,
    project: str | None = Project,
    revision: str | None = None,
    no_cache: bool = Query(False, alias="noCache"),
) -> dict[str, Any]:
    """The app's sources rendered (at ``revision`` if given), every Secret value masked."""
    scope = await scope_of(request, name, "get", project=project, namespace=app_namespace)
    app = apps.with_revision(scope.app, revision) if revision else scope.app
    served = scope.destination.live.versions()  # for the app's cluster, as the controller
    rendered = await context_of(request).runtime.manifests.render_application(
        app,
        refresh=bool(revision) or no_cache,
        hard_refresh=no_cache,
        kube_version=served.kube_version,
        api_versions=served.api_versions,
    )
    if isinstance(rendered, RenderFailed):
        code = errors.Code.INVALID_ARGUMENT if rendered.invalid_input else errors.Code.INTERNAL
        raise errors.ApiError(code, scrubbed(request, rendered.message))
    destination = app.spec.destination
    return {
        "manifests": [
            resourceview.json_string(resourceview.masked(obj)) for obj in rendered.manifests
        ],
        "namespace": destination.namespace or "",
        "server": scope.destination.entry.server,
        "revision": rendered.revisions[0] if rendered.revisions else "",
        "sourceType": (app.status.source_type if app.status else None) or "",
    }


@router.get("/api/v1/applications/{name}/events")
async def events(
    request: Request,
    name: str,
    app_namespace: str | None = AppNamespace,
    project: str | None = Project,
    resource_namespace: str | None = Query(None, alias="resourceNamespace"),
    resource_name: str | None = Query(None, alias="resourceName"),
    resource_uid: str | None = Query(None, alias="resourceUID"),
) -> dict[str, Any]:
    """Events about the Application, or about one object of its tree (by UID)."""
    scope = await scope_of(request, name, "get", project=project, namespace=app_namespace)
    if not resource_name and not resource_uid:
        cluster, where = context_of(request).runtime.cluster, scope.access.namespace
        uid = str(metadata_of(scope.access.obj).get("uid", ""))
        about = (application.KIND, scope.access.name)
    else:
        # Only objects of the app's tree: its Events name nothing else's (CVE-2022-24768).
        tree = scope.tree(context_of(request).namespace)
        node = next(
            (
                n
                for n in tree.nodes
                if n.uid
                and n.uid == (resource_uid or n.uid)
                and n.key.name == (resource_name or n.key.name)
                and n.key.namespace == (resource_namespace or n.key.namespace)
            ),
            None,
        )
        if node is None:
            raise errors.not_found(f"resource {resource_name or resource_uid} not found")
        cluster, where, uid = scope.destination.cluster, node.key.namespace, node.uid
        about = (node.key.kind, node.key.name)
    if not where:
        where = CLUSTER_SCOPED_EVENTS
    items, version = await cluster.list("v1", "Event", where)
    found = [event for event in items if _about(event, about, uid)]
    found.sort(key=lambda e: str(e.get("lastTimestamp") or e.get("eventTime") or ""))
    return {"metadata": {"resourceVersion": version}, "items": found}


def _about(event: dict[str, Any], about: tuple[str, str], uid: str) -> bool:
    involved = event.get("involvedObject") or {}
    if uid and involved.get("uid") and involved.get("uid") != uid:
        return False
    return (involved.get("kind"), involved.get("name")) == about
