"""``tether preview``: every app a change between two commits affects, rendered at both.

Every repoURL is read from one local repository, at the base or the head commit, through the Git
adapter's checkouts and the manifest service the controller renders with (so its render cache
makes identical inputs cheap). Which apps are affected is the core's ``preview.reads``; what the
change does to each is ``preview.changes``. Reads files of the two checkouts (as ``kubeflow``
reads the distribution's).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import yaml

from tether import ports
from tether.core.preview import changes, reads
from tether.core.sources import kubeyaml
from tether.model import application
from tether.model.application import Application, parse_application
from tether.model.errors import InvalidInputError, TetherError
from tether.services import previewrepo
from tether.services.manifests import ManifestService, RenderFailed, RenderResult
from tether.services.previewrepo import DirectoryTree, LocalRepo, PinnedSource

MAX_APP_DEPTH = 5
"""App-of-apps levels followed below the Application files (a loop of apps stops here)."""

MANIFEST_SUFFIXES = (".yaml", ".yml")
"""Files looked at for Application manifests, in APP_FILES folders and in the default scan."""

AppKey = tuple[str, str]
"""An Application by namespace and name."""


@dataclasses.dataclass
class _Side:
    """One commit: its tree, its Applications and their renders so far."""

    sha: str
    tree: DirectoryTree
    apps: dict[AppKey, Application] = dataclasses.field(default_factory=dict)
    renders: dict[AppKey, asyncio.Task[RenderResult]] = dataclasses.field(default_factory=dict)
    reads: dict[AppKey, reads.Reads] = dataclasses.field(default_factory=dict)
    """What each app reads from this tree, worked out once."""
    invalid: dict[AppKey, str] = dataclasses.field(default_factory=dict)
    """Application manifests that do not validate, with why (reported as failures at head)."""
    parent: dict[AppKey, AppKey] = dataclasses.field(default_factory=dict)
    """The app of apps each app was found in (apps of the files have none)."""
    failed_parents: set[AppKey] = dataclasses.field(default_factory=set)
    """Apps of apps whose render failed: what they hold is unknown at this commit."""


class Previewer:
    """Previews changes of one local repository with one manifest service."""

    def __init__(
        self,
        git: ports.GitRepos,
        renderer: ports.Renderer,
        repo_url: str,
        *,
        disk: ports.RenderCache | None = None,
        commit_named: Callable[[str], Awaitable[str | None]] | None = None,
    ) -> None:
        """``commit_named``: a name typed for base or head (``HEAD~1``) as the checkout means it."""
        self._repo = LocalRepo(git, repo_url, commit_named)
        self._service = ManifestService(self._repo, renderer, disk=disk, parallelism=2)
        self.head_apps: dict[str, Application] = {}
        """The head commit's Applications by name, once ``preview`` has run."""

    def pinned(self, sha: str) -> PinnedSource:
        """A manifest source rendering at commit ``sha`` (``Preview.head``) with this cache."""
        return PinnedSource(self._service, sha)

    async def preview(self, base: str, head: str, app_files: Sequence[str] = ()) -> changes.Preview:
        """Every app affected between ``base`` and ``head`` (refs of the local repository).

        ``app_files``: repository-relative files or folders holding Applications; every
        Application manifest of the head commit's tree when empty.
        """
        # One after the other: a bad ref then fails alone, with no fetch of the other to cancel.
        base_sha = await self._repo.resolve("", base)
        head_sha = await self._repo.resolve("", head)
        changed, base_dir, head_dir = await asyncio.gather(
            self._repo.changed_paths("", base_sha, head_sha),
            self._repo.checkout("", base_sha),
            self._repo.checkout("", head_sha),
        )
        sides = [_Side(base_sha, DirectoryTree(base_dir)), _Side(head_sha, DirectoryTree(head_dir))]
        for path in app_files:
            if not any(_exists(side.tree, path) for side in sides):
                raise InvalidInputError(f"{path}: no such file or folder at base or at head")
        files = list(app_files) or await asyncio.to_thread(_manifest_files, sides[1].tree, "")
        await asyncio.gather(*(self._discover(side, files) for side in sides))
        old, new = sides
        # An Application that no longer validates at head is a failure, not an app gone.
        broken = {k for k, message in new.invalid.items() if old.invalid.get(k) != message}
        unknown = _unknown_at_head(old, new)
        keys = sorted((set(old.apps) | set(new.apps)) - (broken - set(new.apps)) - set(unknown))
        results = [
            *await asyncio.gather(*(self._one(key, old, new, changed) for key in keys)),
            *(
                changes.failed(_name(key), f"unknown at head: {_name(parent)} did not render")
                for key, parent in unknown.items()
            ),
        ]
        invalid = [
            changes.failed(_name(key), message)
            for key, message in sorted(new.invalid.items())
            # As invalid at base: the change did not break it (a test fixture, a draft).
            if key not in new.apps and old.invalid.get(key) != message
        ]
        self.head_apps = {_name(key): app for key, app in new.apps.items()}
        apps = sorted((*results, *invalid), key=lambda a: a.app)
        return changes.Preview(base_sha, head_sha, len(changed), tuple(apps))

    async def _discover(self, side: _Side, files: Sequence[str]) -> None:
        """The side's Applications: the files', then what apps of apps render, level by level."""
        level: list[tuple[Application, str, AppKey | None]] = []
        for path in files:
            manifests = await asyncio.to_thread(_manifest_files, side.tree, path)
            for manifest in manifests:
                text = side.tree.read(manifest) or ""
                found = _applications(text, manifest, side.invalid)
                level.extend((app, "", None) for app in found)
        for depth in range(MAX_APP_DEPTH + 1):
            parents = []
            for app, default_namespace, parent in level:
                key = (app.namespace or default_namespace, app.name)
                if key in side.apps:
                    continue
                side.apps[key] = app
                if parent is not None:
                    side.parent[key] = parent
                source_reads = await asyncio.to_thread(_reads, side, key, app)
                if depth < MAX_APP_DEPTH and await asyncio.to_thread(
                    reads.may_hold_applications, source_reads, side.tree
                ):
                    parents.append((key, app))
            level = []
            results = await asyncio.gather(*(self._render(side, key, app) for key, app in parents))
            for (key, app), result in zip(parents, results, strict=True):
                if isinstance(result, RenderFailed):
                    side.failed_parents.add(key)  # reported when the app itself is compared
                    continue
                namespace = app.spec.destination.namespace or ""
                found = _children(result.manifests, f"{_name(key)}'s render", side.invalid)
                level.extend((child, namespace, key) for child in found)
            if not level:
                return

    def _render(self, side: _Side, key: AppKey, app: Application) -> asyncio.Task[RenderResult]:
        task = side.renders.get(key)
        if task is None:
            task = side.renders[key] = asyncio.ensure_future(
                self._service.render_application(
                    app, revisions=previewrepo.source_revisions(app, side.sha)
                )
            )
        return task

    async def _one(
        self, key: AppKey, old: _Side, new: _Side, changed: Sequence[str]
    ) -> changes.AppPreview:
        name = _name(key)
        before, after = old.apps.get(key), new.apps.get(key)
        if not await asyncio.to_thread(_affected, key, old, new, changed):
            return changes.skipped(name)
        notes: list[str] = []
        base_objects: Sequence[Mapping[str, Any]] = ()
        head_objects: Sequence[Mapping[str, Any]] = ()
        if before is None:
            notes.append("the Application is new at head")
        if after is None:
            notes.append("the Application is gone at head")
        renders = await asyncio.gather(
            *(self._render(side, key, app) for side, app in ((old, before), (new, after)) if app)
        )
        results = iter(renders)
        if before is not None:
            result = next(results)
            if isinstance(result, RenderFailed):
                notes.append(f"it did not render at base: {result.message}")
            else:
                base_objects = result.manifests
        if after is not None:
            result = next(results)
            if isinstance(result, RenderFailed):
                return changes.failed(name, result.message, notes)
            head_objects = result.manifests
        return changes.compare(name, base_objects, head_objects, notes)


