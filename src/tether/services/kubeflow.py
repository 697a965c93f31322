"""``tether kubeflow init`` and ``bootstrap``: re-point the distribution, render-check it, apply it.

Owns the file I/O (read, validate every result, then write only what changed); the rewrites are
``tether.core.sources.distribution``; renders go through ``ManifestService`` over local directories.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import os
import pathlib
import tempfile
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from tether import ports
from tether.core.sources import distribution
from tether.model import application
from tether.model.errors import InvalidInputError
from tether.services.manifests import ManifestService, RenderFailed

ROOT_FILE = "root.yaml"
"""The root Application, at the top of the distribution folder."""

YAML_SUFFIXES = (".yaml", ".yml")
"""What the root's directory source reads as manifests (``.json`` is not used here)."""

ServiceFactory = Callable[[str, Mapping[str, str]], ManifestService]
"""Builds a manifest service rendering every repoURL from a directory (``by_url`` overrides)."""


@dataclasses.dataclass(frozen=True)
class FileChange:
    """One rewritten file, relative to the distribution folder, and its changed fields."""

    path: str
    changes: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class InitResult:
    """What ``init`` did (or, with ``dry_run``, would do)."""

    root: distribution.RootState
    """The root after the rewrite."""
    changed: tuple[FileChange, ...]
    children: tuple[distribution.Child, ...]
    excluded: tuple[str, ...]
    """Children left out by the root's ``directory.exclude``, relative to the children folder."""


@dataclasses.dataclass(frozen=True)
class RenderCheck:
    """Whether one Application renders from the local working tree."""

    application: str
    path: str
    """Its file, relative to the distribution folder."""
    objects: int = 0
    problem: str = ""
    skipped: str = ""
    """Why it was not rendered (a source outside the fork); empty when it was."""

    @property
    def ok(self) -> bool:
        """Rendered without a problem (or knowingly not checked)."""
        return not self.problem


def init(
    directory: pathlib.Path,
    pointing: distribution.Pointing,
    components: Sequence[str] | None = None,
    *,
    dry_run: bool = False,
) -> InitResult:
    """Re-point the distribution in ``directory`` and, with ``components``, choose its children.

    Every rewritten file is validated as Applications before any file is written, so a failure
    leaves the distribution as it was.

    Args:
        directory: the distribution folder (``root.yaml`` and ``apps/``).
        pointing: the fork and revisions to point at.
        components: components or Application names to keep (``["all"]`` for every one);
            ``None`` leaves the current selection.
        dry_run: compute and validate, but write nothing.

    Raises:
        InvalidInputError: a repository URL carries credentials; a file is missing, not YAML, or
            would not be a valid Application; a component is unknown.
    """
    distribution.check_pointing(pointing)
    root_path = directory / ROOT_FILE
    if not root_path.is_file():
        raise InvalidInputError(
            f"{root_path} does not exist: copy distributions/kubeflow from tether into your fork "
            "or pass --dir"
        )
    root_text = root_path.read_text(encoding="utf-8")
    before = distribution.read_root(root_text)
    texts = _child_texts(directory)
    children = tuple(_children(texts))
    exclude = None
    if components is not None:
        exclude = distribution.exclude_pattern(distribution.select(children, components))
    manifests_repos = [*distribution.UPSTREAM_MANIFESTS_REPOS, pointing.manifests_repo]
    if before.manifests_repo:
        manifests_repos.append(before.manifests_repo)
    distribution_repos = [before.repo, pointing.repo]

    rewrites: dict[str, distribution.Rewrite] = {}
    rewrites[ROOT_FILE] = distribution.repoint_root(root_text, pointing, exclude=exclude)
    for rel, text in texts.items():
        rewrites[f"{distribution.CHILDREN_DIR}/{rel}"] = distribution.repoint_child(
            text,
            pointing,
            manifests_repos=manifests_repos,
            distribution_repos=distribution_repos,
        )
    for name, rewrite in rewrites.items():
        if rewrite.changed:
            _validate(rewrite.text, name)
    after = distribution.read_root(rewrites[ROOT_FILE].text)
    changed = tuple(
        FileChange(name, rewrite.changes) for name, rewrite in rewrites.items() if rewrite.changed
    )
    if not dry_run:
        for change in changed:
            _write(directory / change.path, rewrites[change.path].text)
    excluded = tuple(
        c.rel_path for c in children if distribution.is_excluded(after.exclude, c.rel_path)
    )
    return InitResult(after, changed, children, excluded)


