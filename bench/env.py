"""Plumbing the scenarios share: the control plane, a Git repository served by ``git daemon``, the
controller in a child process, readings from /proc, and small waits.

The controller runs in its own process so its CPU, RSS and requests are its own, not the bench's.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import os
import pathlib
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Awaitable, Callable, Iterator, Mapping
from typing import Any

from bench import report
from tether import bootstrap
from tether.adapters.devcluster import tools
from tether.adapters.kube.client import KubeClient
from tether.settings import Settings

QUICK = os.environ.get("BENCH_QUICK") == "1"
"""Every scenario at a tenth of its size (a smoke run of the whole bench in minutes)."""

APP_NAMESPACE = "tether"
"""Where the bench's Applications live: the controller's control-plane namespace."""

CORPUS = pathlib.Path(
    os.environ.get("BENCH_CORPUS", "/work/shared/corpus/kubeflow-manifests")
).resolve()
"""kubeflow/manifests @ 009c8808 with its remote bases vendored (never part of the repository)."""

PROFILE = os.environ.get("BENCH_PROFILE") == "1"
"""Run the controller under cProfile and keep ``*.prof`` files in the work directory."""

KEEP = os.environ.get("BENCH_KEEP") == "1"
"""Keep the work directory (controller logs, S6's timeline) instead of removing it."""

CLK_TCK = os.sysconf("SC_CLK_TCK")


def scaled(n: int) -> int:
    """``n``, or a tenth of it in a quick run."""
    return max(1, n // 10) if QUICK else n


def log(message: str) -> None:
    """Progress on stderr, with the wall-clock time."""
    print(time.strftime("%H:%M:%S ") + message, file=sys.stderr, flush=True)


# --- processes ----------------------------------------------------------------------------------

GIT_ENV = {
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_AUTHOR_NAME": "tether bench",
    "GIT_AUTHOR_EMAIL": "bench@tether.invalid",
    "GIT_COMMITTER_NAME": "tether bench",
    "GIT_COMMITTER_EMAIL": "bench@tether.invalid",
}


def run(
    argv: list[str],
    *,
    cwd: str | pathlib.Path | None = None,
    env: Mapping[str, str] | None = None,
    stdin: bytes | None = None,
    check: bool = True,
    timeout: float = 900,
) -> subprocess.CompletedProcess[bytes]:
    """Run a program to completion, capturing its output."""
    full_env = {**os.environ, **(env or {})}
    done = subprocess.run(
        argv,
        cwd=cwd,
        env=full_env,
        input=stdin,
        capture_output=True,
        timeout=timeout,
        check=False,
    )
    if check and done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(argv[:4])} ... exited {done.returncode}: "
            f"{done.stderr.decode(errors='replace')[-2000:]}"
        )
    return done


def kubectl_apply(kubeconfig: pathlib.Path, namespace: str, path: pathlib.Path) -> None:
    """``kubectl apply --server-side`` of one file into ``namespace``, as the baselines run it."""
    run(
        [
            "kubectl",
            "--kubeconfig",
            str(kubeconfig),
            "apply",
            "--server-side",
            "--field-manager=bench-kubectl",
            "-n",
            namespace,
            "-f",
            str(path),
        ]
    )


def git(*args: str, cwd: str | pathlib.Path | None = None) -> str:
    """Run git with a fixed identity and no host configuration; returns stdout."""
    return run(["git", *args], cwd=cwd, env=GIT_ENV).stdout.decode().strip()


def kustomize() -> str:
    """The kustomize tether renders with (built by ``make tools``)."""
    return tools.path_of("kustomize")


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_port(port: int, alive: Callable[[], bool], timeout: float = 60.0) -> None:
    """Block until something accepts on 127.0.0.1:``port``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and alive():
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.settimeout(0.2)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


@dataclasses.dataclass(frozen=True)
class ProcStats:
    """CPU seconds (own and reaped children) and memory of one process."""

    cpu_s: float
    rss_mib: float
    peak_rss_mib: float


def proc_stats(pid: int) -> ProcStats:
    """Read a process's CPU time and resident memory from /proc (psutil is not installed)."""
    stat = pathlib.Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    # utime, stime, cutime, cstime are fields 14-17 of stat(5); fields[0] here is field 3.
    ticks = sum(int(v) for v in fields[11:15])
    status = report.parse_proc_status(pathlib.Path(f"/proc/{pid}/status").read_text())
    return ProcStats(ticks / CLK_TCK, status.get("VmRSS", 0) / 1024, status.get("VmHWM", 0) / 1024)


