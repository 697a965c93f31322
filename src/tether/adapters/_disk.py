"""Directories on disk that caches create and evict: marking use, least-recently-used pruning.

Shared by the Git tree cache and the pulled-chart cache. A directory's mtime records its last use.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterable

SCRATCH_PREFIXES = (".", "render-", "pull-", "helm-auth-")
"""Names of work in progress (a tree being unpacked, a render's scratch, a chart being pulled,
helm's private credentials for one command) or of something already evicted. Left behind only
by a killed process; removed once idle."""


def touch(path: str) -> None:
    """Record a directory's use now, best effort."""
    with contextlib.suppress(OSError):
        os.utime(path)


def force_rmtree(path: str) -> None:
    """Remove a tree, read-only parts included."""
    for root, dirs, _ in os.walk(path):
        for name in dirs:
            with contextlib.suppress(OSError):
                os.chmod(os.path.join(root, name), 0o755)
    with contextlib.suppress(OSError):
        os.chmod(path, 0o755)
    shutil.rmtree(path, ignore_errors=True)


def subdirectories(parent: str, depth: int = 1) -> list[str]:
    """Directories exactly ``depth`` levels below ``parent`` (none when it does not exist)."""
    level = [parent]
    for _ in range(depth):
        below: list[str] = []
        for directory in level:
            with contextlib.suppress(OSError), os.scandir(directory) as entries:
                below.extend(e.path for e in entries if e.is_dir(follow_symlinks=False))
        level = below
    return level


def prune_least_recent(
    directories: Iterable[str], *, keep: int, min_idle_s: float, now: float
) -> list[str]:
    """Delete the least recently used directories beyond the newest ``keep``; returns them.

    A directory used in the last ``min_idle_s`` seconds stays whatever ``keep`` says: a render
    may still be reading it. Scratch left by a killed process goes once idle, ``keep`` aside.
    """
    found = []
    removed = []
    for path in directories:
        try:
            used_at = os.stat(path, follow_symlinks=False).st_mtime
        except OSError:
            continue
        if not os.path.basename(path).startswith(SCRATCH_PREFIXES):
            found.append((used_at, path))
        elif now - used_at >= min_idle_s:
            force_rmtree(path)
            removed.append(path)
    found.sort(reverse=True)
    for used_at, path in found[keep:]:
        if now - used_at < min_idle_s:
            continue
        # Renamed away first, so no reader finds a half-deleted tree under its name.
        parent, name = os.path.split(path)
        doomed = os.path.join(parent, f".{name}.evicted")
        try:
            os.rename(path, doomed)
        except OSError:
            continue
        force_rmtree(doomed)
        removed.append(path)
    return removed
