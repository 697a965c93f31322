"""Re-pointing a distribution's Applications at a fork, and choosing its components.

Pure text-to-text rewrites over ruamel.yaml's round trip: comments, key order, quoting and block
scalars survive, and a file that needs no change comes back byte for byte (so a rerun is a no-op).
"""

from __future__ import annotations

import dataclasses
import io
import posixpath
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import YAMLError
from ruamel.yaml.scalarstring import ScalarString

from tether.core import globs
from tether.core.sources import kubeyaml, repocreds
from tether.model.errors import InvalidInputError

UPSTREAM_MANIFESTS_REPOS = ("https://github.com/kubeflow/manifests.git",)
"""Where the distribution's children point before ``init``: upstream kubeflow/manifests."""

MANIFESTS_REPO_ANNOTATION = "tether.dev/kubeflow-manifests-repo"
"""On the root: the repository ``init`` pointed the children at, so a rerun recognises them."""

CHILDREN_DIR = "apps"
"""The folder, beside ``root.yaml``, holding one file per child Application (and the project)."""

ALL_COMPONENTS = "all"
"""``--components all`` enables every component again (drops the root's ``exclude``)."""

INDENTS: tuple[tuple[int, int, int], ...] = (
    # (mapping, sequence, offset) styles tried, in order, to write a file back as it was written:
    (2, 4, 2),  # lists indented under their key: the distribution's own style, kubectl's too
    (2, 2, 0),  # lists flush with their key: kustomize's and Helm's output style
    (4, 4, 2),
    (4, 6, 4),
)

ARGO_KINDS = frozenset({"Application", "AppProject"})
"""The objects that live in the control plane's namespace (``--app-namespace`` moves them)."""

_WIDTH = 4096
"""Never re-wrap long lines: the rewrite must not touch lines it does not change."""

_SCP_LIKE = re.compile(r"^(?:[\w.-]+@)?(?P<host>[\w.-]+):(?P<path>(?!//)[^\s]+)$")


@dataclasses.dataclass(frozen=True)
class Pointing:
    """Where ``init`` points the distribution.

    ``manifests_revision`` ``None`` keeps each child's own ``targetRevision``; ``app_namespace``
    ``None`` keeps the namespace the Applications live in (``tether``; Argo CD uses ``argocd``).
    """

    repo: str
    revision: str
    manifests_repo: str
    manifests_revision: str | None
    app_namespace: str | None = None


@dataclasses.dataclass(frozen=True)
class Rewrite:
    """A file's new text and what changed, one line per field (``path: old -> new``)."""

    text: str
    changes: tuple[str, ...] = ()

    @property
    def changed(self) -> bool:
        """Whether the text differs from the input."""
        return bool(self.changes)


@dataclasses.dataclass(frozen=True)
class RootState:
    """What the root Application says before a rewrite."""

    name: str
    repo: str
    revision: str
    path: str
    exclude: str
    manifests_repo: str
    """The recorded repository of the children, or ``""`` before the first ``init``."""


@dataclasses.dataclass(frozen=True)
class Child:
    """A child Application file: its name and path relative to the children folder."""

    name: str
    rel_path: str

    @property
    def component(self) -> str:
        """The component: the sub-folder the file sits in (``""`` at the folder's top)."""
        head, sep, _ = self.rel_path.partition("/")
        return head if sep else ""


def check_pointing(pointing: Pointing) -> None:
    """Refuse repository URLs that carry credentials: ``init`` writes them into Git.

    Raises:
        InvalidInputError: a URL has a password, or a user name over HTTP(S) (a token), naming
            the URL without its credentials.
    """
    for url in (pointing.repo, pointing.manifests_repo):
        bare, user, password = repocreds.split_userinfo(url)
        if password or (user and url.lower().startswith(("http://", "https://"))):
            raise InvalidInputError(
                f"{bare}: the URL carries credentials, which would be committed with the "
                "distribution; give the plain URL and configure repository credentials instead"
            )


