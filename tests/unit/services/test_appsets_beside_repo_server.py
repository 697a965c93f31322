"""A controller rendering through a repo-server holds no Git: its git generator says so."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import pytest

from tether import ports
from tether.bootstrap import appsets as wiring
from tether.services.appsetgen import GenerationError, Generator


async def _no_secrets() -> list[dict[str, Any]]:
    return []


def test_a_git_generator_beside_a_repo_server_fails_the_pass_with_the_reason() -> None:
    generator = Generator(wiring._NoGitBesideRepoServer(), cast(ports.Evaluator, None), _no_secrets)
    spec = {"generators": [{"git": {"repoURL": "https://git.test/r.git", "revision": "main",
                                    "directories": [{"path": "apps/*"}]}}]}  # fmt: skip
    with pytest.raises(GenerationError, match="not available when the controller renders"):
        asyncio.run(generator.params(spec, go=False, options=()))
