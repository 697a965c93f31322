"""The ApplicationSet controller wired: Git, the Go template worker, cluster Secrets, the use case.

Git is the controller's own mirror cache when it renders in-process. With a repo-server the
controller holds the cluster and no Git at all (that is the split's point): the git generator
then fails with a condition saying why, and the set changes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tether import ports
from tether.bootstrap import Runtime
from tether.bootstrap.notifications import go_evaluator
from tether.model import secretdata
from tether.model.errors import GitError, InvalidInputError
from tether.model.revisions import RevisionMetadata
from tether.services.appsetgen import Generator
from tether.services.appsets import AppSets

CLUSTER_FIELDS = ("name", "server", "project")
"""What a generator reads of a cluster Secret; credentials never reach parameters."""


class Wired:
    """The set controller's service and what it holds open."""

    def __init__(self, rt: Runtime, *, evaluator: ports.Evaluator | None = None) -> None:
        self._rt = rt
        self.evaluator = evaluator or go_evaluator()
        git: ports.GitRepos = rt.disk.git if rt.disk is not None else _NoGitBesideRepoServer()
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


class _NoGitBesideRepoServer:
    """``ports.GitRepos`` for a controller that renders through a repo-server: it has no Git."""

    REASON = (
        "the git generator is not available when the controller renders through a repo-server "
        "(--repo-server): the controller holds no Git access there"
    )

    async def resolve(
        self, repo_url: str, revision: str, *, refresh: bool = False, project: str = ""
    ) -> str:
        del repo_url, revision, refresh, project
        raise GitError(self.REASON)

    async def checkout(self, repo_url: str, sha: str, *, project: str = "") -> str:
        del repo_url, sha, project
        raise GitError(self.REASON)

    async def changed_paths(
        self, repo_url: str, old_sha: str, new_sha: str, *, project: str = ""
    ) -> list[str]:
        del repo_url, old_sha, new_sha, project
        raise GitError(self.REASON)

    async def commit(self, repo_url: str, sha: str, *, project: str = "") -> RevisionMetadata:
        del repo_url, sha, project
        raise GitError(self.REASON)
