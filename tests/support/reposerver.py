"""``tether repo-server`` as a child process, started as an operator would, with no cluster access.

Its environment is the scrubbed minimum (``_process.base_env``: no ``KUBECONFIG``), its ``HOME``
an empty directory (no ``~/.kube``); only the tool cache is pointed at the machine's builds.
"""

from __future__ import annotations

import dataclasses
import os
import re
import secrets
import sys
import time
from pathlib import Path

import tether
from tether.adapters import _process
from tether.adapters.devcluster import tools

_LISTENING = re.compile(r"tether repo-server listening on (\S+)")


@dataclasses.dataclass
class RepoServer:
    """A running (or stopped) repo-server; ``restart`` brings it back on the same address."""

    directory: Path
    token: str
    url: str = ""
    extra_args: tuple[str, ...] = ()
    daemon: _process.Daemon | None = None

    @property
    def token_file(self) -> Path:
        return self.directory / "token"

    @property
    def log_path(self) -> Path:
        return self.directory / "repo-server.log"

    @property
    def env(self) -> dict[str, str]:
        home = self.directory / "home"
        home.mkdir(exist_ok=True)
        env = _process.base_env(
            {
                "HOME": str(home),
                "TETHER_TOOLS_CACHE": str(tools.cache_dir()),
                # The tether under test (a worktree's), not whichever one is installed.
                "PYTHONPATH": str(Path(tether.__file__).resolve().parents[1]),
            }
        )
        env.pop("KUBECONFIG", None)
        env.pop("XDG_CACHE_HOME", None)
        # The tether under test, also when it is a work tree beside the installed one.
        env["PYTHONPATH"] = str(Path(tether.__file__).resolve().parents[1])
        return env

    def start(self, listen: str = "127.0.0.1:0", timeout: float = 30.0) -> RepoServer:
        """Start ``python -m tether repo-server`` and wait for the address it prints."""
        argv = [
            sys.executable,
            "-m",
            "tether",
            "repo-server",
            "--listen",
            listen,
            "--token-file",
            str(self.token_file),
            "--cache-dir",
            str(self.directory / "cache"),
            "-vv",
            *self.extra_args,
        ]
        offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        self.daemon = _process.spawn(
            "tether-repo-server",
            argv,
            log_path=str(self.log_path),
            env=self.env,
            die_with_parent=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = _LISTENING.search(self.log_path.read_text(errors="replace")[offset:])
            if found:
                self.url = found.group(1)
                return self
            if not self.daemon.alive():
                break
            time.sleep(0.05)
        output = self.output()[-3000:]
        self.stop()
        raise RuntimeError(f"the repo-server did not start:\n{output}")

    def restart(self) -> RepoServer:
        """Start again on the address it had (the controller knows it by that URL)."""
        host_port = self.url.split("://", 1)[1]
        return self.start(listen=host_port)

    def stop(self) -> None:
        """SIGTERM, as a rolling update would."""
        if self.daemon is not None:
            self.daemon.stop(grace=15)

    def output(self) -> str:
        """Everything it printed, stdout and stderr."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def repo_server(directory: Path, *extra_args: str) -> RepoServer:
    """A started repo-server with a fresh random token in ``directory/token`` (mode 0600)."""
    directory.mkdir(parents=True, exist_ok=True)
    server = RepoServer(directory, secrets.token_hex(32), extra_args=tuple(extra_args))
    fd = os.open(server.token_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(server.token + "\n")
    return server.start()
