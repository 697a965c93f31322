"""What the API scenarios (S7, S8) share: 10,000 Applications in ten projects, the real API
server served in the bench process, the admin's password, and a client child spoken to in JSON
lines (so the client's CPU is not the server's event loop's).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import cProfile
import dataclasses
import json
import os
import pathlib
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from typing import Any

from fastapi import FastAPI

from bench import env
from tether import bootstrap
from tether.adapters.kube.client import KubeClient
from tether.api import server

API = "argoproj.io/v1alpha1"
PROJECTS = 10
PROJECT_LABEL = "bench.tether.dev/project"
"""Each app's project as a label too: the kube-apiserver can filter by a label, not by spec."""
CREATE_CONCURRENCY = 50

StatusOf = Callable[[int], Mapping[str, Any]]
"""The ``status`` the ``index``-th app is created with (no status subresource on the CRD)."""


def app_name(index: int) -> str:
    """The ``index``-th Application's name."""
    return f"app-{index:05d}"


def project_name(index: int) -> str:
    """The project of app ``index``."""
    return f"proj-{index % PROJECTS}"


def application(
    index: int, namespace: str, status: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """A plain Application (it never syncs: no controller runs), with ``status`` if given."""
    project = project_name(index)
    app: dict[str, Any] = {
        "apiVersion": API,
        "kind": "Application",
        "metadata": {
            "name": app_name(index),
            "namespace": namespace,
            "labels": {PROJECT_LABEL: project, "team": f"team-{index % 37}"},
        },
        "spec": {
            "project": project,
            "source": {
                "repoURL": f"https://git.example.com/org/repo-{index % 50}.git",
                "targetRevision": "main",
                "path": f"apps/{app_name(index)}",
            },
            "destination": {
                "server": "https://kubernetes.default.svc",
                "namespace": f"ns-{index % 200}",
            },
        },
    }
    if status is not None:
        app["status"] = dict(status)
    return app


def project(name: str, namespace: str) -> dict[str, Any]:
    """An AppProject allowing any source and destination."""
    return {
        "apiVersion": API,
        "kind": "AppProject",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "sourceRepos": ["*"],
            "destinations": [{"server": "*", "namespace": "*"}],
        },
    }


async def create_fleet(kube: KubeClient, size: int, status_of: StatusOf | None = None) -> float:
    """Create the projects and ``size`` apps; returns the seconds the apps took."""
    for index in range(PROJECTS):
        await kube.create(project(f"proj-{index}", env.APP_NAMESPACE), field_manager="bench")
    started = time.perf_counter()
    await env.bounded(
        CREATE_CONCURRENCY,
        [
            kube.create(
                application(i, env.APP_NAMESPACE, status_of(i) if status_of else None),
                field_manager="bench",
            )
            for i in range(size)
        ],
    )
    return time.perf_counter() - started


async def admin_password(kube: KubeClient) -> str:
    """The initial admin password (``argocd-initial-admin-secret``)."""
    secret = await kube.get("v1", "Secret", "argocd-initial-admin-secret", env.APP_NAMESPACE)
    assert secret is not None
    return base64.b64decode(secret["data"]["password"]).decode()


def rss_mib() -> float:
    """This process's resident memory (the API server's, with the bench's own client)."""
    return env.proc_stats(os.getpid()).rss_mib


async def true(value: bool) -> bool:
    """``value``, awaitable (for ``env.eventually`` over a plain condition)."""
    return value


@dataclasses.dataclass(frozen=True)
class Served:
    """The API server (and the UI it mounts) listening on 127.0.0.1."""

    url: str
    app: FastAPI


@contextlib.asynccontextmanager
async def serve(rt: bootstrap.Runtime) -> AsyncIterator[Served]:
    """``build_context`` + ``build_app`` (the real authority) served on 127.0.0.1, port 0."""
    app = server.build_app(await server.build_context(rt))
    urls: list[str] = []
    stop = asyncio.Event()
    serving = asyncio.create_task(
        bootstrap.serve_http(
            app, bootstrap.Listen("127.0.0.1", 0), listening=urls.append, stop=stop
        )
    )
    try:
        await env.eventually(lambda: true(bool(urls) or serving.done()), 30, "the API server", 0.05)
        if serving.done():
            serving.result()  # raises what stopped it
        yield Served(urls[0], app)
    finally:
        stop.set()
        await asyncio.wait_for(serving, 30)


class Child:
    """A bench client module (``python -m bench.<name>``) in a child process, spoken to by
    JSON lines on its stdin and stdout."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    @classmethod
    async def start(cls, module: str) -> Child:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            module,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            cwd=pathlib.Path(__file__).resolve().parent.parent,
            limit=1 << 26,
        )
        return cls(process)

    async def send(self, plan: Mapping[str, Any]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(plan).encode() + b"\n")
        await self.process.stdin.drain()

    async def receive(self, timeout: float) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = await asyncio.wait_for(self.process.stdout.readline(), timeout)
        if not line:
            raise RuntimeError(f"the bench client ended (exit {await self.process.wait()})")
        answer: dict[str, Any] = json.loads(line)
        return answer

    async def stop(self) -> None:
        if self.process.returncode is None:
            assert self.process.stdin is not None
            self.process.stdin.close()
            try:
                await asyncio.wait_for(self.process.wait(), 30)
            except TimeoutError:
                self.process.kill()
                await self.process.wait()


@contextlib.contextmanager
def profiled(path: pathlib.Path) -> Iterator[None]:
    """Under ``BENCH_PROFILE=1``, cProfile this process (the API server) into ``path``."""
    if not env.PROFILE:
        yield
        return
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        yield
    finally:
        profiler.disable()
        profiler.dump_stats(path)