CONTROL_PLANE = ("kube-apiserver", "etcd")
"""The processes whose CPU a scenario's requests cost on the server side."""


def control_plane_cpu_s(kubeconfig: pathlib.Path) -> float:
    """CPU seconds the API server and etcd of the dev cluster behind ``kubeconfig`` used so far."""
    state = json.loads((kubeconfig.parent / "state.json").read_text())
    pids = state.get("pids") or {}
    return sum(proc_stats(pids[name]).cpu_s for name in CONTROL_PLANE if name in pids)


# --- the control plane ----------------------------------------------------------------------


@contextlib.contextmanager
def dev_cluster(tier: str = "full") -> Iterator[bootstrap.DevCluster]:
    """A fresh local control plane in a temporary directory (tmpfs when there is one)."""
    with bootstrap.temporary_dev_cluster(tier, prefix="tether-bench-") as cluster:
        yield cluster


async def install_crds(kubeconfig: pathlib.Path) -> None:
    """tether's CRDs, its namespace and the default project."""
    settings = Settings(app_namespaces=(APP_NAMESPACE,))
    async with await bootstrap.runtime(settings, kubeconfig=kubeconfig, start_cache=False) as rt:
        await rt.installer.install()


def client(kubeconfig: pathlib.Path) -> KubeClient:
    """The bench's own client (its requests are not counted against tether)."""
    return KubeClient.from_kubeconfig(kubeconfig)


async def ensure_namespaces(kube: KubeClient, *names: str) -> None:
    """Create namespaces (server-side apply, so existing ones are fine)."""
    for name in names:
        await kube.apply(
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}},
            field_manager="bench",
        )


async def bounded(limit: int, jobs: list[Awaitable[Any]]) -> list[Any]:
    """Await ``jobs`` with at most ``limit`` in flight."""
    slots = asyncio.Semaphore(limit)

    async def one(job: Awaitable[Any]) -> Any:
        async with slots:
            return await job

    return list(await asyncio.gather(*(one(j) for j in jobs)))


async def eventually(
    check: Callable[[], Awaitable[Any]], timeout: float, what: str, interval: float = 0.5
) -> Any:
    """Poll ``check`` until it returns something truthy."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}: last {last!r}")


# --- a Git repository served by git daemon --------------------------------------------------


@dataclasses.dataclass
class ServedRepo:
    """A working repository pushed to a bare one that ``git daemon`` serves on 127.0.0.1."""

    work: pathlib.Path
    bare: pathlib.Path
    daemon: subprocess.Popen[bytes]
    port: int

    @classmethod
    def create(
        cls,
        tmp: pathlib.Path,
        files: Mapping[str, str],
        *,
        populate: Callable[[pathlib.Path], None] | None = None,
    ) -> ServedRepo:
        """A new repository with one commit of ``files`` (and whatever ``populate`` writes into
        the work tree) on ``main``, served at once."""
        work, served = tmp / "work", tmp / "served"
        served.mkdir(parents=True)
        git("init", "--quiet", "-b", "main", str(work))
        if populate is not None:
            populate(work)
        bare = served / "apps.git"
        git("init", "--quiet", "--bare", "-b", "main", str(bare))
        git("remote", "add", "origin", str(bare), cwd=work)
        port = free_port()
        daemon = subprocess.Popen(
            [
                "git",
                "daemon",
                "--reuseaddr",
                "--export-all",
                "--listen=127.0.0.1",
                f"--port={port}",
                f"--base-path={served}",
                str(served),
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**os.environ, **GIT_ENV},
            start_new_session=True,
        )
        wait_port(port, lambda: daemon.poll() is None)
        repo = cls(work, bare, daemon, port)
        repo.commit(files, "initial")
        return repo

    @property
    def url(self) -> str:
        """The git:// URL tether clones."""
        return f"git://127.0.0.1:{self.port}/apps.git"

    def commit(self, files: Mapping[str, str], message: str) -> str:
        """Write ``files``, commit and push to the served repository; returns the new SHA."""
        for rel, content in files.items():
            path = self.work / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content)
        git("add", "-A", cwd=self.work)
        git("commit", "--quiet", "--allow-empty", "-m", message, cwd=self.work)
        git("push", "--quiet", "origin", "main", cwd=self.work)
        return git("rev-parse", "HEAD", cwd=self.work)

    def stop(self) -> None:
        """Stop the daemon (this process started it)."""
        if self.daemon.poll() is None:
            os.killpg(self.daemon.pid, signal.SIGTERM)
            self.daemon.wait(10)