def _unknown_at_head(old: _Side, new: _Side) -> dict[AppKey, AppKey]:
    """Apps of an app of apps that failed at head (at any level above): unknown there, not gone.

    Each with the app of apps that failed.
    """
    unknown: dict[AppKey, AppKey] = {}
    grew = True
    while grew:
        grew = False
        for key, parent in old.parent.items():
            if key in new.apps or key in unknown:
                continue
            if parent in new.failed_parents or parent in unknown:
                unknown[key] = unknown.get(parent, parent)
                grew = True
    return unknown


def _affected(key: AppKey, old: _Side, new: _Side, changed: Sequence[str]) -> bool:
    before, after = old.apps.get(key), new.apps.get(key)
    if before is None or after is None:
        return True
    if _spec(before) != _spec(after):
        return True  # new options: its render may change without a file changing
    return _reads(old, key, before).touched_by(changed) or _reads(new, key, after).touched_by(
        changed
    )


POINTING_FIELDS = (
    # Every Git source is read from the local repository at the commit being previewed, so
    # where a source points cannot change its render here ("tether kubeflow init --revision"
    # re-pointing every child is not, by itself, a change to preview).
    "repoURL",
    "targetRevision",
)


def _spec(app: Application) -> Any:
    spec = app.spec.model_dump(by_alias=True, exclude_none=True)
    for source in [spec.get("source"), *(spec.get("sources") or [])]:
        if isinstance(source, dict) and not source.get("chart"):
            for field in POINTING_FIELDS:
                source.pop(field, None)
    return spec


