"""The path jail: a path from tenant input, resolved, must stay inside its repository.

Pure: symlinks are resolved through a ``realpath`` the caller passes in; nothing here reads a disk.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable

from tether.model.errors import InvalidInputError


def resolve_in_repo(
    root: str,
    path: str,
    *,
    base: str = "",
    field: str,
    realpath: Callable[[str], str],
) -> str:
    """Resolve ``path`` and require that it, symlinks resolved, stays inside ``root``.

    ``path`` is relative to ``base`` (default the root), or root-relative when it starts with ``/``.

    Raises:
        InvalidInputError: "<field>: path escapes the repository root" without echoing content.
    """
    if "\x00" in path:
        raise InvalidInputError(f"{field}: path contains a NUL byte")
    real_root = realpath(root)
    if posixpath.isabs(path):
        candidate = posixpath.join(real_root, path.lstrip("/"))
    else:
        candidate = posixpath.join(realpath(base) if base else real_root, path)
    resolved = realpath(posixpath.normpath(candidate))
    if not is_inside(real_root, resolved):
        raise InvalidInputError(f"{field}: path {path!r} escapes the repository root")
    return resolved


def is_inside(root: str, path: str) -> bool:
    """Whether ``path`` is ``root`` or below it (by path components, never by string prefix)."""
    root = posixpath.normpath(root)
    path = posixpath.normpath(path)
    return posixpath.commonpath([root, path]) == root