def normalize_repo(url: str) -> str:
    """A repository URL reduced to ``host/path`` so spellings of one repository compare equal.

    ``https://GitHub.com/org/x.git/``, ``git@github.com:org/x`` and ``ssh://git@github.com/org/x``
    all become ``github.com/org/x``. Broader than Argo CD's comparison form
    (``repocreds.normalize_url``), which keeps the scheme: here the HTTPS and SSH spellings of a
    fork are the same fork.
    """
    text = url.strip()
    scp = _SCP_LIKE.match(text)
    if scp and "://" not in text:
        host, path = scp.group("host"), scp.group("path")
    else:
        _, _, rest = text.partition("://")
        rest = rest or text
        authority, _, path = rest.partition("/")
        host = authority.rpartition("@")[2].split(":", 1)[0]
    path = path.strip("/")
    path = path.removesuffix(".git")
    return f"{host.lower()}/{path}"


def same_repo(a: str, b: str) -> bool:
    """Whether two repository URLs name the same repository (see :func:`normalize_repo`)."""
    return normalize_repo(a) == normalize_repo(b)


def read_root(text: str) -> RootState:
    """The root Application's source and selection.

    Raises:
        InvalidInputError: the text is not one Application with a single ``spec.source``.
    """
    doc = _only_application(_load(text), "root")
    source = _single_source(doc, "root")
    meta = doc.get("metadata") or {}
    annotations = meta.get("annotations") or {}
    directory = source.get("directory") or {}
    return RootState(
        name=str(meta.get("name") or ""),
        repo=str(source.get("repoURL") or ""),
        revision=str(source.get("targetRevision") or ""),
        path=str(source.get("path") or ""),
        exclude=str(directory.get("exclude") or "") if isinstance(directory, Mapping) else "",
        manifests_repo=str(annotations.get(MANIFESTS_REPO_ANNOTATION) or ""),
    )


def repoint_root(text: str, pointing: Pointing, *, exclude: str | None = None) -> Rewrite:
    """Point the root Application at the distribution's fork; optionally set its selection.

    Args:
        text: the root Application file.
        pointing: where to point it.
        exclude: the new ``spec.source.directory.exclude`` (``""`` removes it), or ``None`` to
            leave the selection as it is.

    Raises:
        InvalidInputError: the text is not one Application with a single ``spec.source``.
    """
    docs = _load(text)
    doc = _only_application(docs, "root")
    source = _single_source(doc, "root")
    changes: list[str] = []
    _set(source, "repoURL", pointing.repo, "spec.source", changes)
    _set(source, "targetRevision", pointing.revision, "spec.source", changes, after="repoURL")
    if pointing.app_namespace is not None:
        _move(doc, pointing.app_namespace, changes)
        # The root creates its children, so it deploys into the namespace they live in.
        destination = doc["spec"].get("destination")
        if isinstance(destination, CommentedMap):
            _set(destination, "namespace", pointing.app_namespace, "spec.destination", changes)
    meta = doc.setdefault("metadata", CommentedMap())
    annotations = meta.get("annotations")
    recorded = annotations.get(MANIFESTS_REPO_ANNOTATION) if annotations else None
    if recorded != pointing.manifests_repo:
        if annotations is None:
            annotations = meta["annotations"] = CommentedMap()
        _set(
            annotations,
            MANIFESTS_REPO_ANNOTATION,
            pointing.manifests_repo,
            "metadata.annotations",
            changes,
        )
    if exclude is not None:
        directory = source.get("directory")
        current = directory.get("exclude", "") if isinstance(directory, Mapping) else ""
        if exclude and current != exclude:
            if not isinstance(directory, CommentedMap):
                directory = source["directory"] = CommentedMap()
            _set(directory, "exclude", exclude, "spec.source.directory", changes)
        elif not exclude and current and isinstance(directory, CommentedMap):
            del directory["exclude"]
            changes.append(f"spec.source.directory.exclude: {current!r} -> (removed)")
    return _result(docs, text, changes)


