"""Which repository files an Application source reads: the test of whether a change affects it.

Pure: the repository is seen through ``Tree`` (a checkout at one commit, read by the caller).
The answer may over-approximate (an app rendered for nothing costs one cached render) but never
under-approximate; when a source's inputs cannot be told cheaply, ``Reads.everything`` is set.
"""

from __future__ import annotations

import dataclasses
import functools
import posixpath
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Protocol

import yaml

from tether.core.sources import rendering
from tether.model.source import ApplicationSource


class Tree(Protocol):
    """A repository at one commit, by repository-relative POSIX path."""

    def read(self, path: str) -> str | None:
        """The text of file ``path``, ``None`` when it is not a readable file."""
        ...

    def is_dir(self, path: str) -> bool:
        """Whether ``path`` is a directory."""
        ...

    def names(self, path: str) -> list[str]:
        """The entry names of directory ``path`` (empty when it is none)."""
        ...

    def mentions_application(self, path: str) -> bool:
        """Whether file ``path`` may hold an Argo CD Application (``mentions_application``)."""
        ...


@dataclasses.dataclass
class Reads:
    """What one source reads: exact files, directories' own files, and whole subtrees."""

    files: set[str] = dataclasses.field(default_factory=set)
    dirs: set[str] = dataclasses.field(default_factory=set)
    """Directories whose direct files are read (a kustomization's own folder)."""
    trees: set[str] = dataclasses.field(default_factory=set)
    """Directories read with everything under them (a chart, a jsonnet folder)."""
    everything: bool = False
    """The inputs are unknown (a plugin, an unparsable kustomization): any change affects it."""

    def merge(self, other: Reads) -> None:
        """Add ``other``'s reads to these."""
        self.files |= other.files
        self.dirs |= other.dirs
        self.trees |= other.trees
        self.everything = self.everything or other.everything

    def touched_by(self, changed: Iterable[str]) -> bool:
        """Whether any changed path (repository-relative) is one this source reads."""
        if self.everything:
            return any(True for _ in changed)
        for raw in changed:
            path = clean(raw)
            if path is None:
                continue
            if path in self.files or posixpath.dirname(path) in self.dirs:
                return True
            if any(_under(path, root) for root in self.trees):
                return True
        return False

    def all_files(self, tree: Tree) -> Iterator[str]:
        """Every file read, directories walked (to look for Applications an app renders)."""
        yield from sorted(self.files)
        for directory in sorted(self.dirs):
            for name in tree.names(directory):
                path = posixpath.join(directory, name) if directory else name
                if not tree.is_dir(path):
                    yield path
        for root in sorted(self.trees):
            yield from walk(tree, root)


MAX_KUSTOMIZATIONS = 2000
"""Kustomization folders followed from one source; past it the reads are unknown (a loop guard
beyond the visited set, for hostile trees)."""

KUSTOMIZE_FILE_LISTS = (
    # Each a list of paths (or folders) relative to the kustomization's folder.
    ("resources", "a file or a folder holding another kustomization"),
    ("bases", "the deprecated name of resources"),
    ("components", "folders holding a Component kustomization"),
    ("crds", "CRD files for kustomize's name references"),
    ("configurations", "transformer configuration files"),
    ("patchesStrategicMerge", "patch files (an inline patch is not a path and is skipped)"),
    ("generators", "generator config files or folders"),
    ("transformers", "transformer config files or folders"),
    ("validators", "validator config files or folders"),
)
KUSTOMIZE_PATH_ENTRIES = (
    # Each a list of mappings whose ``path`` names a file.
    ("patches", "a patch file"),
    ("patchesJson6902", "a JSON 6902 patch file"),
    ("replacements", "a replacements file"),
)
KUSTOMIZE_GENERATORS = ("configMapGenerator", "secretGenerator")
"""Generators whose ``files`` (``key=path`` or ``path``), ``envs`` and ``env`` read files."""

JSONNET_SUFFIXES = (".jsonnet", ".libsonnet")
JSONNET_IMPORT = re.compile(r"\bimport(?:str|bin)?\s*(['\"])((?:(?!\1).)+)\1")
"""A jsonnet import of a literal path; computed imports are not allowed by the language."""

APPLICATION_KIND = re.compile(r"""\bkind["']?[ \t]*:[ \t]*["']?Application\b""")
ARGO_GROUP = "argoproj.io/"
"""A file that may hold an Argo CD Application mentions both (YAML, JSON or jsonnet alike); it
is checked against apiVersion when parsed. The group keeps out other kinds named Application
(``app.k8s.io``'s, in Kubeflow Pipelines), whose apps would otherwise be rendered as parents."""


