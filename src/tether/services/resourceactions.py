"""Resource actions' I/O: argocd-cm's Lua actions read, an action's patch and creations written.

The patch comes from ``core/app/resourceactions`` (built-in or argocd-cm's Lua); a change of
``status`` goes through the status subresource where the kind has one, as Argo CD writes it.
"""

from __future__ import annotations

from typing import Any

from tether import ports
from tether.core.app import luaactions, policy, resourceactions
from tether.model.clusters import ClusterEntry
from tether.model.errors import InvalidInputError, NotFoundError
from tether.model.project import AppProject
from tether.model.resources import GroupKind, Manifest, ResourceKey, group_of, kind_of, metadata_of

CONFIGMAP = "argocd-cm"


async def lua_config(cluster: ports.Cluster, namespace: str) -> luaactions.LuaActionsConfig:
    """argocd-cm's custom actions, read now from the control-plane ``namespace`` (core mode).

    The API reads them through its settings store instead, a second old at most.
    """
    found = await cluster.get("v1", "ConfigMap", CONFIGMAP, namespace)
    data = (found or {}).get("data") or {}
    return luaactions.LuaActionsConfig.from_config_map({str(k): str(v) for k, v in data.items()})


async def write(
    cluster: ports.Cluster,
    api_version: str,
    key: ResourceKey,
    patch: dict[str, Any],
    *,
    field_manager: str,
) -> None:
    """Write ``patch`` to the object ``key`` names, under ``field_manager``; nothing if empty.

    Raises:
        TetherError: the API server refused a write (the message names no value).
    """
    rest = dict(patch)
    status = rest.pop("status", None)
    if "status" in patch:
        try:
            await cluster.patch(
                api_version,
                key.kind,
                key.name,
                key.namespace,
                patch={"status": status},
                patch_type="merge",
                subresource="status",
                field_manager=field_manager,
            )
        except NotFoundError:
            rest = dict(patch)  # no status subresource: status is written with the object
    if rest:
        await cluster.patch(
            api_version,
            key.kind,
            key.name,
            key.namespace,
            patch=rest,
            patch_type="merge",
            field_manager=field_manager,
        )


def created_key(obj: Manifest) -> ResourceKey:
    """The key of an object an action creates (its ``generateName`` when it has no name)."""
    meta = metadata_of(obj)
    name = str(meta.get("name") or meta.get("generateName") or "")
    return ResourceKey(group_of(obj), kind_of(obj), str(meta.get("namespace") or ""), name)


def check_creates(
    outcome: resourceactions.Outcome,
    live: ports.LiveState,
    project: AppProject,
    entry: ClusterEntry,
) -> None:
    """Refuse objects the app's project may not hold, or of kinds that are not namespaced.

    Raises:
        InvalidInputError: naming the object and the reason; nothing has been written.
    """
    for obj in outcome.creates:
        key = created_key(obj)
        what = f"{key.kind} {key.namespace}/{key.name}"
        if live.is_namespaced(GroupKind(key.group, key.kind)) is not True:
            raise InvalidInputError(
                f"the action creates {what}, which is not of a namespaced kind the cluster serves"
            )
        problem = policy.resource_problem(project, key, cluster=entry)
        if problem:
            raise InvalidInputError(f"the action may not create {what}: {problem}")


async def carry_out(
    cluster: ports.Cluster,
    api_version: str,
    key: ResourceKey,
    outcome: resourceactions.Outcome,
    *,
    field_manager: str,
) -> None:
    """Write an action's outcome: its creations dry-run first, then the patch, then them.

    The dry runs make a refused creation fail the action before anything is written; the
    writes themselves are not one transaction (nor are they in Argo CD).

    Raises:
        TetherError: the API server refused a write.
    """
    for obj in outcome.creates:
        await cluster.create(obj, field_manager=field_manager, dry_run=True)
    await write(cluster, api_version, key, outcome.patch, field_manager=field_manager)
    for obj in outcome.creates:
        await cluster.create(obj, field_manager=field_manager)
