"""The manifest use case: an Application's sources to Kubernetes objects, cached by commit.

Resolves revisions, checks out, renders with the right tool and caches the result by (repo,
commit, path, options digest, tool versions) with single-flight de-duplication, in memory and, when
given one, in a ``ports.RenderCache`` that outlives the process. A render is either complete or a
failure, never a partial set: an empty render is a success with no objects.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import re
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import cachetools
import orjson

from tether import ports
from tether.core.sources import checks, generatepaths, kubeyaml, rendering

# The outcome types live in the core (the ports name them); re-exported for this module's users.
from tether.core.sources.rendered import (
    Rendered as Rendered,
    RenderFailed as RenderFailed,
    RenderResult as RenderResult,
)
from tether.model.application import Application, parse_application
from tether.model.errors import GitError, InvalidInputError, TetherError
from tether.model.revisions import RevisionMetadata
from tether.model.source import ApplicationSource

_EXACT = re.compile(r"^v?\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]+)?$")
"""An exact chart version: the only chart revision that may be served from the render cache."""

DEFAULT_CACHE_BYTES = 32 << 20
"""Rendered sources kept in memory, least recently used first out, weighed by their size as
JSON (the objects take a few times that as Python values). Argo CD keeps manifests 24 h in
Redis; we keep the newest that fit, so one huge chart cannot grow the controller without end."""

MAX_FAILURES_KEPT = 4096
"""Failed renders remembered for their pause; a failure holds only its message."""

FAILURES_BEFORE_PAUSE = 3
FAILURE_PAUSE_S = 60.0
"""After 3 failures of one (commit, options) render, answer its error for a minute without
running tools again (Argo CD pauses generation likewise); a hard refresh retries at once."""

DEFAULT_PARALLELISM = 4
"""Concurrent renders: each forks a tool that may take hundreds of MiB (Argo's parallelismlimit)."""

CLUSTER_VERSIONS = "cluster"
"""The render context's entry of the destination's version and API versions (as a digest): in
the cache key of the renders that may read them (``Renderer.reads_cluster_versions``)."""


@dataclasses.dataclass(frozen=True)
class _Failure:
    error: TetherError
    count: int
    paused_until: float


@dataclasses.dataclass(frozen=True)
class _Entry:
    """One rendered source and what it weighs (its JSON size) in the cache's byte budget."""

    objects: tuple[dict[str, Any], ...]
    weight: int


@dataclasses.dataclass(frozen=True)
class _Previous:
    repo_url: str
    commit: str
    digest: str
    entry: _Entry


def _weight(item: _Entry | _Previous) -> int:
    return item.weight if isinstance(item, _Entry) else item.entry.weight


class ManifestService:
    """Renders Applications; one instance per process, shared by the controller and the API."""

    def __init__(
        self,
        git: ports.GitRepos,
        renderer: ports.Renderer,
        *,
        cache_bytes: int = DEFAULT_CACHE_BYTES,
        parallelism: int = DEFAULT_PARALLELISM,
        clock: Callable[[], float] = time.monotonic,
        options: rendering.BuildOptions | Callable[[], rendering.BuildOptions] = (
            rendering.DEFAULT_BUILD_OPTIONS
        ),
        disk: ports.RenderCache | None = None,
    ) -> None:
        """A manifest service over ``git`` and ``renderer``.

        ``options``: the operator's build options for renders that bring none, or a function
        giving the current ones (``argocd-cm`` as it is now). ``disk``: where renders are kept
        beyond this process (read on a memory miss, written after each cacheable render).
        """
        self._git = git
        self._disk = disk
        self._options = options if callable(options) else (lambda: options)
        self._clock = clock
        self._failures: cachetools.LRUCache[tuple[str, ...], _Failure] = cachetools.LRUCache(
            MAX_FAILURES_KEPT
        )
        self._renderer = renderer
        self._cache_bytes = cache_bytes
        self._cache: cachetools.LRUCache[tuple[str, ...], _Entry] = cachetools.LRUCache(
            cache_bytes, getsizeof=_weight
        )
        self._inflight: dict[tuple[str, ...], asyncio.Future[_Entry]] = {}
        # The last render per app, for monorepo reuse; it mostly shares objects with the cache,
        # and is bounded by the same budget so evicted renders are not kept alive here.
        self._previous: cachetools.LRUCache[tuple[str, ...], _Previous] = cachetools.LRUCache(
            cache_bytes, getsizeof=_weight
        )
        self._slots = asyncio.Semaphore(parallelism)

    async def render_application(
        self,
        app: Application,
        *,
        refresh: bool = False,
        hard_refresh: bool = False,
        revisions: Sequence[str] | None = None,
        kube_version: str = "",
        api_versions: Sequence[str] = (),
        options: rendering.BuildOptions | None = None,
    ) -> RenderResult:
        """Render every source of an Application (``spec.source`` or ``spec.sources``).

        Args:
            app: the Application, as parsed (validated) from the cluster or a file.
            refresh: resolve symbolic revisions afresh (Argo CD's level 3, a webhook).
            hard_refresh: also bypass the render cache and monorepo reuse (Argo CD's hard
                refresh, which sets ``noCache``).
            revisions: already resolved commits per source (compare with the recent revision).
            kube_version: the destination cluster's version for Helm and plugins.
            api_versions: the destination cluster's API versions for Helm and plugins.
            options: the operator's build options (a controller sends its own to a
                repo-server); this service's current ones when ``None``.
        """
        options = options if options is not None else self._options()
        label = f"application {app.namespace or '-'}/{app.name or '?'}"
        # Credentials may be scoped to a project: its fetches and renders stay its own.
        project = app.spec.project_name
        try:
            parsed = _sources_of(app)
        except InvalidInputError as err:
            return RenderFailed(f"{label}: {err}", invalid_input=True)
        try:
            resolved = await self._resolve(parsed, refresh or hard_refresh, revisions, project)
            checkouts = await self._checkouts(parsed, resolved, project)
        except TetherError as err:
            return RenderFailed(f"{label}: {err}")
        refs = {s.ref: checkouts[i] for i, s in enumerate(parsed) if s.ref and checkouts[i]}
        ref_commits = {s.ref: resolved[i] for i, s in enumerate(parsed) if s.ref}
        destination = app.spec.destination.namespace or ""
        context = {
            "app": app.name,
            "project": project,
            "namespace": destination,
            CLUSTER_VERSIONS: {
                "kubeVersion": kube_version,
                "apiVersions": rendering.api_versions_digest(api_versions),
            },
            "refs": ref_commits,
            "buildOptions": options.context(),
        }
        watched = generatepaths.watched_paths(app.metadata.annotations or {})
        jobs = []
        for index, source in enumerate(parsed):
            if source.is_ref_only:
                continue  # a pure ``ref`` source only lends its files to the others
            request = rendering.RenderRequest(
                app_name=app.name,
                app_namespace=destination,
                source=source,
                repo_root=checkouts[index],
                revision=resolved[index],
                refs=refs,
                kube_version=kube_version,
                api_versions=tuple(api_versions),
                project=project,
                options=options,
            )
            app_key = (app.namespace, app.name, str(index))
            jobs.append(
                (index, self._render_source(request, context, app_key, watched, hard_refresh))
            )
        outcomes = await asyncio.gather(*(job for _, job in jobs), return_exceptions=True)
        objects: list[dict[str, Any]] = []
        for (index, _), outcome in zip(jobs, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                if not isinstance(outcome, TetherError):
                    raise outcome
                where = _describe(parsed[index], index, len(parsed))
                return RenderFailed(
                    f"{label}: {where}: {outcome}",
                    tuple(resolved),
                    invalid_input=isinstance(outcome, InvalidInputError),
                )
            objects.extend(outcome)
        return Rendered(tuple(objects), tuple(resolved))

    async def revision_metadata(
        self, app: Application, revision: str, *, source_index: int = 0
    ) -> RevisionMetadata:
        """Commit ``revision`` of source ``source_index`` (see ``ports.ManifestSource``)."""
        source = source_at(app, source_index)
        if source.is_helm_chart:
            raise InvalidInputError(f"source {source_index} is a Helm chart: it has no commits")
        return await self._git.commit(source.repo_url, revision, project=app.spec.project_name)

    async def _resolve(
        self,
        parsed: Sequence[ApplicationSource],
        refresh: bool,
        revisions: Sequence[str] | None,
        project: str,
    ) -> list[str]:
        if revisions is not None and len(revisions) == len(parsed):
            return list(revisions)
        return list(
            await asyncio.gather(
                *(
                    _constant(s.revision)
                    if s.is_helm_chart
                    else self._git.resolve(s.repo_url, s.revision, refresh=refresh, project=project)
                    for s in parsed
                )
            )
        )

    async def _checkouts(
        self, parsed: Sequence[ApplicationSource], resolved: list[str], project: str
    ) -> list[str]:
        return list(
            await asyncio.gather(
                *(
                    _constant("")
                    if s.is_helm_chart
                    else self._git.checkout(s.repo_url, resolved[i], project=project)
                    for i, s in enumerate(parsed)
                )
            )
        )

    async def _render_source(
        self,
        request: rendering.RenderRequest,
        context: Mapping[str, Any],
        app_key: tuple[str, ...],
        watched: Sequence[str],
        hard_refresh: bool,
    ) -> tuple[dict[str, Any], ...]:
        source = request.source
        if not await self._renderer.reads_cluster_versions(request):
            # A new CRD in the cluster changes no plain manifest: its render stays cached.
            context = {k: v for k, v in context.items() if k != CLUSTER_VERSIONS}
        digest = rendering.options_hash(source, context)
        versions = await self._renderer.tool_versions()
        key = rendering.cache_key(
            source.repo_url, request.revision, source.path or "", digest, versions
        )
        # A chart version constraint is not a fixed revision: only Git commits are cacheable.
        cacheable = not source.is_helm_chart or bool(_EXACT.match(source.target_revision or ""))
        cached = self._cache.get(key) if cacheable and not hard_refresh else None
        if cached is not None:
            return cached.objects
        failure = self._failures.get(key)
        if failure is not None and not hard_refresh and failure.paused_until > self._clock():
            raise failure.error
        project = str(context["project"])
        reused = (
            None
            if hard_refresh
            else await self._unchanged(app_key, request, digest, watched, project)
        )
        if reused is not None:
            self._keep(self._cache, key, reused)
            return reused.objects
        # A hard refresh never joins a lookup that may answer from disk: it renders afresh.
        flight = (*key, "hard") if hard_refresh else key
        task = self._inflight.get(flight)
        if task is None:
            # The render runs in its own task, so a caller that gives up (cancelled) does not
            # cancel it for the others waiting on the same key.
            task = asyncio.ensure_future(
                self._produce(request, key, read=cacheable and not hard_refresh, keep=cacheable)
            )
            self._inflight[flight] = task
            task.add_done_callback(functools.partial(self._finished, flight))
        try:
            entry = await asyncio.shield(task)
        except TetherError as err:
            self._record_failure(key, err)
            raise
        self._failures.pop(key, None)
        if cacheable:
            self._keep(self._cache, key, entry)
            previous = _Previous(source.repo_url, request.revision, digest, entry)
            self._keep(self._previous, app_key, previous)
        return entry.objects

    def _keep(self, cache: cachetools.LRUCache[Any, Any], key: Any, item: Any) -> None:
        # A render bigger than the whole budget is used once and not kept (cachetools refuses it).
        if _weight(item) <= self._cache_bytes:
            cache[key] = item
        else:
            cache.pop(key, None)

    def _record_failure(self, key: tuple[str, ...], error: TetherError) -> None:
        previous = self._failures.get(key)
        count = (previous.count if previous else 0) + 1
        pause = FAILURE_PAUSE_S if count >= FAILURES_BEFORE_PAUSE else 0.0
        self._failures[key] = _Failure(error, count, self._clock() + pause)

    async def _produce(
        self, request: rendering.RenderRequest, key: tuple[str, ...], *, read: bool, keep: bool
    ) -> _Entry:
        """The render of ``key``: from disk when allowed and there, else rendered (and kept)."""
        if read and self._disk is not None:
            kept = await self._disk.load(key)
            if kept is not None:
                objects = tuple(kept)
                return _Entry(objects, await asyncio.to_thread(_json_size, objects))
        entry = await self._render_now(request)
        if keep and self._disk is not None:
            await self._disk.store(key, entry.objects)
        return entry

    async def _render_now(self, request: rendering.RenderRequest) -> _Entry:
        async with self._slots:
            objects = tuple(await self._renderer.render(request))
        weight = await asyncio.to_thread(_json_size, objects)
        return _Entry(objects, weight)

    def _finished(self, key: tuple[str, ...], task: asyncio.Future[Any]) -> None:
        self._inflight.pop(key, None)
        if not task.cancelled():
            task.exception()  # retrieved here: every waiter re-raises it, nobody warns

    async def _unchanged(
        self,
        app_key: tuple[str, ...],
        request: rendering.RenderRequest,
        digest: str,
        watched: Sequence[str],
        project: str,
    ) -> _Entry | None:
        """The previous render, when the new commit touches none of the app's watched paths."""
        previous = self._previous.get(app_key)
        source = request.source
        if (
            not watched
            or previous is None
            or source.is_helm_chart
            or previous.repo_url != source.repo_url
            or previous.digest != digest
        ):
            return None
        if previous.commit == request.revision:
            return previous.entry
        changed = await self._git.changed_paths(
            source.repo_url, previous.commit, request.revision, project=project
        )
        if generatepaths.touches(changed, source.path or "", watched):
            return None
        self._previous[app_key] = dataclasses.replace(previous, commit=request.revision)
        return previous.entry


def _json_size(objects: tuple[dict[str, Any], ...]) -> int:
    try:
        return sum(len(orjson.dumps(obj)) for obj in objects)
    except TypeError:  # a value orjson cannot encode; weigh it by its text instead
        return sum(len(repr(obj)) for obj in objects)


def _sources_of(app: Application) -> list[ApplicationSource]:
    """The sources to render, each refused if it holds an option tether would not honour."""
    if app.spec.sources:
        for index, source in enumerate(app.spec.sources):
            checks.check(source, f"spec.sources[{index}]")
        return list(app.spec.sources)
    if app.spec.source is None:
        raise InvalidInputError("spec.source is missing")
    checks.check(app.spec.source)
    return [app.spec.source]


def source_at(app: Application, index: int) -> ApplicationSource:
    """The app's source ``index`` (``spec.source`` is index 0); refused when there is none."""
    sources = app.spec.sources or ([app.spec.source] if app.spec.source else [])
    if not 0 <= index < len(sources):
        raise InvalidInputError(f"source index {index}: the app has {len(sources)} source(s)")
    return sources[index]


def _describe(source: ApplicationSource, index: int, count: int) -> str:
    what = f"chart {source.chart}" if source.chart else f"path {source.path or '.'!r}"
    prefix = f"source {index + 1} " if count > 1 else "source "
    return f"{prefix}({source.repo_url} {what})"


async def _constant(value: str) -> str:
    return value


class DirectoryRepos:
    """A ``ports.GitRepos`` over local directories: every repoURL maps to a directory as is.

    For ``tether render --repo-root DIR`` and tests that render a working tree without Git.
    """

    def __init__(self, root: str, by_url: Mapping[str, str] | None = None) -> None:
        self._root = root
        self._by_url = dict(by_url or {})

    async def resolve(
        self, repo_url: str, revision: str, *, refresh: bool = False, project: str = ""
    ) -> str:
        """The working tree has no commits: the revision is a fixed marker."""
        del repo_url, revision, refresh, project
        return "0" * 40

    async def checkout(self, repo_url: str, sha: str, *, project: str = "") -> str:
        """The directory mapped to ``repo_url`` (the default root otherwise)."""
        del sha, project
        return self._by_url.get(repo_url, self._root)

    async def changed_paths(
        self, repo_url: str, old_sha: str, new_sha: str, *, project: str = ""
    ) -> list[str]:
        """Unknown: report everything changed."""
        del repo_url, old_sha, new_sha, project
        return ["/"]

    async def commit(self, repo_url: str, sha: str, *, project: str = "") -> RevisionMetadata:
        """A working tree has no commits to describe."""
        del repo_url, sha, project
        raise GitError("a local directory has no commits")


async def render_manifest(
    text: str | bytes,
    renderer: ports.Renderer,
    *,
    repo_root: str,
    kube_version: str = "",
    api_versions: Sequence[str] = (),
) -> RenderResult:
    """Render the Application in a manifest file with every repoURL mapped to ``repo_root``.

    The core of ``tether render -f app.yaml --repo-root DIR``.
    """
    try:
        docs = kubeyaml.parse_stream(text, "application manifest")
    except InvalidInputError as err:
        return RenderFailed(str(err), invalid_input=True)
    found = [d for d in docs if d.get("kind") == "Application"]
    if len(found) != 1:
        return RenderFailed("the manifest must hold exactly one Application", invalid_input=True)
    try:
        app = parse_application(found[0])
    except InvalidInputError as err:
        return RenderFailed(str(err), invalid_input=True)
    service = ManifestService(DirectoryRepos(repo_root), renderer, cache_bytes=8 << 20)
    return await service.render_application(
        app, kube_version=kube_version, api_versions=api_versions
    )
