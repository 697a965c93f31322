"""The symlink scan: once per read-only checkout, also for renders that arrive together."""

from __future__ import annotations

import concurrent.futures
import os
import pathlib
import time

import pytest

from tether.adapters.render import _jail
from tether.model.errors import InvalidInputError

from .conftest import write


def scan_together(root: pathlib.Path, renders: int = 4) -> list[BaseException | None]:
    with concurrent.futures.ThreadPoolExecutor(renders) as pool:
        futures = [pool.submit(_jail.scan_symlinks, str(root)) for _ in range(renders)]
        return [f.exception() for f in futures]


@pytest.fixture
def read_only(repo: pathlib.Path):
    write(repo, {"app/ok.yaml": "kind: ConfigMap\n"})
    yield repo
    repo.chmod(0o755)


def slow_counting_walk(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    walks: list[str] = []
    real_walk = os.walk

    def walk(top, *args, **kwargs):
        walks.append(top)
        time.sleep(0.1)  # long enough for the other renders to arrive during the scan
        return real_walk(top, *args, **kwargs)

    monkeypatch.setattr(os, "walk", walk)
    return walks


def test_renders_arriving_together_scan_a_read_only_checkout_once(read_only, monkeypatch):
    read_only.chmod(0o555)
    walks = slow_counting_walk(monkeypatch)
    assert scan_together(read_only) == [None] * 4
    assert len(walks) == 1
    _jail.scan_symlinks(str(read_only))
    assert len(walks) == 1


def test_every_render_waiting_on_a_refused_checkout_is_refused(read_only, workspace, monkeypatch):
    os.symlink(workspace / "outside", read_only / "escape")
    read_only.chmod(0o555)
    slow_counting_walk(monkeypatch)
    errors = scan_together(read_only)
    assert all(isinstance(e, InvalidInputError) for e in errors), errors
    assert "escape: out-of-bounds symlink" in str(errors[0])


def test_a_writable_tree_is_scanned_on_every_render(read_only, monkeypatch):
    walks = slow_counting_walk(monkeypatch)
    _jail.scan_symlinks(str(read_only))
    _jail.scan_symlinks(str(read_only))
    assert len(walks) == 2
