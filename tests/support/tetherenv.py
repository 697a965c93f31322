"""Test support for the controller: CRDs, a served Git repository, a running controller."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Mapping
from pathlib import Path
from typing import Any

import yaml
from lightkube import Client, KubeConfig, codecs
from lightkube.generic_resource import create_namespaced_resource

from tests.support import gitservers
from tether.controller import main as controller_main
from tether.settings import Settings

Application = create_namespaced_resource("argoproj.io", "v1alpha1", "Application", "applications")


def install_crds(kubeconfig: Path) -> None:
    """Run ``tether install-crds`` as a user would."""
    subprocess.run(
        [sys.executable, "-m", "tether", "install-crds", "--kubeconfig", str(kubeconfig)],
        check=True,
        capture_output=True,
        timeout=120,
    )


def client(kubeconfig: Path) -> Client:
    """A plain lightkube client for assertions (the tests' own eyes on the cluster)."""
    return Client(KubeConfig.from_file(str(kubeconfig)), field_manager="test")


@dataclasses.dataclass
class ServedRepo:
    """A Git repository served over git:// on 127.0.0.1, which a test commits to."""

    seed: gitservers.SeedRepo
    root: Path
    server: gitservers.GitDaemonServer
    name: str = "apps.git"

    @property
    def url(self) -> str:
        return self.server.url(self.name)

    def commit(self, files: Mapping[str, str | None], label: str = "") -> str:
        sha = self.seed.commit(label or f"c{len(self.seed.shas) + 1}", files)
        self.seed.publish(self.root / self.name)
        return sha


def serve_repo(tmp: Path, files: Mapping[str, str]) -> ServedRepo:
    """A new repository with one commit of ``files`` on ``main``, served by ``git daemon``."""
    work = tmp / "work"
    work.mkdir(parents=True)
    gitservers.git("init", "--quiet", "-b", "main", str(work))
    seed = gitservers.SeedRepo(work)
    root = tmp / "served"
    server = gitservers.GitDaemonServer(root, tmp / "daemon")
    repo = ServedRepo(seed, root, server)
    repo.commit(files, "initial")
    server.start()
    return repo


def create(kube: Client, body: Mapping[str, Any]) -> None:
    """Create any object from a plain mapping (Applications included)."""
    kube.create(codecs.from_dict(dict(body)))


def get(kube: Client, kind: Any, name: str, namespace: str) -> dict[str, Any]:
    """Read an object as a plain mapping."""
    obj: Any = kube.get(kind, name, namespace=namespace)
    return dict(obj if isinstance(obj, dict) else obj.to_dict())


def app_status(kube: Client, namespace: str, name: str) -> dict[str, Any]:
    """The ``status`` of an Application, ``{}`` before the controller wrote one."""
    return dict(get(kube, Application, name, namespace).get("status") or {})


def yaml_docs(*docs: Mapping[str, Any]) -> str:
    return yaml.safe_dump_all(list(docs), sort_keys=False)


def application(
    name: str, namespace: str, repo_url: str, path: str, dest_namespace: str, **spec: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "project": "default",
            "source": {"repoURL": repo_url, "targetRevision": "main", "path": path},
            "destination": {
                "server": "https://kubernetes.default.svc",
                "namespace": dest_namespace,
            },
            **spec,
        },
    }
    return body


@contextlib.asynccontextmanager
async def running_controller(
    kubeconfig: Path,
    app_namespace: str,
    cache_dir: Path,
    *,
    resync_s: float = 3.0,
    leader_election: bool = False,
) -> AsyncIterator[asyncio.Task[None]]:
    """The controller, in this process, reconciling Applications of ``app_namespace``."""
    settings = Settings(
        app_namespaces=(app_namespace,),
        resync_period=datetime.timedelta(seconds=resync_s),
        resync_jitter=datetime.timedelta(seconds=0.5),
        metrics_address="127.0.0.1:0",
        leader_election=leader_election,
        cache_dir=str(cache_dir),
        workers=8,
    )
    ready = asyncio.Event()
    task = asyncio.create_task(
        controller_main.run(settings, kubeconfig=str(kubeconfig), ready=ready)
    )
    done, _ = await asyncio.wait(
        [task, asyncio.create_task(ready.wait())], timeout=60, return_when=asyncio.FIRST_COMPLETED
    )
    if task in done:
        task.result()  # raises the start-up error
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def eventually(check: Callable[[], Any], timeout: float = 30.0, what: str = "") -> Any:
    """Poll ``check`` until it returns something truthy; fail with its last value."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = await asyncio.to_thread(check)
        if last:
            return last
        await asyncio.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what or check}: last value {last!r}")
