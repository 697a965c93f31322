"""Real Git servers on loopback for tests: smart HTTP (lighttpd + git http-backend, basic auth),
SSH (a private sshd with git-shell) and ``git daemon``, plus a seed repository with history.

Each server serves the bare repositories under one root directory; ``publish`` puts a seed there.
Nothing listens beyond 127.0.0.1.
"""

from __future__ import annotations

import dataclasses
import getpass
import http.server
import os
import shutil
import socket
import threading
import time
from collections.abc import Mapping
from pathlib import Path

from tether.adapters import _process

GIT_HTTP_BACKEND = "/usr/lib/git-core/git-http-backend"
LIGHTTPD = shutil.which("lighttpd") or "/usr/sbin/lighttpd"
SSHD = "/usr/sbin/sshd"

_GIT_ENV = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_AUTHOR_NAME": "tether tests",
    "GIT_AUTHOR_EMAIL": "tests@tether.invalid",
    "GIT_COMMITTER_NAME": "tether tests",
    "GIT_COMMITTER_EMAIL": "tests@tether.invalid",
    "GIT_AUTHOR_DATE": "2026-01-01T00:00:00Z",
    "GIT_COMMITTER_DATE": "2026-01-01T00:00:00Z",
}


def git(*args: str, cwd: str | Path | None = None) -> str:
    """Run git with a fixed identity and no host config; returns stdout."""
    done = _process.run_sync(
        ["git", *args], cwd=str(cwd) if cwd else None, env=_process.base_env(_GIT_ENV)
    )
    return done.stdout.decode().strip()


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_for_port(port: int, daemon: _process.Daemon, timeout: float = 15.0) -> None:
    """Block until something accepts on 127.0.0.1:``port``; fail with the server's log if not."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not daemon.alive():
            break
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.settimeout(0.2)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    log = Path(daemon.log_path).read_text(errors="replace")[-3000:]
    daemon.stop()
    raise RuntimeError(f"{daemon.name} did not listen on 127.0.0.1:{port}:\n{log}")


# --- a repository with history -------------------------------------------------------------


@dataclasses.dataclass
class SeedRepo:
    """A working repository whose history tests know by label; ``publish`` copies it bare."""

    work: Path
    shas: dict[str, str] = dataclasses.field(default_factory=dict)

    def git(self, *args: str) -> str:
        """Run git in the working tree."""
        return git(*args, cwd=self.work)

    def commit(self, label: str, files: Mapping[str, str | None], message: str = "") -> str:
        """Write (or, for ``None``, delete) files, commit them, remember the SHA under ``label``."""
        for rel, content in files.items():
            path = self.work / rel
            if content is None:
                path.unlink()
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(content)
        self.git("add", "-A")
        self.git("commit", "--quiet", "--allow-empty", "-m", message or label)
        self.shas[label] = self.git("rev-parse", "HEAD")
        return self.shas[label]

    def tag(self, name: str, label: str, *, annotated: bool = False) -> None:
        """Tag the commit remembered as ``label``."""
        if annotated:
            self.git("tag", "-a", "-m", f"release {name}", name, self.shas[label])
        else:
            self.git("tag", name, self.shas[label])

    def publish(self, bare: Path) -> Path:
        """Replace ``bare`` with a bare copy holding every ref, ``refs/pull/*`` included."""
        if bare.exists():
            shutil.rmtree(bare)
        bare.parent.mkdir(parents=True, exist_ok=True)
        git("init", "--quiet", "--bare", str(bare))
        git("symbolic-ref", "HEAD", "refs/heads/main", cwd=bare)
        self.git("push", "--quiet", "--mirror", str(bare))
        git("update-server-info", cwd=bare)
        return bare


def create_seed_repo(work: Path) -> SeedRepo:
    """A repository with the history the Git tests rely on.

    Labels: ``c1``..``c5`` on ``main`` (tags ``v1.0.0`` light, ``v1.1.0`` and ``v1.2.0``
    annotated, ``v1.3.0-rc.1`` and ``v2.0.0``), ``dev1`` on branch ``dev`` (from ``c3``), and
    ``pr7`` reachable only from ``refs/pull/7/head``.
    """
    work.mkdir(parents=True, exist_ok=True)
    git("init", "--quiet", "-b", "main", str(work))
    repo = SeedRepo(work)
    repo.commit("c1", {"README.md": "seed\n", "app/deploy.yaml": "replicas: 1\n"})
    repo.tag("v1.0.0", "c1")
    repo.commit("c2", {"app/deploy.yaml": "replicas: 2\n"})
    repo.tag("v1.1.0", "c2", annotated=True)
    repo.commit("c3", {"app/service.yaml": "port: 80\n"})
    repo.tag("v1.2.0", "c3", annotated=True)
    repo.commit("c4", {"app/deploy.yaml": "replicas: 3\n"})
    repo.tag("v1.3.0-rc.1", "c4")
    repo.commit("c5", {"app/service.yaml": None, "app/config.yaml": "debug: false\n"})
    repo.tag("v2.0.0", "c5", annotated=True)
    repo.git("checkout", "--quiet", "-b", "dev", repo.shas["c3"])
    repo.commit("dev1", {"app/deploy.yaml": "replicas: 9\n"})
    repo.git("checkout", "--quiet", "-b", "pr", repo.shas["c5"])
    repo.commit("pr7", {"app/deploy.yaml": "replicas: 7\n"})
    repo.git("update-ref", "refs/pull/7/head", repo.shas["pr7"])
    repo.git("checkout", "--quiet", "main")
    repo.git("branch", "--quiet", "-D", "pr")
    return repo


# --- servers --------------------------------------------------------------------------------


@dataclasses.dataclass
class GitDaemonServer:
    """``git daemon`` serving ``root`` read-only over git://127.0.0.1:port."""

    root: Path
    state: Path
    port: int = 0
    daemon: _process.Daemon | None = None

    def start(self) -> GitDaemonServer:
        """Start (again on the same port, after ``stop``) and wait until it accepts connections."""
        self.state.mkdir(parents=True, exist_ok=True)
        self.port = self.port or free_port()
        self.daemon = _process.spawn(
            "git-daemon",
            [
                "git",
                "daemon",
                "--reuseaddr",
                "--export-all",
                "--informative-errors",
                "--listen=127.0.0.1",
                f"--port={self.port}",
                f"--base-path={self.root}",
                str(self.root),
            ],
            log_path=str(self.state / "git-daemon.log"),
        )
        wait_for_port(self.port, self.daemon)
        return self

    def url(self, rel: str) -> str:
        """The git:// URL of the repository at ``root/rel``."""
        return f"git://127.0.0.1:{self.port}/{rel}"

    def stop(self) -> None:
        """Stop the daemon."""
        if self.daemon is not None:
            self.daemon.stop(grace=5)


@dataclasses.dataclass
class HttpGitServer:
    """lighttpd running ``git http-backend``: ``/git/public/*`` is anonymous, ``/git/private/*``
    needs basic auth with ``username``/``password``. Repositories live under ``root/public`` and
    ``root/private``."""

    root: Path
    state: Path
    username: str = "deployer"
    password: str = "http-canary-Pa55word"
    port: int = 0
    daemon: _process.Daemon | None = None

    def start(self) -> HttpGitServer:
        """Write the lighttpd config, start it, and wait until it accepts connections."""
        self.state.mkdir(parents=True, exist_ok=True)
        (self.root / "public").mkdir(parents=True, exist_ok=True)
        (self.root / "private").mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        users = self.state / "users"
        users.write_text(f"{self.username}:{self.password}\n")
        users.chmod(0o600)
        conf = self.state / "lighttpd.conf"
        conf.write_text(
            f"""
server.modules = (
  "mod_alias", "mod_setenv", "mod_auth", "mod_authn_file", "mod_cgi", "mod_accesslog"
)
server.document-root = "{self.root}"
server.bind = "127.0.0.1"
server.port = {self.port}
server.errorlog = "{self.state}/error.log"
accesslog.filename = "{self.state}/access.log"
server.max-request-size = 0
auth.backend = "plain"
auth.backend.plain.userfile = "{users}"
alias.url = ("/git" => "{GIT_HTTP_BACKEND}")
$HTTP["url"] =~ "^/git" {{
  cgi.assign = ("" => "")
  setenv.set-environment = (
    "GIT_PROJECT_ROOT" => "{self.root}",
    "GIT_HTTP_EXPORT_ALL" => "1",
    "GIT_CONFIG_NOSYSTEM" => "1",
    "PATH" => "/usr/local/bin:/usr/bin:/bin"
  )
}}
$HTTP["url"] =~ "^/git/private/" {{
  auth.require = ("" => ("method" => "basic", "realm" => "git", "require" => "valid-user"))
}}
"""
        )
        self.daemon = _process.spawn(
            "lighttpd",
            [LIGHTTPD, "-D", "-f", str(conf)],
            log_path=str(self.state / "lighttpd.log"),
        )
        wait_for_port(self.port, self.daemon)
        return self

    def url(self, rel: str) -> str:
        """The http:// URL of ``root/rel`` (``public/x.git`` or ``private/x.git``)."""
        return f"http://127.0.0.1:{self.port}/git/{rel}"

    def stop(self) -> None:
        """Stop lighttpd."""
        if self.daemon is not None:
            self.daemon.stop(grace=5)


@dataclasses.dataclass
class SshGitServer:
    """A private ``sshd`` on a loopback port: one authorized key, forced to ``git-shell``.

    ``known_hosts`` is the line a client needs; ``client_key`` the private key it may use.
    """

    root: Path
    state: Path
    port: int = 0
    user: str = dataclasses.field(default_factory=getpass.getuser)
    daemon: _process.Daemon | None = None

    @property
    def client_key(self) -> str:
        """The authorized private key (OpenSSH format)."""
        return (self.state / "client_key").read_text()

    @property
    def known_hosts(self) -> str:
        """A ``known_hosts`` line for this server's host key."""
        host_pub = (self.state / "host_key.pub").read_text().split()
        return f"[127.0.0.1]:{self.port} {host_pub[0]} {host_pub[1]}\n"

    def start(self) -> SshGitServer:
        """Generate keys and config, start sshd, and wait until it accepts connections."""
        self.state.mkdir(parents=True, exist_ok=True)
        os.makedirs("/run/sshd", mode=0o755, exist_ok=True)  # privilege separation directory
        for name in ("host_key", "client_key"):
            if not (self.state / name).exists():
                _process.run_sync(
                    [
                        "ssh-keygen",
                        "-q",
                        "-t",
                        "ed25519",
                        "-N",
                        "",
                        "-C",
                        name,
                        "-f",
                        str(self.state / name),
                    ]
                )
        client_pub = (self.state / "client_key.pub").read_text().strip()
        authorized = self.state / "authorized_keys"
        authorized.write_text(
            'command="git-shell -c \\"$SSH_ORIGINAL_COMMAND\\"",'
            f"no-port-forwarding,no-X11-forwarding,no-agent-forwarding,no-pty {client_pub}\n"
        )
        authorized.chmod(0o600)
        self.port = free_port()
        conf = self.state / "sshd_config"
        conf.write_text(
            f"""Port {self.port}
ListenAddress 127.0.0.1
HostKey {self.state}/host_key
PidFile {self.state}/sshd.pid
AuthorizedKeysFile {authorized}
AllowUsers {self.user}
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
AllowTcpForwarding no
X11Forwarding no
PrintMotd no
LogLevel VERBOSE
"""
        )
        self.daemon = _process.spawn(
            "sshd",
            [SSHD, "-D", "-e", "-f", str(conf)],
            log_path=str(self.state / "sshd.log"),
        )
        wait_for_port(self.port, self.daemon)
        return self

    def url(self, rel: str) -> str:
        """The ssh:// URL of the repository at ``root/rel``."""
        return f"ssh://{self.user}@127.0.0.1:{self.port}{self.root / rel}"

    def scp_url(self, rel: str) -> str:
        """The scp-style form; it cannot carry a port, so only usable through ssh config."""
        return f"{self.user}@127.0.0.1:{self.root / rel}"

    def stop(self) -> None:
        """Stop sshd."""
        if self.daemon is not None:
            self.daemon.stop(grace=5)


class _Recorder(http.server.BaseHTTPRequestHandler):
    """Redirects every request to ``server.redirect_to`` if set, else asks for basic auth."""

    server: _RecordingHTTPServer

    def do_GET(self) -> None:
        self.server.seen.append((self.path, self.headers.get("Authorization", "")))
        if self.server.redirect_to:
            self.send_response(302)
            self.send_header("Location", self.server.redirect_to + self.path)
        else:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="trap"')
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_POST = do_GET

    def log_message(self, format: str, *args: object) -> None:
        del format, args  # quiet: tests read ``seen``


class _RecordingHTTPServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, redirect_to: str) -> None:
        super().__init__(("127.0.0.1", 0), _Recorder)
        self.redirect_to = redirect_to
        self.seen: list[tuple[str, str]] = []


class RecordingHTTPServer:
    """A plain HTTP server on loopback that records each request's path and Authorization
    header; it either redirects everything to ``redirect_to`` or answers 401 (a credential trap).
    """

    def __init__(self, redirect_to: str = "") -> None:
        self._server = _RecordingHTTPServer(redirect_to)
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def seen(self) -> list[tuple[str, str]]:
        """``(path, Authorization header)`` of every request so far."""
        return list(self._server.seen)

    def url(self, rel: str = "") -> str:
        """``http://127.0.0.1:port/rel``."""
        return f"http://127.0.0.1:{self.port}/{rel}"

    def __enter__(self) -> RecordingHTTPServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
