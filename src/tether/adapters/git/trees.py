"""Read-only checked-out trees: unpacking a commit's archive, marking use, removing them."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import stat
import tarfile

from tether.model.errors import GitError


def extract_read_only(data: bytes, dest: str, display: str, sha: str) -> None:
    """Unpack a ``git archive`` tar into ``dest`` and make it read-only; refuse escaping links."""
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as archive:
            archive.extractall(dest, filter="data")
    except tarfile.FilterError as err:
        member = err.tarinfo.name if err.tarinfo is not None else "?"
        raise GitError(
            f"commit {sha} of repository {display!r} refused: {member!r} points outside the "
            "repository"
        ) from None
    for root, dirs, files in os.walk(dest):
        for name in files:
            path = os.path.join(root, name)
            mode = os.lstat(path).st_mode
            if stat.S_ISREG(mode):
                os.chmod(path, stat.S_IMODE(mode) & 0o555)
        for name in dirs:
            os.chmod(os.path.join(root, name), 0o555)
    os.chmod(dest, 0o555)


def touch(path: str) -> None:
    """Record a tree's use now, best effort."""
    # The tree's mtime records its last use, for prune_trees.
    with contextlib.suppress(OSError):
        os.utime(path)


def force_rmtree(path: str) -> None:
    """Remove a read-only tree, making it writable first."""
    for root, dirs, _ in os.walk(path):
        for name in dirs:
            with contextlib.suppress(OSError):
                os.chmod(os.path.join(root, name), 0o755)
    with contextlib.suppress(OSError):
        os.chmod(path, 0o755)
    shutil.rmtree(path, ignore_errors=True)
