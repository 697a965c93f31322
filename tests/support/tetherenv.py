"""Test support for the controller: CRDs, a served Git repository, a running controller."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime
import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from lightkube import Client, KubeConfig, codecs
from lightkube.core.exceptions import ApiError
from lightkube.generic_resource import create_namespaced_resource
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import ConfigMap

from tests.support import gitservers
from tether.controller import main as controller_main
from tether.settings import Settings

KUBE_VERSION = "v" + os.environ.get("K8S_VERSION", "1.36.3")
"""The test control plane's Kubernetes version as renders and metrics give it: build-tools.sh's
default, unless the environment chose another."""

Application = create_namespaced_resource("argoproj.io", "v1alpha1", "Application", "applications")
AppProject = create_namespaced_resource("argoproj.io", "v1alpha1", "AppProject", "appprojects")


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


def exists(kube: Client, kind: Any, name: str, namespace: str) -> bool:
    """Whether the object is there (a 404 says no; any other error is raised)."""
    from lightkube import ApiError

    try:
        kube.get(kind, name, namespace=namespace)
    except ApiError as err:
        if err.status.code == 404:
            return False
        raise
    return True


def get(kube: Client, kind: Any, name: str, namespace: str) -> dict[str, Any]:
    """Read an object as a plain mapping."""
    obj: Any = kube.get(kind, name, namespace=namespace)
    return dict(obj if isinstance(obj, dict) else obj.to_dict())


def app_status(kube: Client, namespace: str, name: str) -> dict[str, Any]:
    """The ``status`` of an Application, ``{}`` before the controller wrote one."""
    return dict(get(kube, Application, name, namespace).get("status") or {})


def crd_manifest(
    group: str, kind: str, plural: str, *, status_subresource: bool = False
) -> dict[str, Any]:
    """A namespaced CustomResourceDefinition (v1, any fields) for ``group/kind``."""
    version: dict[str, Any] = {
        "name": "v1",
        "served": True,
        "storage": True,
        "schema": {
            "openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
        },
    }
    if status_subresource:
        version["subresources"] = {"status": {}}
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": f"{plural}.{group}"},
        "spec": {
            "group": group,
            "scope": "Namespaced",
            "names": {
                "kind": kind,
                "plural": plural,
                "singular": kind.lower(),
                "listKind": f"{kind}List",
            },
            "versions": [version],
        },
    }


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
    kubeconfig: Path | None,
    app_namespace: str,
    cache_dir: Path,
    *,
    resync_s: float = 3.0,
    leader_election: bool = False,
    metrics_address: str = "127.0.0.1:0",
    beside: Sequence[controller_main.Beside] = (),
    **overrides: Any,
) -> AsyncIterator[asyncio.Task[None]]:
    """The controller, in this process, reconciling Applications of ``app_namespace``.

    ``kubeconfig`` ``None``: found as ``tether run`` finds it (the environment, a Pod's account).

    Pass a fixed ``metrics_address`` (:func:`free_metrics_address`) to read the controller's
    counters with :func:`controller_requests`; ``beside`` jobs run with it as in ``tether run``
    (the API server); ``overrides`` replace other ``Settings`` fields.
    """
    settings = Settings(
        app_namespaces=(app_namespace,),
        resync_period=datetime.timedelta(seconds=resync_s),
        resync_jitter=datetime.timedelta(seconds=0.5),
        metrics_address=metrics_address,
        leader_election=leader_election,
        cache_dir=str(cache_dir),
        workers=8,
        freeze_gc=False,
    )
    settings = dataclasses.replace(settings, **overrides)
    ready = asyncio.Event()
    task = asyncio.create_task(
        controller_main.run(
            settings, kubeconfig=str(kubeconfig) if kubeconfig else None, ready=ready, beside=beside
        )
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


@contextlib.asynccontextmanager
async def app_under_controller(
    kubeconfig: Path,
    namespace: str,
    tmp: Path,
    name: str,
    files: Mapping[str, str],
    *,
    resync_s: float = 3.0,
    **spec: Any,
) -> AsyncIterator[tuple[Client, ServedRepo]]:
    """``files`` served from Git, one Application ``name`` on their ``app/`` folder (deploying
    into ``namespace``) and the controller running; everything is stopped afterwards."""
    repo = serve_repo(tmp / "git", files)
    kube = client(kubeconfig)
    try:
        create(kube, application(name, namespace, repo.url, "app", namespace, **spec))
        async with running_controller(kubeconfig, namespace, tmp / "cache", resync_s=resync_s):
            yield kube, repo
    finally:
        repo.server.stop()
        kube.close()


def free_metrics_address() -> str:
    """A ``host:port`` on 127.0.0.1 for :func:`running_controller`'s metrics server."""
    return f"127.0.0.1:{gitservers.free_port()}"


REQUESTS_METRIC = "tether_kubectl_requests_total"
"""The controller's Kubernetes request counter (its runtime's ``requests()``), by verb."""


def controller_requests(metrics_address: str) -> dict[str, int]:
    """The Kubernetes requests the running controller has sent so far, by verb.

    Read from its ``/metrics``, which exports the runtime's request counter as it is: the same
    numbers as ``Runtime.requests()``, without reaching into the controller's task.
    """
    import urllib.request

    with urllib.request.urlopen(f"http://{metrics_address}/metrics", timeout=10) as response:
        text = response.read().decode()
    counts: dict[str, int] = {}
    for line in text.splitlines():
        if line.startswith(REQUESTS_METRIC + "{"):
            labels, _, value = line.rpartition(" ")
            verb = labels.split('verb="', 1)[1].split('"', 1)[0]
            counts[verb] = int(float(value))
    return counts


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


# --- helpers for the controller's end-to-end scenarios -----------------------------------------


def sync_status(kube: Client, namespace: str, name: str) -> str:
    """The app's ``status.sync.status`` ("" before its first comparison)."""
    return str(app_status(kube, namespace, name).get("sync", {}).get("status") or "")


def synced_healthy(kube: Client, namespace: str, name: str) -> dict[str, Any] | None:
    """The app's status once it is Synced and Healthy, else ``None`` (for :func:`eventually`)."""
    from lightkube import ApiError

    try:
        status = app_status(kube, namespace, name)
    except ApiError as err:
        if err.status.code == 404:
            return None
        raise
    if (
        status.get("sync", {}).get("status") == "Synced"
        and status.get("health", {}).get("status") == "Healthy"
    ):
        return status
    return None


def patch_app(kube: Client, namespace: str, name: str, patch: Mapping[str, Any]) -> None:
    """Merge-patch an Application as ``kubectl patch --type merge`` does."""
    from lightkube.types import PatchType

    kube.patch(Application, name, dict(patch), namespace=namespace, patch_type=PatchType.MERGE)


def start_sync(kube: Client, namespace: str, name: str, **sync: Any) -> None:
    """Request a sync by writing ``.operation`` the way Argo CD's API server does."""
    patch_app(
        kube,
        namespace,
        name,
        {
            "operation": {
                "sync": {"syncStrategy": {"hook": {}}, **sync},
                "initiatedBy": {"username": "tester"},
            },
            "status": {"operationState": None},
        },
    )


def finished_app(kube: Client, namespace: str, name: str) -> dict[str, Any] | None:
    """The Application once its operation is over (cleared, its phase final), else ``None``."""
    app = get(kube, Application, name, namespace)
    state = (app.get("status") or {}).get("operationState") or {}
    done = not app.get("operation") and state.get("phase") not in (None, "Running")
    return app if done else None


@contextlib.contextmanager
def fresh_namespace(kubeconfig: Path, prefix: str) -> Iterator[str]:
    """A namespace made and deleted with clients of their own.

    For tests that restart the API server: a client made before the restart keeps a dead
    connection, so the shared ``full_namespace`` fixture cannot clean up after them.
    """
    from lightkube.models.meta_v1 import ObjectMeta
    from lightkube.resources.core_v1 import Namespace

    name = f"{prefix}-{uuid.uuid4().hex[:6]}"
    with client(kubeconfig) as kube:
        kube.create(Namespace(metadata=ObjectMeta(name=name)))
    try:
        yield name
    finally:
        with client(kubeconfig) as kube:
            kube.delete(Namespace, name)


def resource_versions(kube: Client, kind: Any, namespace: str) -> dict[str, str]:
    """Name to resourceVersion of every object of ``kind`` in ``namespace``."""
    return {
        str(o.metadata.name): str(o.metadata.resourceVersion)
        for o in kube.list(kind, namespace=namespace)
    }


@dataclasses.dataclass
class ControllerProcess:
    """``python -m tether run`` as a child process, as an operator would start it."""

    popen: subprocess.Popen[bytes]
    log_path: Path

    @property
    def pid(self) -> int:
        return self.popen.pid

    def kill(self) -> None:
        """``kill -9``: no clean-up, no Lease release."""
        if self.popen.poll() is None:
            self.popen.kill()
        self.popen.wait(10)

    def stop(self) -> None:
        """SIGTERM, as a rolling update would; SIGKILL if it does not exit."""
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()
        self.popen.wait(10)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    async def api_url(self, timeout: float = 60.0) -> str:
        """The URL its API server announced (``API server listening on URL``)."""
        marker = "API server listening on "
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.log().splitlines():
                if marker in line:
                    return line.split(marker, 1)[1].strip()
            if self.popen.poll() is not None:
                raise AssertionError(f"tether exited ({self.popen.returncode}):\n{self.log()}")
            await asyncio.sleep(0.1)
        raise AssertionError(f"no API address announced in {timeout} s:\n{self.log()}")


def start_controller_process(
    kubeconfig: Path,
    namespace: str,
    cache_dir: Path,
    log_path: Path,
    *,
    resync_s: int = 300,
    leader_election: bool = False,
    extra_args: Sequence[str] = (),
) -> ControllerProcess:
    """Start the controller with ``tether run`` in a subprocess, logging to ``log_path``."""
    argv = [
        sys.executable,
        "-m",
        "tether",
        "run",
        "--kubeconfig",
        str(kubeconfig),
        "--namespace",
        namespace,
        "--metrics-address",
        "127.0.0.1:0",
        "--api-address",  # many replicas share a machine in tests: no fixed port
        "127.0.0.1:0",
        "--leader-election" if leader_election else "--no-leader-election",
        "--resync",
        str(resync_s),
        "--cache-dir",
        str(cache_dir),
        "-v",
        *extra_args,
    ]
    with open(log_path, "ab") as log:
        popen = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    return ControllerProcess(popen, log_path)


async def restart_apiserver(cluster_directory: Path, timeout: float = 90.0) -> None:
    """Stop the dev cluster's kube-apiserver and start it again with the same arguments.

    The new pid goes into ``state.json`` so the cluster's ``down`` stops it; returns once
    ``/readyz`` answers. The process is started from the calling (main) thread: the kernel's
    parent-death signal follows the thread that forked, and a worker thread may exit first.
    """
    from tether.adapters import _process
    from tether.adapters.devcluster import cluster

    state = cluster.ClusterState.load(cluster_directory)
    assert state is not None, f"no state.json in {cluster_directory}"
    pid = state.pids["kube-apiserver"]
    argv = Path(f"/proc/{pid}/cmdline").read_bytes().rstrip(b"\0").split(b"\0")
    await asyncio.to_thread(_process.stop_pid, pid, 20)
    daemon = _process.spawn(
        "kube-apiserver",
        [a.decode() for a in argv],
        log_path=str(cluster_directory / "kube-apiserver.log"),
        die_with_parent=True,
    )
    state.pids["kube-apiserver"] = daemon.pid
    state.save()

    def ready() -> bool:
        return bool(cluster.status(cluster_directory).get("ready"))

    await eventually(ready, timeout, "kube-apiserver ready after its restart")


def put_configmap(kube: Client, namespace: str, name: str, data: Mapping[str, str]) -> None:
    """Create or replace ConfigMap ``name``, as ``kubectl apply`` of an edited file would."""
    body = ConfigMap(metadata=ObjectMeta(name=name, namespace=namespace), data=dict(data))
    try:
        kube.create(body)
    except ApiError as err:
        if err.status.code != 409:
            raise
        kube.replace(body)


def mounted_configmap(directory: Path, data: dict[str, str]) -> None:
    """Write ``data`` as the kubelet mounts a ConfigMap: files behind a ``..data`` symlink swap."""
    directory.mkdir(parents=True, exist_ok=True)
    version = directory / f"..{len(os.listdir(directory))}"
    version.mkdir()
    for key, value in data.items():
        (version / key).write_text(value)
    (directory / "..data_tmp").symlink_to(version.name)
    os.replace(directory / "..data_tmp", directory / "..data")
    for key in data:
        link = directory / key
        if not link.is_symlink():
            link.symlink_to(f"..data/{key}")
    for stale in [p for p in directory.iterdir() if p.is_symlink() and p.name not in data]:
        if not stale.name.startswith(".."):
            stale.unlink()
