"""The one place that runs external programs: git, helm, kustomize, plugins, the control plane.

Every run has an argv list (never a shell), a timeout, an output size limit, and a scrubbed
environment; failures become ``ProcessError`` with stderr trimmed, never the caller's secrets.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence

from tether.core import redact

DEFAULT_TIMEOUT_S = 60.0
"""A render or git call that takes longer than a minute is stuck, not slow (Argo CD uses 60 s)."""

DEFAULT_OUTPUT_LIMIT = 256 * 1024 * 1024
"""Bounds what one tool may print; Kubeflow's whole example renders to about 10 MiB."""

_INHERITED_ENV = (
    "PATH",
    "HOME",
    "LANG",
    "LC_ALL",
    "TMPDIR",
    "USER",
    "GOCACHE",
    "GOMODCACHE",
    "GOPATH",
    "GOTOOLCHAIN",
    "GOPROXY",
    "GOFLAGS",
    "XDG_CACHE_HOME",
)
"""Only these reach a child by default: a tool never sees the controller's credentials."""


STDERR_TAIL_CHARS = 1000
"""How much of a tool's stderr a message carries: the end, where tools print the error."""


class ProcessError(Exception):
    """A program failed, timed out or printed too much."""

    def __init__(
        self,
        argv0: str,
        reason: str,
        stderr: str = "",
        returncode: int | None = None,
        stdout: str = "",
    ):
        self.argv0 = argv0
        self.reason = reason
        self.stderr = stderr
        self.returncode = returncode
        self.stdout = stdout
        """What it printed on stdout before failing (some tools, helm's ``repo update``, say
        why there); never part of the message by itself."""
        super().__init__(f"{argv0} {reason}{tail(stderr)}")


def tail(stderr: str, secrets: Iterable[str] = ()) -> str:
    """The end of a tool's stderr fit for a message (``": ..."``), scrubbed; "" when empty.

    ``secrets`` are values the caller handed the tool (a plugin's environment) that it may echo.
    """
    text = stderr.strip()
    if not text:
        return ""
    return f": {redact.text(text[-STDERR_TAIL_CHARS:], secrets)}"


@dataclasses.dataclass(frozen=True)
class Completed:
    """What a finished program printed."""

    stdout: bytes
    stderr: bytes
    returncode: int