def repoint_child(
    text: str,
    pointing: Pointing,
    *,
    manifests_repos: Collection[str],
    distribution_repos: Collection[str] = (),
) -> Rewrite:
    """Point a child's sources that use kubeflow/manifests (or the distribution) at the fork.

    Sources in ``manifests_repos`` go to ``pointing.manifests_repo``; sources in
    ``distribution_repos`` to ``pointing.repo``; Helm charts and every other repository are left
    alone. Documents other than Applications are left alone, except that with
    ``pointing.app_namespace`` Applications and AppProjects move to that namespace.

    Raises:
        InvalidInputError: the text is not YAML.
    """
    docs = _load(text)
    changes: list[str] = []
    for doc in docs:
        if pointing.app_namespace is not None and _is_argo_object(doc):
            _move(doc, pointing.app_namespace, changes)
        if not _is_application(doc):
            continue
        spec = doc.get("spec")
        if not isinstance(spec, Mapping):
            continue
        many = spec.get("sources")
        located: list[tuple[str, Any]] = (
            [(f"spec.sources[{i}]", s) for i, s in enumerate(many)]
            if isinstance(many, list) and many
            else [("spec.source", spec.get("source"))]
        )
        for where, source in located:
            if not isinstance(source, CommentedMap) or source.get("chart"):
                continue  # a Helm repository chart keeps its chart repository
            url = str(source.get("repoURL") or "")
            if any(same_repo(url, known) for known in manifests_repos):
                repo, revision = pointing.manifests_repo, pointing.manifests_revision
            elif any(same_repo(url, known) for known in distribution_repos):
                repo, revision = pointing.repo, pointing.revision
            else:
                continue
            _set(source, "repoURL", repo, where, changes)
            if revision is not None:
                _set(source, "targetRevision", revision, where, changes, after="repoURL")
    return _result(docs, text, changes)


def applications_in(text: str, filename: str) -> list[dict[str, Any]]:
    """The Application documents of a file, read in Kubernetes' YAML dialect (for rendering).

    Raises:
        InvalidInputError: the text is not YAML or holds something that is not an object.
    """
    return [doc for doc in kubeyaml.parse_yaml(text, filename) if _is_application(doc)]


def select(children: Sequence[Child], wanted: Iterable[str]) -> tuple[str, ...]:
    """The children to leave out: those whose component and name are both not ``wanted``.

    ``wanted`` names components (sub-folders) or Applications; ``all`` keeps everything.
    Files at the top of the children folder (the AppProject) are never left out.

    Raises:
        InvalidInputError: no name is given, or a name is neither a component nor an
            Application (the message lists the components).
    """
    names = [w.strip() for w in wanted if w.strip()]
    if not names:
        raise InvalidInputError("no components named; to keep every component, name 'all'")
    if ALL_COMPONENTS in names:
        return ()
    known = {c.component for c in children if c.component} | {c.name for c in children}
    unknown = [n for n in names if n not in known]
    if unknown:
        components = sorted({c.component for c in children if c.component})
        raise InvalidInputError(
            f"unknown component(s) {', '.join(unknown)}; components: {', '.join(components)} "
            "(or an Application's name, or 'all')"
        )
    chosen = set(names)
    return tuple(
        sorted(
            c.rel_path
            for c in children
            if c.component and c.component not in chosen and c.name not in chosen
        )
    )


def exclude_pattern(rel_paths: Sequence[str]) -> str:
    """A ``directory.exclude`` glob matching exactly these files (``""`` for none)."""
    paths = sorted(set(rel_paths))
    if not paths:
        return ""
    for path in paths:
        if any(ch in path for ch in "{},*?[]"):
            raise InvalidInputError(f"cannot exclude {path!r}: glob characters in a file name")
    return paths[0] if len(paths) == 1 else "{" + ",".join(paths) + "}"