def mentions_application(text: str) -> bool:
    """Whether ``text`` may hold an Argo CD Application."""
    return ARGO_GROUP in text and APPLICATION_KIND.search(text) is not None


def clean(path: str) -> str | None:
    """A repository-relative path normalised, or ``None`` when it leaves the repository."""
    joined = posixpath.normpath(path.lstrip("/")) if path.strip("/") else "."
    if joined == ".":
        return ""
    if joined == ".." or joined.startswith("../"):
        return None
    return joined


def _under(path: str, root: str) -> bool:
    return root == "" or path == root or path.startswith(root + "/")


def _join(base: str, rel: str) -> str | None:
    return clean(posixpath.join(base, rel))


def walk(tree: Tree, root: str) -> Iterator[str]:
    """Every file under ``root`` (or ``root`` itself when it is a file), in sorted order.

    A loop, not recursion: a hostile tree's depth must not exhaust the stack.
    """
    if not tree.is_dir(root):
        if tree.read(root) is not None:
            yield root
        return
    pending = [root]
    while pending:
        directory = pending.pop()
        subdirectories = []
        for name in sorted(tree.names(directory)):
            path = posixpath.join(directory, name) if directory else name
            if tree.is_dir(path):
                subdirectories.append(path)
            else:
                yield path
        pending.extend(reversed(subdirectories))


def source_reads(source: ApplicationSource, tree: Tree) -> Reads:
    """The files ``source`` reads from the repository (every repoURL being this one)."""
    if source.is_helm_chart:
        return _helm_values(source, "")  # the chart comes from a chart repository
    base = clean(source.path or "")
    if base is None:
        return Reads()  # the renderer refuses it: nothing here is read
    names = tree.names(base)
    tool = rendering.detect_tool(source, names)
    if tool == "kustomize":
        reads = kustomize_reads(base, tree)
        if source.kustomize is not None:
            for component in source.kustomize.components or []:
                target = _join(base, component)
                if target is not None:
                    reads.merge(kustomize_reads(target, tree))
            for patch in source.kustomize.patches or []:
                target = _join(base, patch.path) if patch.path else None
                if target is not None:
                    reads.files.add(target)
        return reads
    if tool == "helm":
        reads = helm_chart_reads(base, tree)
        reads.merge(_helm_values(source, base))
        return reads
    if tool == "directory":
        return directory_reads(source, base, tree)
    return Reads(everything=True)  # a plugin reads what its command decides


def kustomize_reads(root: str, tree: Tree) -> Reads:
    """A kustomization's folder, its referenced files, and the kustomizations they reach."""
    reads = Reads()
    pending = [root]
    seen: set[str] = set()
    while pending:
        directory = pending.pop()
        if directory in seen:
            continue
        seen.add(directory)
        if len(seen) > MAX_KUSTOMIZATIONS:
            return Reads(everything=True)
        reads.dirs.add(directory)
        doc = _kustomization(directory, tree)
        if doc is None:
            continue  # a plain folder of manifests (kustomize refuses it; the render says so)
        if not isinstance(doc, dict):
            return Reads(everything=True)
        for target in _referenced(directory, doc):
            if tree.is_dir(target):
                pending.append(target)
            else:
                reads.files.add(target)
        reads.merge(_inflated_charts(directory, doc))
    return reads


def _kustomization(directory: str, tree: Tree) -> Any:
    for name in rendering.KUSTOMIZATION_FILES:
        path = posixpath.join(directory, name) if directory else name
        text = tree.read(path)
        if text is not None:
            return _parsed(text)
    return None


_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's loader when PyYAML has it: kustomizations are parsed for every app, many times."""


@functools.lru_cache(maxsize=4096)
def _parsed(text: str) -> Any:
    """A kustomization's YAML (shared by every app that includes it: read, never changed)."""
    try:
        return yaml.load(text, Loader=_LOADER) or {}
    except yaml.YAMLError:
        return []  # not a mapping: the caller gives up on knowing


def _strings(value: Any) -> list[str]:
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def _local(entry: str) -> bool:
    # A remote base (URL or git host path) is not in this repository; an inline patch is text.
    return "://" in entry or entry.startswith(("github.com/", "git@")) or "\n" in entry


