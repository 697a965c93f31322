"""Read-only checked-out trees: unpacking a commit's archive within limits."""

from __future__ import annotations

import io
import os
import stat
import tarfile

from tether.model.errors import GitError

MAX_TREE_ENTRIES = 100_000
"""Files and directories one commit may hold: 80 times kubeflow/manifests (about 1,250). Each
costs about 1 KiB while unpacking, so a crafted commit of a million empty files is refused."""


_REFUSALS: dict[type[tarfile.FilterError], str] = {
    # What tarfile's "data" filter refuses, in words (absolute member paths are re-rooted
    # inside the tree by the filter itself, not refused).
    tarfile.OutsideDestinationError: "points outside the repository",
    tarfile.LinkOutsideDestinationError: "links outside the repository",
    tarfile.AbsoluteLinkError: "links to an absolute path",
    tarfile.SpecialFileError: "is a device or a FIFO, which no repository holds",
}


def extract_read_only(data: bytes, dest: str, display: str, sha: str) -> None:
    """Unpack a ``git archive`` tar into ``dest`` and make it read-only.

    Refuses links that point outside the tree and trees of more than ``MAX_TREE_ENTRIES``; the
    bytes are already bounded by what ``git archive`` may print.
    """
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as archive:
            for count, member in enumerate(archive, 1):
                if count > MAX_TREE_ENTRIES:
                    raise GitError(
                        f"commit {sha} of repository {display!r} refused: it holds more than "
                        f"{MAX_TREE_ENTRIES} files and directories"
                    )
                archive.extract(member, dest, filter="data")
    except tarfile.FilterError as err:
        name = err.tarinfo.name if err.tarinfo is not None else "?"
        why = _REFUSALS.get(type(err), "cannot be unpacked safely")
        raise GitError(f"commit {sha} of repository {display!r} refused: {name!r} {why}") from None
    except tarfile.TarError as err:
        raise GitError(
            f"commit {sha} of repository {display!r}: unreadable archive ({err})"
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
