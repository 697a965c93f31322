"""The repo-server keeps its render caches on disk within its settings, as the controller does,
and a restarted one answers what it rendered before from there."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime
import os
import pathlib
import secrets
import stat

import pytest

from tests.support import reposerver, tetherenv
from tether import bootstrap
from tether.adapters.devcluster import tools
from tether.adapters.reposerver import RepoServerClient
from tether.bootstrap import Listen
from tether.cli.commands import reposerver as command
from tether.core.sources import repocreds
from tether.core.sources.rendered import Rendered
from tether.model.application import parse_application
from tether.settings import Settings

pytestmark = pytest.mark.timeout(120)

CONFIG = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings}\ndata: {version: '%d'}\n"


async def test_idle_trees_beyond_the_limit_are_pruned_while_the_repo_server_renders_new_commits(
    tmp_path,
):
    repo = tetherenv.serve_repo(tmp_path / "git", {"app/cm.yaml": CONFIG % 1})
    settings = dataclasses.replace(
        Settings(),
        cache_dir=str(tmp_path / "cache"),
        git_trees_kept=1,
        disk_cache_idle=datetime.timedelta(seconds=1),
        disk_prune_period=datetime.timedelta(seconds=0.3),
    )
    token = secrets.token_hex(32)
    urls: asyncio.Queue[str] = asyncio.Queue()
    serving = asyncio.create_task(
        command.serve(
            bootstrap.repo_server_rendering(settings),
            Listen("127.0.0.1", 0),
            token,
            listening=urls.put_nowait,
        )
    )
    url = await asyncio.wait_for(urls.get(), 30)
    client = RepoServerClient(url, token, lambda _app: repocreds.CredentialStore())
    app = parse_application(tetherenv.application("moving", "tether", repo.url, "app", "moving"))
    trees = tmp_path / "cache" / "git" / "trees"
    try:
        for version in (2, 3, 4):
            sha = repo.commit({"app/cm.yaml": CONFIG % version})
            result = await client.render_application(app, refresh=True)
            assert isinstance(result, Rendered), result
            assert result.revisions == (sha,)

        def only_the_newest_tree() -> list[str]:
            kept = [name for name in os.listdir(trees) if not name.startswith(".")]
            return kept if len(kept) == 1 else []

        kept = await tetherenv.eventually(only_the_newest_tree, 30, "older trees pruned")
        assert kept[0].endswith(sha)
    finally:
        await client.aclose()
        serving.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await serving
        repo.server.stop()


class CountedKustomize(reposerver.RepoServer):
    """A repo-server whose kustomize is a wrapper noting each ``build`` in ``calls``."""

    @property
    def calls(self) -> pathlib.Path:
        return self.directory / "kustomize-builds"

    @property
    def env(self) -> dict[str, str]:
        wrapper = self.directory / "kustomize"
        if not wrapper.exists():
            real = tools.path_of("kustomize")
            wrapper.write_text(
                f'#!/bin/sh\n[ "$1" = build ] && echo build >> {self.calls}\nexec {real} "$@"\n'
            )
            wrapper.chmod(0o755)
        return {**super().env, "TETHER_KUSTOMIZE": str(wrapper)}


async def test_a_restarted_repo_server_answers_from_its_disk_without_running_a_tool(tmp_path):
    repo = tetherenv.serve_repo(
        tmp_path / "git",
        {"app/kustomization.yaml": "resources: [cm.yaml]\n", "app/cm.yaml": CONFIG % 1},
    )
    (tmp_path / "rs").mkdir()
    server = CountedKustomize(tmp_path / "rs", secrets.token_hex(32))
    server.token_file.write_text(server.token + "\n")
    server.token_file.chmod(0o600)
    app = parse_application(tetherenv.application("kept", "tether", repo.url, "app", "kept"))

    async def render() -> Rendered:
        client = RepoServerClient(server.url, server.token, lambda _a: repocreds.CredentialStore())
        try:
            result = await client.render_application(app)
        finally:
            await client.aclose()
        assert isinstance(result, Rendered), result
        return result

    try:
        server.start()
        first = await render()
        assert server.calls.read_text().split() == ["build"]
        server.stop()
        server.start()
        second = await render()
    finally:
        server.stop()
        repo.server.stop()
    assert server.calls.read_text().split() == ["build"], "the restart ran kustomize again"
    assert second == first
    entries = [p for p in (tmp_path / "rs" / "cache" / "manifests").rglob("*") if p.is_file()]
    assert [stat.S_IMODE(p.stat().st_mode) for p in entries] == [0o600]
