"""Session-wide Git servers (HTTP with basic auth, SSH, git daemon) serving one seed repository."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import gitservers


@dataclasses.dataclass
class GitServers:
    """The three servers, the seed repository and its URLs on each."""

    root: Path
    seed: gitservers.SeedRepo
    http: gitservers.HttpGitServer
    ssh: gitservers.SshGitServer
    daemon: gitservers.GitDaemonServer

    @property
    def http_public(self) -> str:
        return self.http.url("public/app.git")

    @property
    def http_private(self) -> str:
        return self.http.url("private/app.git")

    @property
    def ssh_url(self) -> str:
        return self.ssh.url("public/app.git")

    @property
    def git_url(self) -> str:
        return self.daemon.url("public/app.git")

    def publish(self, seed: gitservers.SeedRepo, rel: str) -> Path:
        """Serve ``seed`` (again) at ``root/rel`` on every server."""
        return seed.publish(self.root / rel)


@pytest.fixture(scope="session")
def git_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GitServers]:
    base = tmp_path_factory.mktemp("gitservers")
    root = base / "srv"
    seed = gitservers.create_seed_repo(base / "seed")
    seed.publish(root / "public" / "app.git")
    seed.publish(root / "private" / "app.git")
    http = gitservers.HttpGitServer(root, base / "http").start()
    try:
        ssh = gitservers.SshGitServer(root, base / "ssh").start()
        try:
            daemon = gitservers.GitDaemonServer(root, base / "daemon").start()
            try:
                yield GitServers(root, seed, http, ssh, daemon)
            finally:
                daemon.stop()
        finally:
            ssh.stop()
    finally:
        http.stop()
