"""A Git repository for local trials: committed from a folder, served by ``git daemon`` on loopback.

``tether demo`` uses it so the sample app of apps comes from a real Git server, exactly as a
fork on a hosting service would, with no network beyond 127.0.0.1.
"""

from __future__ import annotations

import dataclasses
import pathlib
import shutil
import socket
import time

from tether.adapters import _process
from tether.model.errors import DevClusterError

GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "tether demo",
    "GIT_AUTHOR_EMAIL": "demo@tether.invalid",
    "GIT_COMMITTER_NAME": "tether demo",
    "GIT_COMMITTER_EMAIL": "demo@tether.invalid",
}


@dataclasses.dataclass(frozen=True)
class ServedRepo:
    """A bare repository served over git://, and a working clone a person can edit and push."""

    url: str
    working_copy: pathlib.Path
    bare: pathlib.Path
    pid: int


def _git(*args: str, cwd: pathlib.Path) -> None:
    _process.run_sync(["git", *args], cwd=str(cwd), env=_process.base_env(GIT_IDENTITY), timeout=60)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve_folder(
    content: pathlib.Path, directory: pathlib.Path, name: str, *, replace: dict[str, str]
) -> ServedRepo:
    """Commit ``content`` (with ``replace`` applied to every file) and serve it.

    ``replace`` may use ``{url}``, replaced with the served repository's own URL.
    """
    port = _free_port()
    url = f"git://127.0.0.1:{port}/{name}.git"
    work = directory / name
    bare = directory / "served" / f"{name}.git"
    for path in (work, bare):
        if path.exists():
            shutil.rmtree(path)
    shutil.copytree(content, work)
    for file in work.rglob("*"):
        if file.is_file():
            text = file.read_text()
            for old, new in replace.items():
                text = text.replace(old, new.format(url=url))
            file.write_text(text)
    _git("init", "--quiet", "-b", "main", cwd=work)
    _git("add", "-A", cwd=work)
    _git("commit", "--quiet", "-m", "The demo applications", cwd=work)
    bare.parent.mkdir(parents=True, exist_ok=True)
    _git("clone", "--quiet", "--bare", str(work), str(bare), cwd=directory)
    _git("remote", "add", "served", str(bare), cwd=work)
    daemon = _process.spawn(
        "git-daemon",
        [
            "git",
            "daemon",
            "--reuseaddr",
            "--export-all",
            "--listen=127.0.0.1",
            f"--port={port}",
            f"--base-path={bare.parent}",
            str(bare.parent),
        ],
        log_path=str(directory / "git-daemon.log"),
    )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return ServedRepo(url, work, bare, daemon.pid)
        if not daemon.alive():
            break
        time.sleep(0.1)
    daemon.stop()
    raise DevClusterError(f"git daemon did not start on 127.0.0.1:{port}")
