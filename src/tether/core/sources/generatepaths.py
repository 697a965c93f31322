"""Which changed files concern an app: Argo CD's ``manifest-generate-paths`` annotation.

Read by the render cache (a commit touching none of an app's paths reuses its last render) and
by Git webhooks (a push touching none of them refreshes nothing).
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Mapping, Sequence

from tether.core import globs

MANIFEST_GENERATE_PATHS = "argocd.argoproj.io/manifest-generate-paths"
"""Paths (``;``-separated) whose changes invalidate a monorepo app's render (Argo CD)."""


def watched_paths(annotations: Mapping[str, str]) -> list[str]:
    """The annotation's paths as written; empty when it is absent or lists nothing."""
    value = annotations.get(MANIFEST_GENERATE_PATHS) or ""
    return [part.strip() for part in value.split(";") if part.strip()]


def touches(changed: Iterable[str], source_path: str, watched: Sequence[str]) -> bool:
    """Whether any changed file is, lies under, or glob-matches a watched path.

    Watched paths are relative to the source path, or repository-absolute when they start with
    ``/``; ``.`` is the source path itself. Globs are Go's ``filepath.Match`` (``*`` stays
    within one directory), as Argo CD matches them.
    """
    roots = []
    for path in watched:
        if path.startswith("/"):
            joined = path.lstrip("/")
        else:
            joined = posixpath.join(source_path.strip("/"), path)
        roots.append(posixpath.normpath(joined).lstrip("/"))
    for file in changed:
        file = posixpath.normpath(file.lstrip("/"))
        for root in roots:
            if root in ("", ".") or file == root or file.startswith(root + "/"):
                return True
            if globs.is_pattern(root) and globs.filepath_match(root, file):
                return True
    return False
