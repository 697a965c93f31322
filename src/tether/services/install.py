"""Installing tether's own API into a cluster, and checking that what is installed will serve.

The Application, AppProject and ApplicationSet CRDs (from ``tether.core.app.crds``), the
control-plane namespace and Argo CD's ``default`` project.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from tether import ports
from tether.core.app import crds
from tether.model.project import default_project

ESTABLISHED_TIMEOUT_S = 30.0
"""A fresh CRD is served within a second or two; a cluster that takes longer is in trouble."""

CRD_API_VERSION = "apiextensions.k8s.io/v1"


class Installer:
    """Installs and checks tether's CRDs in one cluster."""

    def __init__(
        self,
        cluster: ports.Cluster,
        *,
        field_manager: str,
        namespace: str,
        rediscover: Callable[[], Awaitable[object]],
    ) -> None:
        """``rediscover`` makes the client learn the kinds the new CRDs serve."""
        self._cluster = cluster
        self._field_manager = field_manager
        self._namespace = namespace
        self._rediscover = rediscover

    async def install(self) -> list[str]:
        """Apply the CRDs, the control-plane namespace and the default project; what was done."""
        done = []
        for crd in crds.manifests().values():
            await self._cluster.apply(crd, field_manager=self._field_manager, force=True)
            done.append(f"customresourcedefinition/{crd['metadata']['name']}")
        await self._wait_established()
        await self._cluster.apply(
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": self._namespace}},
            field_manager=self._field_manager,
        )
        done.append(f"namespace/{self._namespace}")
        await self._rediscover()
        await self._cluster.apply(
            default_project(self._namespace), field_manager=self._field_manager
        )
        done.append(f"appproject/{self._namespace}/default")
        return done

    async def problems(self) -> list[str]:
        """Why the installed CRDs cannot serve tether (empty when they can)."""
        found = []
        for crd in crds.manifests().values():
            name = str(crd["metadata"]["name"])
            live = await self._cluster.get(CRD_API_VERSION, "CustomResourceDefinition", name)
            if live is None:
                found.append(f"CRD {name} is not installed (run `tether install-crds`)")
                continue
            found.extend(f"CRD {name}: {p}" for p in crds.check_installed(live))
        return found

    async def _wait_established(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + ESTABLISHED_TIMEOUT_S
        while loop.time() < deadline:
            if not await self.problems():
                return
            await asyncio.sleep(0.2)
