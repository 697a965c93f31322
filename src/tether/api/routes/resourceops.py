"""One object of an Application, through the API: read it, patch it, delete it, run an action.

Only nodes of the app's tree that have a UID, of kinds and namespaces its project permits, may be
touched (CVE-2022-24768, CVE-2022-1025): a caller cannot name any other object of the cluster.
RBAC follows Argo CD v3, where plain ``update``/``delete`` on an app do not cover its objects:
``update/<group>/<kind>/<ns>/<name>``, ``delete/...`` and ``action/<group>/<kind>/<action>``.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from tether.api import errors, resourceview
from tether.api.appscope import AppScope, from_cluster, scope_of
from tether.api.auth import services_of
from tether.api.context import AUTHENTICATED, FIELD_MANAGER, context_of
from tether.core.app import luaactions, policy, resourceactions
from tether.core.auth import accounts
from tether.model.errors import InvalidInputError, TetherError
from tether.model.resources import ResourceKey, metadata_of
from tether.services import resourceactions as actionwrites
from tether.services.apptree import TreeEntry

router = APIRouter(dependencies=AUTHENTICATED)

RESOURCE = "/api/v1/applications/{name}/resource"

PATCH_TYPES: dict[str, Literal["merge", "json", "strategic"]] = {
    # Kubernetes' patch media types, which Argo CD's patchType carries as they are.
    "application/merge-patch+json": "merge",
    "application/json-patch+json": "json",
    "application/strategic-merge-patch+json": "strategic",
}

ACTIONS_DECODING = "resource-actions"
"""The name of argocd-cm's actions, as the settings store caches them (parsed once per read)."""


class Target:
    """The object a resource call names in its query."""

    def __init__(
        self,
        namespace: str | None = Query(None),
        resource_name: str | None = Query(None, alias="resourceName"),
        version: str | None = Query(None),
        group: str | None = Query(None),
        kind: str | None = Query(None),
        app_namespace: str | None = Query(None, alias="appNamespace"),
        project: str | None = Query(None),
    ) -> None:
        if not kind or not resource_name:
            raise errors.invalid("kind and resourceName are required")
        self.key = ResourceKey(group or "", kind, namespace or "", resource_name)
        self.version = version or ""
        self.app_namespace = app_namespace
        self.project = project


async def _node(
    request: Request, name: str, target: Target, action: str
) -> tuple[AppScope, TreeEntry]:
    """The app (checked for ``action``) and the tree node ``target`` names; 400 if not a node."""
    scope = await scope_of(
        request, name, action, project=target.project, namespace=target.app_namespace
    )
    node = scope.tree(context_of(request).namespace).find(target.key)
    key = target.key
    if (
        node is None
        or not node.uid
        or policy.resource_problem(scope.project, key, cluster=scope.destination.entry)
    ):
        raise errors.invalid(
            f"{key.kind} {key.group} {key.name} not found as part of application {name}"
        )
    return scope, node


def _api_version(target: Target, node: TreeEntry) -> str:
    if target.version:
        return f"{target.key.group}/{target.version}" if target.key.group else target.version
    return str(node.obj.get("apiVersion", ""))


async def _live(
    request: Request, scope: AppScope, target: Target, node: TreeEntry
) -> dict[str, Any]:
    """The object as the cluster has it now, if it is still the node's (same UID)."""
    key = target.key
    try:
        obj = await scope.destination.cluster.get(
            _api_version(target, node), key.kind, key.name, key.namespace
        )
    except TetherError as err:
        raise from_cluster(request, err, key, "get") from None
    if obj is None or str(metadata_of(obj).get("uid", "")) != node.uid:
        raise errors.not_found(f"{key.kind} {key.namespace}/{key.name} not found")
    return obj


@router.get(RESOURCE)
async def get_resource(
    request: Request, name: str, target: Annotated[Target, Depends()]
) -> dict[str, str]:
    """The live object, Secret values masked."""
    scope, node = await _node(request, name, target, "get")
    obj = await _live(request, scope, target, node)
    return {"manifest": resourceview.json_string(resourceview.masked(obj))}


@router.post(RESOURCE)
async def patch_resource(
    request: Request,
    name: str,
    target: Annotated[Target, Depends()],
    patch_type: str = Query("", alias="patchType"),
) -> dict[str, str]:
    """Patch the object; the body is the patch as a JSON string, as Argo CD takes it."""
    key = target.key
    action = f"update/{key.group}/{key.kind}/{key.namespace}/{key.name}"
    scope, node = await _node(request, name, target, action)
    kind = PATCH_TYPES.get(patch_type)
    if kind is None:
        raise errors.invalid(f"unsupported patch type {patch_type[:80]!r}")
    patch = _patch_body(await request.body(), kind)
    try:
        patched = await scope.destination.cluster.patch(
            _api_version(target, node),
            key.kind,
            key.name,
            key.namespace,
            patch=patch,
            patch_type=kind,
            field_manager=FIELD_MANAGER,
        )
    except TetherError as err:
        raise from_cluster(request, err, key, "patch") from None
    return {"manifest": resourceview.json_string(resourceview.masked(patched))}


