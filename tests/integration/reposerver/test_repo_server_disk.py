"""The repo-server keeps its render caches on disk within its settings, as the controller does."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime
import os
import secrets

import pytest

from tests.support import tetherenv
from tether import bootstrap
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
