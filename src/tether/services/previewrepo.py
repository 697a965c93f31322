"""``tether preview``'s reach into the local repository: commits, checkouts, and renders at one.

Every repoURL maps to the one local repository (``LocalRepo``); a checkout is read as a
``reads.Tree`` (``DirectoryTree``, answers kept: a checkout never changes); ``PinnedSource``
renders every app at one commit, for a comparison with a cluster.
"""

from __future__ import annotations

import os
import pathlib
from collections.abc import Awaitable, Callable, Sequence

import cachetools

from tether import ports
from tether.core.preview import reads
from tether.core.sources.rendering import BuildOptions
from tether.model.application import Application
from tether.model.errors import GitError
from tether.model.revisions import RevisionMetadata
from tether.services.manifests import ManifestService, RenderResult

MAX_MANIFEST_BYTES = 4 << 20
"""Larger files are not read as text (no kustomization, jsonnet file or Application manifest is
this big; a generated bundle may be, and is only looked at for Applications, as bytes)."""

TREE_FILES_KEPT = 8192
"""File texts kept per checkout while a preview runs: a few distributions' worth of
kustomizations, which every app including a base asks for again."""


class LocalRepo:
    """A ``ports.GitRepos`` reading every repoURL from one repository, through ``git``."""

    def __init__(
        self,
        git: ports.GitRepos,
        url: str,
        commit_named: Callable[[str], Awaitable[str | None]] | None = None,
    ) -> None:
        """``commit_named``: what a name means in the checkout itself (``HEAD~1``, a short SHA)."""
        self._git = git
        self.url = url
        self._commit_named = commit_named

    async def resolve(
        self, repo_url: str, revision: str, *, refresh: bool = False, project: str = ""
    ) -> str:
        """A commit of the local repository (a remote-tracking name such as ``origin/main`` too)."""
        del repo_url, project
        named = await self._commit_named(revision) if self._commit_named else None
        if named is not None:  # the checkout's own answer: a full SHA the mirror fetches
            return await self._git.resolve(self.url, named, refresh=refresh)
        try:
            return await self._git.resolve(self.url, revision, refresh=refresh)
        except GitError as err:
            if revision.startswith("refs/") or "/" not in revision:
                raise
            try:
                return await self._git.resolve(
                    self.url, f"refs/remotes/{revision}", refresh=refresh
                )
            except GitError:
                raise err from None

    async def checkout(self, repo_url: str, sha: str, *, project: str = "") -> str:
        """The tree of ``sha`` of the local repository, whatever ``repo_url`` names."""
        del repo_url, project
        return await self._git.checkout(self.url, sha)

    async def changed_paths(
        self, repo_url: str, old_sha: str, new_sha: str, *, project: str = ""
    ) -> list[str]:
        """Paths touched between two commits of the local repository."""
        del repo_url, project
        return await self._git.changed_paths(self.url, old_sha, new_sha)

    async def commit(self, repo_url: str, sha: str, *, project: str = "") -> RevisionMetadata:
        """Commit ``sha`` of the local repository."""
        del repo_url, project
        return await self._git.commit(self.url, sha)


class PinnedSource:
    """A ``ports.ManifestSource`` rendering every app at one commit of the local repository.

    What a comparison with a cluster renders in ``tether preview --cluster`` (the head commit).
    """

    def __init__(self, service: ManifestService, sha: str) -> None:
        self._service = service
        self._sha = sha

    async def render_application(
        self,
        app: Application,
        *,
        refresh: bool = False,
        hard_refresh: bool = False,
        revisions: Sequence[str] | None = None,
        kube_version: str = "",
        api_versions: Sequence[str] = (),
        options: BuildOptions | None = None,
    ) -> RenderResult:
        """The app at the pinned commit, whatever revisions the caller resolved."""
        del refresh, revisions
        return await self._service.render_application(
            app,
            hard_refresh=hard_refresh,
            revisions=source_revisions(app, self._sha),
            kube_version=kube_version,
            api_versions=api_versions,
            options=options,
        )

    async def revision_metadata(
        self, app: Application, revision: str, *, source_index: int = 0
    ) -> RevisionMetadata:
        """The commit ``revision`` of the local repository."""
        return await self._service.revision_metadata(app, revision, source_index=source_index)


class DirectoryTree:
    """A ``reads.Tree`` over a checkout; nothing outside it is read (a symlink out is absent)."""

    def __init__(self, root: str) -> None:
        self._root = pathlib.Path(root).resolve()
        # A checkout is read-only: every answer holds for the tree's life. Each app of a
        # distribution asks again about the bases they share.
        self._texts: cachetools.LRUCache[str, str | None] = cachetools.LRUCache(TREE_FILES_KEPT)
        self._dirs: dict[str, bool] = {}
        self._names: dict[str, list[str]] = {}
        self._mentions: dict[str, bool] = {}

    def _path(self, path: str) -> pathlib.Path | None:
        full = (self._root / path).resolve()
        return full if full == self._root or full.is_relative_to(self._root) else None

    def read(self, path: str) -> str | None:
        """The text of a file, ``None`` when absent, a folder, outside, or not text."""
        if path not in self._texts:
            self._texts[path] = self._read(path)
        return self._texts[path]

    def is_dir(self, path: str) -> bool:
        """Whether ``path`` is a folder inside the checkout."""
        if path not in self._dirs:
            self._dirs[path] = self._is_dir(path)
        return self._dirs[path]

    def names(self, path: str) -> list[str]:
        """The entries of a folder, sorted (none for anything else)."""
        if path not in self._names:
            self._names[path] = self._list(path)
        return self._names[path]

    def mentions_application(self, path: str) -> bool:
        """Whether a file may hold an Argo CD Application; its bytes are looked at, not kept."""
        if path not in self._mentions:
            full = self._path(path)
            try:
                data = full.read_bytes() if full is not None and full.is_file() else b""
            except OSError:
                data = b""
            # Most files never name the group: skip decoding them.
            self._mentions[path] = reads.ARGO_GROUP.encode() in data and reads.mentions_application(
                data.decode(errors="replace")
            )
        return self._mentions[path]

    def _read(self, path: str) -> str | None:
        full = self._path(path)
        try:
            if full is None or not full.is_file() or full.stat().st_size > MAX_MANIFEST_BYTES:
                return None
            return full.read_text(errors="replace")
        except OSError:
            return None

    def _is_dir(self, path: str) -> bool:
        full = self._path(path)
        return full is not None and full.is_dir()

    def _list(self, path: str) -> list[str]:
        full = self._path(path)
        try:
            return sorted(os.listdir(full)) if full is not None and full.is_dir() else []
        except OSError:
            return []


def source_revisions(app: Application, sha: str) -> list[str]:
    """Each source's revision: ``sha`` for Git, the chart version for a Helm repository's chart."""
    sources = app.spec.sources or ([app.spec.source] if app.spec.source else [])
    return [s.target_revision or "" if s.is_helm_chart else sha for s in sources]