def _reads(side: _Side, key: AppKey, app: Application) -> reads.Reads:
    found = side.reads.get(key)
    if found is None:
        sources = app.spec.sources or ([app.spec.source] if app.spec.source else [])
        # A ``ref`` source only lends files, read through the others' ``$ref/...`` value files.
        found = reads.union(
            [reads.source_reads(s, side.tree) for s in sources if not s.is_ref_only]
        )
        side.reads[key] = found
    return found


def _manifest_files(tree: DirectoryTree, path: str) -> list[str]:
    """YAML files at ``path`` (a file, or a folder walked) that may hold an Application."""
    where = reads.clean(path)
    if where is None:
        raise InvalidInputError(f"{path}: outside the repository")
    return [
        file
        for file in reads.walk(tree, where)
        if (file == where or file.endswith(MANIFEST_SUFFIXES)) and tree.mentions_application(file)
    ]


def _exists(tree: DirectoryTree, path: str) -> bool:
    return tree.is_dir(path) or tree.read(path) is not None


def _name(key: AppKey) -> str:
    return f"{key[0]}/{key[1]}" if key[0] else key[1]


def _applications(text: str, where: str, invalid: dict[AppKey, str]) -> list[Application]:
    """The Argo CD Applications in a YAML stream.

    Anything else (a Helm template, another kind named Application, a broken file) is not an
    app to preview.
    """
    try:
        docs = kubeyaml.parse_stream(text, "application manifest")
    except (InvalidInputError, yaml.YAMLError):
        return []
    return _children(docs, where, invalid)


def _children(
    objects: Sequence[Mapping[str, Any]], where: str, invalid: dict[AppKey, str]
) -> list[Application]:
    """The valid Applications among ``objects``; the invalid ones go to ``invalid``, with why."""
    found = []
    for obj in objects:
        if obj.get("kind") != application.KIND or obj.get("apiVersion") != application.API_VERSION:
            continue
        try:
            found.append(parse_application(obj))
        except TetherError as err:
            metadata = obj.get("metadata")
            meta = metadata if isinstance(metadata, Mapping) else {}
            key = (str(meta.get("namespace") or ""), str(meta.get("name") or f"({where})"))
            invalid.setdefault(key, f"{where}: {err}")
    return found
