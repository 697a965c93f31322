"""Disk caches: least-recently-used pruning, scratch left by a kill, unpacking within limits."""

from __future__ import annotations

import io
import os
import tarfile
import time
from pathlib import Path

import pytest

from tether.adapters import _disk
from tether.adapters.git import trees
from tether.model.errors import GitError

HOUR = 3600.0


def made(parent: Path, name: str, age_s: float) -> str:
    path = parent / name
    path.mkdir(parents=True)
    at = time.time() - age_s
    os.utime(path, (at, at))
    return str(path)


def test_the_least_recently_used_directories_beyond_the_limit_go_first(tmp_path):
    old, older, oldest = (
        made(tmp_path, n, a) for n, a in (("a", 2 * HOUR), ("b", 3 * HOUR), ("c", 4 * HOUR))
    )
    removed = _disk.prune_least_recent(
        _disk.subdirectories(str(tmp_path)), keep=1, min_idle_s=HOUR, now=time.time()
    )
    assert removed == [older, oldest]
    assert sorted(os.listdir(tmp_path)) == ["a"]
    assert os.path.isdir(old)


def test_a_directory_used_recently_stays_whatever_the_limit(tmp_path):
    made(tmp_path, "busy", 60)
    made(tmp_path, "idle", 2 * HOUR)
    removed = _disk.prune_least_recent(
        _disk.subdirectories(str(tmp_path)), keep=0, min_idle_s=HOUR, now=time.time()
    )
    assert [os.path.basename(p) for p in removed] == ["idle"]
    assert os.listdir(tmp_path) == ["busy"]


def test_scratch_a_killed_process_left_goes_once_idle_and_does_not_count_against_the_limit(
    tmp_path,
):
    made(tmp_path, ".abc-123.tmp-x", 2 * HOUR)
    made(tmp_path, "render-xyz", 2 * HOUR)
    made(tmp_path, "helm-auth-q1", 2 * HOUR)  # helm's private credentials of a killed pull
    made(tmp_path, "pull-new", 10)  # a pull in progress
    made(tmp_path, "kept", 2 * HOUR)
    removed = _disk.prune_least_recent(
        _disk.subdirectories(str(tmp_path)), keep=1, min_idle_s=HOUR, now=time.time()
    )
    assert sorted(os.path.basename(p) for p in removed) == [
        ".abc-123.tmp-x",
        "helm-auth-q1",
        "render-xyz",
    ]
    assert sorted(os.listdir(tmp_path)) == ["kept", "pull-new"]


def test_read_only_trees_are_removed_whole(tmp_path):
    tree = made(tmp_path, "tree", 2 * HOUR)
    Path(tree, "sub").mkdir()
    Path(tree, "sub", "f.yaml").write_text("a: 1\n")
    for path in (Path(tree, "sub", "f.yaml"), Path(tree, "sub"), Path(tree)):
        path.chmod(0o555)
    os.utime(tree, (time.time() - 2 * HOUR,) * 2)
    assert _disk.prune_least_recent([tree], keep=0, min_idle_s=HOUR, now=time.time()) == [tree]
    assert os.listdir(tmp_path) == []


def archive_of(count: int) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:") as archive:
        for index in range(count):
            member = tarfile.TarInfo(f"app/file-{index}.yaml")
            archive.addfile(member, io.BytesIO(b""))
    return buffer.getvalue()


def test_a_commit_with_more_files_than_the_limit_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(trees, "MAX_TREE_ENTRIES", 20)
    trees.extract_read_only(archive_of(20), str(tmp_path / "fits"), "repo", "abc")
    assert len(os.listdir(tmp_path / "fits" / "app")) == 20
    with pytest.raises(GitError, match="holds more than 20 files and directories"):
        trees.extract_read_only(archive_of(21), str(tmp_path / "over"), "repo", "abc")