# --- the controller in a child process ------------------------------------------------------


@dataclasses.dataclass
class ControllerProcess:
    """``bench.controller`` (tether's controller in-process) running as a child of the bench."""

    popen: subprocess.Popen[bytes]
    metrics_port: int
    log_path: pathlib.Path
    ready_file: pathlib.Path

    def is_ready(self) -> bool:
        """The cache has synced and the controller reconciles (it leads, with a Lease)."""
        return self.ready_file.exists()

    @classmethod
    async def start(
        cls,
        kubeconfig: pathlib.Path,
        workdir: pathlib.Path,
        *,
        resync_s: float,
        jitter_s: float,
        cache_dir: pathlib.Path,
        profile: pathlib.Path | None = None,
        ready_timeout: float = 600.0,
        leader_election: bool = False,
        settings: Mapping[str, str] | None = None,
        wait_ready: bool = True,
    ) -> ControllerProcess:
        """Start the controller and wait until its cache has synced and it reconciles.

        Several may run at once, each with its own ``workdir`` (its log and ready file) and
        metrics port. ``settings`` are more Settings fields by name (``bench.controller``'s
        ``--setting``); ``wait_ready=False`` returns at once (a replica waiting for a Lease is
        never ready: see ``is_ready``).
        """
        workdir.mkdir(parents=True, exist_ok=True)
        port = free_port()
        ready = workdir / "ready"
        ready.unlink(missing_ok=True)
        argv = [
            sys.executable,
            "-m",
            "bench.controller",
            "--kubeconfig",
            str(kubeconfig),
            "--namespace",
            APP_NAMESPACE,
            "--resync",
            str(resync_s),
            "--jitter",
            str(jitter_s),
            "--metrics-port",
            str(port),
            "--cache-dir",
            str(cache_dir),
            "--ready-file",
            str(ready),
        ]
        if profile is not None:
            argv += ["--profile", str(profile)]
        if leader_election:
            argv.append("--leader-election")
        for name, value in (settings or {}).items():
            argv += ["--setting", f"{name}={value}"]
        log_path = workdir / "controller.log"
        with open(log_path, "ab") as out:
            popen = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                cwd=pathlib.Path(__file__).resolve().parent.parent,
                start_new_session=True,
            )
        proc = cls(popen, port, log_path, ready)
        if not wait_ready:
            return proc
        deadline = time.monotonic() + ready_timeout
        while not ready.exists():
            if popen.poll() is not None or time.monotonic() > deadline:
                proc.stop()
                raise RuntimeError(f"the controller did not start: {proc.log_tail()}")
            await asyncio.sleep(0.1)
        return proc

    def log_tail(self) -> str:
        """The end of the controller's log."""
        return self.log_path.read_text(errors="replace")[-3000:]

    def metrics(self) -> dict[str, float]:
        """The controller's /metrics, parsed (costs it a walk over every Application)."""
        url = f"http://127.0.0.1:{self.metrics_port}/metrics"
        with urllib.request.urlopen(url, timeout=60) as response:
            text = response.read().decode()
        return report.parse_metrics(
            text,
            skip_prefixes=("argocd_app_info", "argocd_app_k8s_request_total"),
        )

    def requests(self) -> dict[str, float]:
        """Kubernetes requests the controller sent so far, by verb."""
        return report.requests_by_verb(self.metrics())

    def stats(self) -> ProcStats:
        """CPU and memory of the controller process."""
        return proc_stats(self.popen.pid)

    def stop(self) -> None:
        """SIGTERM (the controller stops cleanly and writes its profile), SIGKILL if it hangs."""
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(60)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(10)
