"""Unpacking a commit's archive: tar tricks are refused by name, absolute paths stay inside."""

from __future__ import annotations

import io
import os
import re
import tarfile

import pytest

from tether.adapters.git import trees
from tether.model.errors import GitError


def archive(*members: tarfile.TarInfo, data: bytes = b"x") -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for member in members:
            if member.isreg():
                member.size = len(data)
                tar.addfile(member, io.BytesIO(data))
            else:
                tar.addfile(member)
    return buffer.getvalue()


def member(name: str, kind: bytes = tarfile.REGTYPE, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = link
    return info


def unpack(tmp_path, data: bytes) -> str:
    dest = tmp_path / "tree"
    dest.mkdir()
    trees.extract_read_only(data, str(dest), "https://git.example/r.git", "abc123")
    return str(dest)


@pytest.mark.parametrize(
    ("entry", "reason"),
    [
        (member("../escape"), "'../escape' points outside the repository"),
        (member("link", tarfile.SYMTYPE, "/etc/passwd"), "'link' links to an absolute path"),
        (member("link", tarfile.SYMTYPE, "../../x"), "'link' links outside the repository"),
        (member("hard", tarfile.LNKTYPE, "../../etc/passwd"), "'hard' links outside"),
        (member("fifo", tarfile.FIFOTYPE), "'fifo' is a device or a FIFO"),
        (member("dev", tarfile.CHRTYPE), "'dev' is a device or a FIFO"),
    ],
)
def test_a_tar_trick_in_a_commit_is_refused_naming_the_member(tmp_path, entry, reason):
    with pytest.raises(
        GitError, match=re.escape("commit abc123 of repository 'https://git.example/r.git'")
    ) as err:
        unpack(tmp_path, archive(entry))
    assert reason in str(err.value)
    assert not os.path.exists(tmp_path / "escape")


def test_an_absolute_member_path_is_re_rooted_inside_the_tree(tmp_path):
    dest = unpack(tmp_path, archive(member("/abs/file.yaml")))
    assert os.path.isfile(os.path.join(dest, "abs", "file.yaml"))
    assert not os.path.exists("/abs/file.yaml")


def test_a_truncated_archive_is_a_clean_error(tmp_path):
    data = archive(member("a.yaml"), member("b.yaml"))
    with pytest.raises(GitError, match="unreadable archive"):
        unpack(tmp_path, data[:700])