def _patch_body(body: bytes, kind: str) -> dict[str, Any] | list[dict[str, Any]]:
    """The patch from the body: a JSON string holding a JSON object (or a list of operations).

    The message never quotes the body: it may be a Secret's new value.
    """
    try:
        text = json.loads(body)
        patch = json.loads(text) if isinstance(text, str) else None
    except ValueError:
        patch = None
    if kind == "json":
        if isinstance(patch, list) and all(isinstance(op, dict) for op in patch):
            return patch
        raise errors.invalid("the patch must be a JSON string holding a list of operations")
    if isinstance(patch, dict):
        return patch
    raise errors.invalid("the patch must be a JSON string holding a JSON object")


@router.delete(RESOURCE)
async def delete_resource(
    request: Request,
    name: str,
    target: Annotated[Target, Depends()],
    force: bool = False,
    orphan: bool = False,
) -> dict[str, Any]:
    """Delete the object: foreground; ``orphan`` leaves its dependents; ``force`` does not wait."""
    key = target.key
    action = f"delete/{key.group}/{key.kind}/{key.namespace}/{key.name}"
    scope, node = await _node(request, name, target, action)
    propagation = "Orphan" if orphan else "Background" if force else "Foreground"
    try:
        await scope.destination.cluster.delete(
            _api_version(target, node),
            key.kind,
            key.name,
            key.namespace,
            propagation=propagation,
            grace_period_s=0 if force else None,
        )
    except TetherError as err:
        raise from_cluster(request, err, key, "delete") from None
    return {}


@router.get(RESOURCE + "/actions")
async def list_actions(
    request: Request, name: str, target: Annotated[Target, Depends()]
) -> dict[str, Any]:
    """The actions the object offers (argocd-cm's Lua ones, then built-in), each enabled or not."""
    scope, node = await _node(request, name, target, "get")
    obj = await _live(request, scope, target, node)
    sources = await _action_sources(request)
    try:
        offered = resourceactions.offered(obj, sources)
    except InvalidInputError as err:
        raise errors.invalid(str(err)) from None
    return {
        "actions": [
            {
                "name": action.name,
                "disabled": action.disabled,
                "iconClass": action.icon_class,
                "displayName": action.display_name or action.name,
                "params": [],
            }
            for action in offered
        ]
    }


async def _action_sources(request: Request) -> tuple[resourceactions.ActionSource, ...]:
    """argocd-cm's custom actions (as the settings store last read them), then the built-ins."""
    try:
        config = await services_of(request).store.configmap_decoded(
            accounts.CONFIGMAP, ACTIONS_DECODING, luaactions.LuaActionsConfig.from_config_map
        )
    except TetherError:
        # Without argocd-cm's word, a built-in could run where an override was meant to.
        raise errors.ApiError(
            errors.Code.UNAVAILABLE, f"{accounts.CONFIGMAP} cannot be read for resource actions"
        ) from None
    return luaactions.sources(config, context_of(request).runtime.clock())


class Parameter(BaseModel):
    """One ``resourceActionParameters`` entry."""

    model_config = ConfigDict(extra="ignore")
    name: str = ""
    value: str = ""


class RunAction(BaseModel):
    """The body of ``POST .../resource/actions/v2``."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    namespace: str = ""
    resource_name: str = Field(alias="resourceName")
    version: str = ""
    group: str = ""
    kind: str
    action: str
    app_namespace: str | None = Field(None, alias="appNamespace")
    project: str | None = None
    resource_action_parameters: list[Parameter] = Field([], alias="resourceActionParameters")


@router.post(RESOURCE + "/actions/v2")
async def run_action(request: Request, name: str, body: RunAction) -> dict[str, Any]:
    """Run one action: RBAC ``action/<group>/<kind>/<action>``, then its patch."""
    if body.resource_action_parameters:
        # No action tether runs takes parameters; accepting them would pretend they were used.
        raise errors.invalid(f"action {body.action!r} takes no parameters")
    target = Target(
        namespace=body.namespace,
        resource_name=body.resource_name,
        version=body.version,
        group=body.group,
        kind=body.kind,
        app_namespace=body.app_namespace,
        project=body.project,
    )
    return await _run(request, name, target, body.action)


@router.post(RESOURCE + "/actions")
async def run_action_v1(
    request: Request, name: str, target: Annotated[Target, Depends()]
) -> dict[str, Any]:
    """Run one action, in Argo CD's first form: the target in the query, the name as the body.

    The body is the action's name as a JSON string.
    """
    try:
        action = json.loads(await request.body())
    except ValueError:
        action = None
    if not isinstance(action, str) or not action:
        raise errors.invalid("the body must be the action's name as a JSON string")
    return await _run(request, name, target, action)


async def _run(request: Request, name: str, target: Target, action: str) -> dict[str, Any]:
    """Check ``action/<group>/<kind>/<action>``, compute the action's patch, write it."""
    key = target.key
    scope, node = await _node(request, name, target, f"action/{key.group}/{key.kind}/{action}")
    obj = await _live(request, scope, target, node)
    sources = await _action_sources(request)
    try:
        outcome = resourceactions.run_for(obj, action, context_of(request).runtime.clock(), sources)
        if outcome is not None:
            actionwrites.check_creates(
                outcome, scope.destination.live, scope.project, scope.destination.entry
            )
    except InvalidInputError as err:
        raise errors.invalid(str(err)) from None
    if outcome is None:
        raise errors.invalid(f"action {action!r} is not available for {key.kind} {key.name}")
    try:
        await actionwrites.carry_out(
            scope.destination.cluster,
            _api_version(target, node),
            key,
            outcome,
            field_manager=FIELD_MANAGER,
        )
    except TetherError as err:
        raise from_cluster(request, err, key, f"run {action} on") from None
    return {}
