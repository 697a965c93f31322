"""The renderer's filesystem guard: jailed path resolution and the out-of-bounds symlink scan.

Every path a user names (source path, value files, libs, patches) goes through here before a
tool sees it, so a tool never reads outside the checkout on tether's behalf.
"""

from __future__ import annotations

import logging
import os
import stat
import threading

from tether.core.sources import jail
from tether.model.errors import InvalidInputError

log = logging.getLogger(__name__)

SKIPPED_DIRS = frozenset({".git"})
"""Git metadata is not content; its links (hooks, alternates) are not the user's files."""

_scanned: set[str] = set()
_scanning: dict[str, threading.Lock] = {}
"""Per checkout being scanned, the lock its other renders wait on."""
_scanned_lock = threading.Lock()


def resolve(root: str, path: str, *, field: str, base: str = "") -> str:
    """Resolve a user-given path inside ``root`` (symlinks followed), or refuse it."""
    return jail.resolve_in_repo(root, path, base=base, field=field, realpath=os.path.realpath)


def source_dir(root: str, path: str) -> str:
    """The source's directory inside the checkout; it must exist and be a directory."""
    resolved = resolve(root, path or ".", field="spec.source.path")
    if not os.path.isdir(resolved):
        raise InvalidInputError(f"spec.source.path: {path!r} is not a directory in the repository")
    return resolved


def scan_symlinks(root: str) -> None:
    """Refuse a checkout holding any symlink that resolves outside it (Argo CD does the same).

    Read-only checkouts are immutable per commit, so each is scanned once per process (renders
    of a commit that arrive together wait for the one scan); a writable tree (a local working
    copy) is scanned on every render.
    """
    real_root = os.path.realpath(root)
    if stat.S_IMODE(os.stat(real_root).st_mode) & 0o222:
        _scan(real_root)
        return
    with _scanned_lock:
        if real_root in _scanned:
            return
        lock = _scanning.setdefault(real_root, threading.Lock())
    with lock:
        with _scanned_lock:
            if real_root in _scanned:
                return
        try:
            _scan(real_root)
            with _scanned_lock:
                _scanned.add(real_root)
        finally:
            with _scanned_lock:
                _scanning.pop(real_root, None)


def _scan(real_root: str) -> None:
    for directory, dirs, files in os.walk(real_root):
        dirs[:] = [d for d in dirs if d not in SKIPPED_DIRS]
        for name in (*dirs, *files):
            full = os.path.join(directory, name)
            if not os.path.islink(full):
                continue
            target = os.path.realpath(full)
            if not jail.is_inside(real_root, target):
                rel = os.path.relpath(full, real_root)
                # A security event: someone put a way out of the checkout into a repository.
                log.warning("refused a repository: %s is a symlink out of the checkout", rel)
                raise InvalidInputError(
                    f"{rel}: out-of-bounds symlink (resolves outside the repository)"
                )


def scrub(message: str, *paths: str) -> str:
    """Remove checkout and scratch paths from a tool message: they are tether's internals."""
    for path in sorted({p for p in paths if p}, key=len, reverse=True):
        message = message.replace(path.rstrip("/") + "/", "").replace(path, ".")
    return message