async def check(
    directory: pathlib.Path, manifests_dir: pathlib.Path, services: ServiceFactory
) -> list[RenderCheck]:
    """Render the root and every enabled child from local working trees.

    Children render from ``manifests_dir`` (the fork's working tree); a source pointing at the
    distribution's repository renders from the working tree that holds ``directory``. Children
    with a source elsewhere (a Helm chart repository, another Git repository) are skipped: the
    check is about the fork.
    """
    root_text = (directory / ROOT_FILE).read_text(encoding="utf-8")
    root = distribution.read_root(root_text)
    texts = _child_texts(directory)
    dist_root = _distribution_checkout(directory, manifests_dir, root.path)
    manifests_repo = root.manifests_repo or root.repo
    by_url: dict[str, str] = {}
    if dist_root is not None and not distribution.same_repo(root.repo, manifests_repo):
        by_url[root.repo] = str(dist_root)
    children_service = services(str(manifests_dir), by_url)
    jobs = [_check_root(directory, root_text, root, dist_root, services, texts)]
    for rel, text in texts.items():
        if distribution.is_excluded(root.exclude, rel):
            continue
        where = f"{distribution.CHILDREN_DIR}/{rel}"
        jobs.extend(
            _check_child(app, where, children_service, (manifests_repo, root.repo))
            for app in distribution.applications_in(text, where)
        )
    return list(await asyncio.gather(*jobs))


def _child_texts(directory: pathlib.Path) -> dict[str, str]:
    base = directory / distribution.CHILDREN_DIR
    if not base.is_dir():
        raise InvalidInputError(f"{base} does not exist: the distribution has no children folder")
    texts: dict[str, str] = {}
    for folder, dirs, files in os.walk(base):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if name.endswith(YAML_SUFFIXES) and not name.startswith("."):
                path = pathlib.Path(folder, name)
                texts[path.relative_to(base).as_posix()] = path.read_text(encoding="utf-8")
    return texts


def _children(texts: Mapping[str, str]) -> list[distribution.Child]:
    return [
        distribution.Child(str(app["metadata"].get("name") or ""), rel)
        for rel, text in texts.items()
        for app in distribution.applications_in(text, f"{distribution.CHILDREN_DIR}/{rel}")
    ]


def _validate(text: str, name: str) -> None:
    for app in distribution.applications_in(text, name):
        application.parse_application(app)


def _write(path: pathlib.Path, text: str) -> None:
    """Replace the file atomically, keeping its permissions."""
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        pathlib.Path(temp).unlink(missing_ok=True)
        raise


def _distribution_checkout(
    directory: pathlib.Path, manifests_dir: pathlib.Path, root_path: str
) -> pathlib.Path | None:
    """The working tree from which the root's ``path`` leads to the children folder."""
    children = (directory / distribution.CHILDREN_DIR).resolve()
    candidates = [manifests_dir.resolve(), *directory.resolve().parents]
    for candidate in candidates:
        if (candidate / root_path.strip("/")).resolve() == children:
            return candidate
    return None


async def _check_root(
    directory: pathlib.Path,
    text: str,
    root: distribution.RootState,
    dist_root: pathlib.Path | None,
    services: ServiceFactory,
    texts: Mapping[str, str],
) -> RenderCheck:
    name = root.name or ROOT_FILE
    if dist_root is None:
        return RenderCheck(
            name,
            ROOT_FILE,
            problem=f"spec.source.path {root.path!r} does not lead to "
            f"{directory / distribution.CHILDREN_DIR} from the fork's working tree",
        )
    apps = distribution.applications_in(text, ROOT_FILE)
    try:
        parsed = application.parse_application(apps[0])
    except InvalidInputError as err:
        return RenderCheck(name, ROOT_FILE, problem=str(err))
    rendered = await services(str(dist_root), {}).render_application(parsed)
    if isinstance(rendered, RenderFailed):
        return RenderCheck(name, ROOT_FILE, problem=rendered.message)
    expected = sum(
        len(distribution.applications_in(t, rel))
        for rel, t in texts.items()
        if not distribution.is_excluded(root.exclude, rel)
    )
    names = collections.Counter(
        str(obj.get("metadata", {}).get("name"))
        for obj in rendered.manifests
        if obj.get("kind") == "Application"
    )
    problem = ""
    if sum(names.values()) != expected:
        problem = f"renders {sum(names.values())} child Applications, the folder enables {expected}"
    twice = sorted(n for n, count in names.items() if count > 1)
    if twice:
        # Two files for one Application: the cluster would keep only one of them.
        problem = f"several enabled files define the Application(s) {', '.join(twice)}"
    return RenderCheck(name, ROOT_FILE, len(rendered.manifests), problem=problem)