def is_excluded(pattern: str, rel_path: str) -> bool:
    """Whether the root's ``directory.exclude`` leaves this file out (Argo CD's glob rules)."""
    return bool(pattern) and globs.match(pattern, posixpath.normpath(rel_path))


# -- ruamel plumbing ---------------------------------------------------------------------------


def _yaml(indent: tuple[int, int, int]) -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = _WIDTH
    mapping, sequence, offset = indent
    yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
    return yaml


def _load(text: str) -> list[Any]:
    try:
        docs = list(_yaml(INDENTS[0]).load_all(text))
    except YAMLError as err:
        raise InvalidInputError(f"not valid YAML: {str(err).splitlines()[0]}") from None
    return [doc for doc in docs if doc is not None]


def _writer(text: str) -> YAML:
    """The indentation style that writes ``text`` back unchanged (the first one otherwise).

    ruamel has one indentation setting per dump, not per node; trying the common styles keeps
    files in any of them byte-identical outside the changed values. Only asked when a file
    changes, so a rerun that changes nothing costs one parse per file.
    """
    docs = _load(text)
    plain = text.replace("\r\n", "\n")
    for indent in INDENTS:
        candidate = _yaml(indent)
        _start(candidate, text)
        if _dump(candidate, docs) == plain:
            return candidate
    chosen = _yaml(INDENTS[0])
    _start(chosen, text)
    return chosen


def _start(yaml: YAML, text: str) -> None:
    first = next((line for line in text.splitlines() if line.strip()), "")
    yaml.explicit_start = first.startswith("---")


def _dump(yaml: YAML, docs: list[Any]) -> str:
    stream = io.StringIO()
    yaml.dump_all(docs, stream)
    return stream.getvalue()


def _result(docs: list[Any], text: str, changes: list[str]) -> Rewrite:
    if not changes:
        return Rewrite(text)
    out = _dump(_writer(text), docs)
    if "\r\n" in text:
        out = out.replace("\n", "\r\n")  # a Windows checkout (core.autocrlf) stays one
    return Rewrite(out, tuple(changes))


def _is_application(doc: Any) -> bool:
    return isinstance(doc, Mapping) and doc.get("kind") == "Application"


def _is_argo_object(doc: Any) -> bool:
    return (
        isinstance(doc, Mapping)
        and doc.get("kind") in ARGO_KINDS
        and str(doc.get("apiVersion", "")).startswith("argoproj.io/")
    )


def _move(doc: CommentedMap, namespace: str, changes: list[str]) -> None:
    meta = doc.get("metadata")
    if isinstance(meta, CommentedMap):
        _set(meta, "namespace", namespace, "metadata", changes, after="name")


def _only_application(docs: list[Any], what: str) -> CommentedMap:
    apps = [doc for doc in docs if _is_application(doc)]
    if len(apps) != 1 or not isinstance(apps[0], CommentedMap):
        raise InvalidInputError(f"the {what} file must hold exactly one Application")
    return apps[0]


def _single_source(doc: CommentedMap, what: str) -> CommentedMap:
    spec = doc.get("spec")
    source = spec.get("source") if isinstance(spec, Mapping) else None
    if not isinstance(source, CommentedMap) or (isinstance(spec, Mapping) and spec.get("sources")):
        raise InvalidInputError(f"the {what} Application must have one spec.source")
    return source


def _set(
    mapping: CommentedMap,
    key: str,
    value: str,
    where: str,
    changes: list[str],
    *,
    after: str = "",
) -> None:
    """Set a string, keeping the old value's quoting style and the key's place and comments."""
    old = mapping.get(key)
    if old is not None and str(old) == value:
        return
    new: Any = type(old)(value) if isinstance(old, ScalarString) else value
    if key in mapping or not after or after not in mapping:
        mapping[key] = new
    else:
        mapping.insert(list(mapping).index(after) + 1, key, new)
    shown = "(unset)" if old is None else repr(repocreds.redact_url(str(old)))
    changes.append(f"{where}.{key}: {shown} -> {repocreds.redact_url(value)!r}")