def _referenced(directory: str, doc: dict[str, Any]) -> Iterator[str]:
    entries: list[str] = []
    for field, _why in KUSTOMIZE_FILE_LISTS:
        entries.extend(_strings(doc.get(field)))
    for field, _why in KUSTOMIZE_PATH_ENTRIES:
        items = doc.get(field)
        for item in items if isinstance(items, list) else []:
            if isinstance(item, dict) and isinstance(item.get("path"), str):
                entries.append(item["path"])  # noqa: PERF401 (the guard reads better as a loop)
    for field in KUSTOMIZE_GENERATORS:
        items = doc.get(field)
        for item in items if isinstance(items, list) else []:
            if not isinstance(item, dict):
                continue
            entries.extend(file.split("=", 1)[-1] for file in _strings(item.get("files")))
            entries.extend(_strings(item.get("envs")))
            if isinstance(item.get("env"), str):
                entries.append(item["env"])
    openapi = doc.get("openapi")
    if isinstance(openapi, dict) and isinstance(openapi.get("path"), str):
        entries.append(openapi["path"])
    for entry in entries:
        if _local(entry):
            continue
        target = _join(directory, entry)
        if target is not None:
            yield target


def _inflated_charts(directory: str, doc: dict[str, Any]) -> Reads:
    """``helmCharts``: the chart home (default ``charts``) and each chart's values file."""
    reads = Reads()
    charts = doc.get("helmCharts")
    if not isinstance(charts, list) or not charts:
        return reads
    globals_ = doc.get("helmGlobals")
    home = globals_.get("chartHome") if isinstance(globals_, dict) else None
    target = _join(directory, home if isinstance(home, str) else "charts")
    if target is not None:
        reads.trees.add(target)
    for chart in charts:
        values = chart.get("valuesFile") if isinstance(chart, dict) else None
        if isinstance(values, str) and not _local(values):
            target = _join(directory, values)
            if target is not None:
                reads.files.add(target)
    return reads


def helm_chart_reads(chart: str, tree: Tree, depth: int = 0) -> Reads:
    """A chart's whole folder, and its ``file://`` dependencies' folders."""
    reads = Reads(trees={chart})
    if depth > 10:
        return Reads(everything=True)
    text = tree.read(posixpath.join(chart, "Chart.yaml") if chart else "Chart.yaml")
    doc = _parsed(text) if text else None
    dependencies = doc.get("dependencies") if isinstance(doc, dict) else None
    for dependency in dependencies if isinstance(dependencies, list) else []:
        repository = dependency.get("repository") if isinstance(dependency, dict) else None
        if isinstance(repository, str) and repository.startswith("file://"):
            target = _join(chart, repository.removeprefix("file://"))
            if target is not None and not any(_under(target, t) for t in reads.trees):
                reads.merge(helm_chart_reads(target, tree, depth + 1))
    return reads


def _helm_values(source: ApplicationSource, base: str) -> Reads:
    """Value files and ``--set-file`` files; ``$ref/...`` names a path from the repository root."""
    reads = Reads()
    helm = source.helm
    if helm is None:
        return reads
    paths = list(helm.value_files or [])
    paths.extend(p.path for p in helm.file_parameters or [] if p.path)
    for path in paths:
        if "://" in path:
            continue  # a remote values file
        if path.startswith("$"):
            _ref, _, rest = path.partition("/")
            target = clean(rest)
        else:
            target = _join(base, path)
        if target is not None:
            reads.files.add(target)
    return reads


def directory_reads(source: ApplicationSource, base: str, tree: Tree) -> Reads:
    """A folder of manifests or jsonnet: the folder, its jsonnet libs and what jsonnet imports."""
    reads = Reads(trees={base})
    libs = _libs(source)
    reads.trees.update(libs)
    pending = [p for p in walk(tree, base) if p.endswith(JSONNET_SUFFIXES)]
    seen: set[str] = set()
    while pending:
        path = pending.pop()
        if path in seen or len(seen) > MAX_KUSTOMIZATIONS:
            continue
        seen.add(path)
        text = tree.read(path)
        if text is None:
            continue
        for _quote, imported in JSONNET_IMPORT.findall(text):
            for folder in (posixpath.dirname(path), *libs):
                target = _join(folder, imported)
                if target is not None:
                    reads.files.add(target)
                    if target.endswith(JSONNET_SUFFIXES):
                        pending.append(target)
    return reads


def _libs(source: ApplicationSource) -> list[str]:
    directory = source.directory
    if directory is None or directory.jsonnet is None:
        return []
    found = (clean(lib) for lib in directory.jsonnet.libs or [])
    return [lib for lib in found if lib is not None]


def may_hold_applications(reads: Reads, tree: Tree, limit: int = 20000) -> bool:
    """Whether any file a source reads mentions ``kind: Application`` (it may be an app of apps)."""
    if reads.everything:
        return True
    for count, path in enumerate(reads.all_files(tree)):
        if count >= limit:
            return True
        if tree.mentions_application(path):
            return True
    return False


def union(parts: Sequence[Reads]) -> Reads:
    """One ``Reads`` holding all of ``parts``."""
    total = Reads()
    for part in parts:
        total.merge(part)
    return total