async def _check_child(
    app: Mapping[str, Any],
    where: str,
    service: ManifestService,
    local_repos: Sequence[str],
) -> RenderCheck:
    name = str(app.get("metadata", {}).get("name") or where)
    try:
        parsed = application.parse_application(app)
    except InvalidInputError as err:
        return RenderCheck(name, where, problem=str(err))
    for source in parsed.effective_sources():
        url = source.repo_url or ""
        if source.chart or not any(distribution.same_repo(url, r) for r in local_repos):
            return RenderCheck(name, where, skipped=f"source {url} is not the fork")
    rendered = await service.render_application(parsed)
    if isinstance(rendered, RenderFailed):
        return RenderCheck(name, where, problem=rendered.message)
    return RenderCheck(name, where, len(rendered.manifests))


DEX_PASSWORD = ("auth", "dex-passwords", "DEX_USER_PASSWORD")
"""Namespace, Secret and key Dex reads the static user's hash from (docs/kubeflow.md)."""

DEX_SOURCE_PATH = "common/dex/"
"""Children rendering from here run Dex, so they need the password Secret."""


@dataclasses.dataclass(frozen=True)
class Bootstrapped:
    """The root Application as applied, and what the user should still do."""

    application: str
    """``namespace/name`` of the root."""
    warnings: tuple[str, ...] = ()


async def apply_root(
    cluster: ports.Cluster, directory: pathlib.Path, *, field_manager: str
) -> Bootstrapped:
    """Apply the distribution's root Application (server-side), once ``init`` has pointed it.

    Warns, without blocking, when Dex is enabled and its password Secret has no hash: Dex then
    waits for it (docs/kubeflow.md). Only the key's presence is read, never its value.

    Raises:
        InvalidInputError: the root is not a valid Application or still points at upstream.
        ClusterError: the API server refused the apply.
    """
    text = (directory / ROOT_FILE).read_text(encoding="utf-8")
    root = distribution.read_root(text)
    app = distribution.applications_in(text, ROOT_FILE)[0]
    parsed = application.parse_application(app)
    if any(distribution.same_repo(root.repo, u) for u in distribution.UPSTREAM_MANIFESTS_REPOS):
        raise InvalidInputError(
            f"{directory / ROOT_FILE} still points at kubeflow/manifests: run "
            "`tether kubeflow init --repo <your fork>` and push first"
        )
    warnings = []
    if _dex_enabled(directory, root) and not await _has_dex_password(cluster):
        namespace, secret, key = DEX_PASSWORD
        warnings.append(
            f"Secret {namespace}/{secret} has no {key}: Dex will not start until you create it "
            "(docs/kubeflow.md, 'The Dex password')"
        )
    await cluster.apply(app, field_manager=field_manager)
    return Bootstrapped(parsed.qualified_name, tuple(warnings))


def _dex_enabled(directory: pathlib.Path, root: distribution.RootState) -> bool:
    for rel, text in _child_texts(directory).items():
        if distribution.is_excluded(root.exclude, rel):
            continue
        for app in distribution.applications_in(text, rel):
            for source in application.parse_application(app).effective_sources():
                if (source.path or "").startswith(DEX_SOURCE_PATH):
                    return True
    return False


async def _has_dex_password(cluster: ports.Cluster) -> bool:
    namespace, secret, key = DEX_PASSWORD
    live = await cluster.get("v1", "Secret", secret, namespace)
    data = (live or {}).get("data") or {}
    return bool(isinstance(data, Mapping) and data.get(key))
