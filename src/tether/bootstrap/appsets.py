"""The ApplicationSet controller wired: Git, the Go template worker, cluster Secrets, the use case.

Git is the controller's own mirror cache when it renders in-process, otherwise one of its own
under the cache directory (a repo-server's mirrors are not reachable from here).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tether import ports
from tether.adapters import goevaluator
from tether.adapters.devcluster import tools
from tether.bootstrap import Runtime
from tether.bootstrap.rendering import git_repos
from tether.model import secretdata
from tether.model.errors import InvalidInputError
from tether.services.appsetgen import Generator
from tether.services.appsets import AppSets

GOEVAL = "tether-goeval"
CLUSTER_FIELDS = ("name", "server", "project")
"""What a generator reads of a cluster Secret; credentials never reach parameters."""


class Wired:
    """The set controller's service and what it holds open."""

    def __init__(self, rt: Runtime, *, evaluator: ports.Evaluator | None = None) -> None:
        self._rt = rt
        self.evaluator = evaluator or goevaluator.GoEvaluator(lambda: tools.path_of(GOEVAL))
        git = rt.disk.git if rt.disk is not None else git_repos(rt.settings, rt.credentials.lookup)
        generator = Generator(git, self.evaluator, self._cluster_secrets)
        self.appsets = AppSets(
            rt.cluster,
            generator,
            control_plane_namespace=rt.settings.control_plane_namespace,
            clock=rt.clock,
        )

    async def _cluster_secrets(self) -> Sequence[Mapping[str, Any]]:
        namespace = self._rt.settings.control_plane_namespace
        found, _ = await self._rt.cluster.list("v1", "Secret", namespace)
        out: list[Mapping[str, Any]] = []
        for secret in found:
            if secretdata.secret_type(secret) != "cluster":
                continue
            try:
                fields = secretdata.fields_of(secret, "cluster")
            except InvalidInputError:
                continue  # an undecodable Secret is no cluster (the destinations say why)
            meta = secret.get("metadata") or {}
            out.append(
                {
                    "metadata": {
                        "name": meta.get("name"),
                        "labels": meta.get("labels") or {},
                        "annotations": meta.get("annotations") or {},
                    },
                    "stringData": {k: fields[k] for k in CLUSTER_FIELDS if k in fields},
                }
            )
        return out

    async def aclose(self) -> None:
        """Stop the template worker."""
        await self.evaluator.aclose()
