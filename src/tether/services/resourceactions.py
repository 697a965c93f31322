"""Resource actions' I/O: argocd-cm's Lua actions read, and an action's patch written.

The patch comes from ``core/app/resourceactions`` (built-in or argocd-cm's Lua); a change of
``status`` goes through the status subresource where the kind has one, as Argo CD writes it.
"""

from __future__ import annotations

from typing import Any

from tether import ports
from tether.core.app import luaactions
from tether.model.errors import NotFoundError
from tether.model.resources import ResourceKey

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