def base_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """A scrubbed environment: the inherited basics plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if k in _INHERITED_ENV}
    env.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin")
    if extra:
        env.update(extra)
    return env


async def run(
    argv: Sequence[str],
    *,
    cwd: str | None = None,
    env: Mapping[str, str] | None = None,
    stdin: bytes | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
    output_limit: int = DEFAULT_OUTPUT_LIMIT,
    check: bool = True,
) -> Completed:
    """Run a program to completion without a shell, killing its process group on timeout."""
    name = os.path.basename(argv[0])
    proc = await asyncio.create_subprocess_exec(
        *argv,
        cwd=cwd,
        env=dict(env) if env is not None else base_env(),
        stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,
    )
    try:
        # asyncio.timeout, not wait_for: wait_for can swallow a cancellation on Python 3.11.
        async with asyncio.timeout(timeout):
            stdout, stderr = await _communicate_bounded(proc, stdin, output_limit)
    except TimeoutError:
        await _kill_and_reap(proc)
        raise ProcessError(name, f"timed out after {timeout:g}s") from None
    except _OutputTooLarge:
        await _kill_and_reap(proc)
        raise ProcessError(name, f"printed more than {output_limit} bytes") from None
    except asyncio.CancelledError:
        await asyncio.shield(_kill_and_reap(proc))
        raise
    code = proc.returncode if proc.returncode is not None else -1
    if check and code != 0:
        raise ProcessError(
            name,
            f"exited with code {code}",
            stderr.decode(errors="replace"),
            code,
            stdout.decode(errors="replace")[-4096:],
        )
    return Completed(stdout, stderr, code)


async def start_worker(
    argv: Sequence[str], *, env: Mapping[str, str] | None = None, line_limit: int = 64 << 20
) -> asyncio.subprocess.Process:
    """Start a long-lived worker speaking over stdin/stdout pipes (stderr dropped).

    The caller owns its life: :func:`stop_worker` when done or past a deadline.
    """
    return await asyncio.create_subprocess_exec(
        *argv,
        env=dict(env) if env is not None else base_env(),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        start_new_session=True,
        limit=line_limit,
    )


async def stop_worker(proc: asyncio.subprocess.Process) -> None:
    """Kill a worker from :func:`start_worker` and reap it."""
    await _kill_and_reap(proc)


class _OutputTooLarge(Exception):
    pass


async def _kill_and_reap(proc: asyncio.subprocess.Process) -> None:
    """Kill the child's process group and collect it.

    The pipes are drained to EOF first: once nobody reads them, asyncio's ``wait()`` can block
    forever on a child that flooded its output before it died.
    """
    _kill_group(proc.pid)

    async def discard(stream: asyncio.StreamReader | None) -> None:
        if stream is None:
            return
        with contextlib.suppress(Exception):
            while await stream.read(1 << 16):
                pass

    with contextlib.suppress(TimeoutError, ProcessLookupError):
        await asyncio.wait_for(
            asyncio.gather(discard(proc.stdout), discard(proc.stderr), proc.wait()), 10
        )


async def _communicate_bounded(
    proc: asyncio.subprocess.Process, stdin: bytes | None, limit: int
) -> tuple[bytes, bytes]:
    async def feed() -> None:
        if stdin is not None and proc.stdin is not None:
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                proc.stdin.write(stdin)
                await proc.stdin.drain()
            proc.stdin.close()

    async def drain(stream: asyncio.StreamReader | None) -> bytes:
        if stream is None:
            return b""
        chunks: list[bytes] = []
        size = 0
        while chunk := await stream.read(1 << 16):
            size += len(chunk)
            if size > limit:
                raise _OutputTooLarge
            chunks.append(chunk)
        return b"".join(chunks)

    _, out, err = await asyncio.gather(feed(), drain(proc.stdout), drain(proc.stderr))
    await proc.wait()
    return out, err


def run_sync(
    argv: Sequence[str],
    *,
    cwd: str | None = None,
    env: Mapping[str, str] | None = None,
    stdin: bytes | None = None,
    timeout: float = DEFAULT_TIMEOUT_S,
    check: bool = True,
    stderr_line: Callable[[str], None] | None = None,
) -> Completed:
    """Blocking twin of :func:`run` for the CLI and build steps that have no event loop.

    ``stderr_line`` hears each line of standard error as it is written (a long build's
    progress); the whole of it is captured as well.
    """
    name = os.path.basename(argv[0])
    if stderr_line is not None:
        return _run_streaming(argv, cwd, env, timeout, check, stderr_line)
    try:
        done = subprocess.run(
            list(argv),
            cwd=cwd,
            env=dict(env) if env is not None else base_env(),
            input=stdin,
            capture_output=True,
            timeout=timeout,
            check=False,
            start_new_session=True,
        )
    except subprocess.TimeoutExpired:
        raise ProcessError(name, f"timed out after {timeout:g}s") from None
    except FileNotFoundError:
        raise ProcessError(name, "is not installed") from None
    if check and done.returncode != 0:
        raise ProcessError(
            name,
            f"exited with code {done.returncode}",
            done.stderr.decode(errors="replace"),
            done.returncode,
        )
    return Completed(done.stdout, done.stderr, done.returncode)


def _run_streaming(
    argv: Sequence[str],
    cwd: str | None,
    env: Mapping[str, str] | None,
    timeout: float,
    check: bool,
    stderr_line: Callable[[str], None],
) -> Completed:
    name = os.path.basename(argv[0])
    try:
        proc = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=dict(env) if env is not None else base_env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
    except FileNotFoundError:
        raise ProcessError(name, "is not installed") from None
    out: list[bytes] = []
    err: list[bytes] = []

    def read_stdout() -> None:
        assert proc.stdout is not None
        out.append(proc.stdout.read())

    def read_stderr() -> None:
        assert proc.stderr is not None
        for raw in proc.stderr:
            err.append(raw)
            stderr_line(raw.decode(errors="replace").rstrip("\n"))

    readers = [threading.Thread(target=f, daemon=True) for f in (read_stdout, read_stderr)]
    with proc:  # closes the pipes however this ends
        for reader in readers:
            reader.start()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            _kill_group(proc.pid)
            proc.wait()
            raise ProcessError(name, f"timed out after {timeout:g}s") from None
        for reader in readers:
            reader.join(10)
    stdout, stderr = b"".join(out), b"".join(err)
    if check and proc.returncode != 0:
        raise ProcessError(
            name,
            f"exited with code {proc.returncode}",
            stderr.decode(errors="replace"),
            proc.returncode,
        )
    return Completed(stdout, stderr, proc.returncode)


@dataclasses.dataclass
class Daemon:
    """A long-running child process started by :func:`spawn`, in its own process group."""

    name: str
    pid: int
    log_path: str
    _popen: subprocess.Popen[bytes]

    def alive(self) -> bool:
        """Whether the process is still running."""
        return self._popen.poll() is None

    def stop(self, grace: float = 10.0) -> None:
        """SIGTERM the process group, then SIGKILL after ``grace`` seconds."""
        if self._popen.poll() is None:
            _signal_group(self.pid, signal.SIGTERM)
            try:
                self._popen.wait(grace)
            except subprocess.TimeoutExpired:
                _kill_group(self.pid)
                self._popen.wait(5)
        _SPAWNED.pop(self.pid, None)


def spawn(
    name: str,
    argv: Sequence[str],
    *,
    log_path: str,
    env: Mapping[str, str] | None = None,
    cwd: str | None = None,
    die_with_parent: bool = False,
) -> Daemon:
    """Start a daemon detached into its own session, stdout and stderr going to ``log_path``.

    ``die_with_parent`` asks the kernel to SIGTERM the daemon when this process dies, so a
    test run killed half-way leaves no control plane behind.
    """
    with open(log_path, "ab") as log:
        popen = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=dict(env) if env is not None else base_env(),
            cwd=cwd,
            start_new_session=True,
            preexec_fn=_set_parent_death_signal if die_with_parent else None,
        )
    _SPAWNED[popen.pid] = popen
    return Daemon(name, popen.pid, log_path, popen)


_SPAWNED: dict[int, subprocess.Popen[bytes]] = {}
"""Daemons this process started: kept so they are reaped (no zombies) and never collected
while running, which Python reports as a ResourceWarning."""

_PR_SET_PDEATHSIG = 1


def _set_parent_death_signal() -> None:
    die_with_parent(signal.SIGTERM)


def die_with_parent(signum: int = signal.SIGKILL, parent_pid: int | None = None) -> None:
    """Ask the kernel to send ``signum`` to this process when its parent dies (Linux).

    For a child that runs code of its own (a worker process): a parent killed with SIGKILL
    cannot stop it, and an orphaned worker would run on. Given ``parent_pid``, a parent that
    died before the request took effect ends this process at once.
    """
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signum)
    if parent_pid is not None and os.getppid() != parent_pid:
        os.kill(os.getpid(), signum)


def stop_pid(pid: int, grace: float = 10.0) -> bool:
    """Stop a process group we started earlier (known only by pid); ``False`` if already gone."""
    if not pid_alive(pid):
        return False
    _signal_group(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not pid_alive(pid):
            return True
        time.sleep(0.1)
    _kill_group(pid)
    return True


def pid_alive(pid: int) -> bool:
    """Whether a process exists and is not a zombie."""
    popen = _SPAWNED.get(pid)
    if popen is not None and popen.poll() is not None:
        del _SPAWNED[pid]
        return False
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


def _signal_group(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


def _kill_group(pid: int) -> None:
    _signal_group(pid, signal.SIGKILL)
