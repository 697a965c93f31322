"""Start, inspect and stop a real local control plane on 127.0.0.1.

The ``minimal`` tier is etcd and kube-apiserver; ``full`` adds kube-controller-manager,
kube-scheduler and kwok, which keeps fake Nodes Ready and moves their Pods through their
lifecycle, so Deployments become Available with no kubelet and no container runtime.
Everything a run creates lives in its directory: certificates, logs, etcd data and
``state.json``, which records the processes to stop.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import json
import pathlib
import socket
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any

import yaml

from tether.adapters import _process
from tether.adapters.devcluster import audit as auditing, pki, tools
from tether.model.errors import DevClusterError

TIERS = ("minimal", "full")

COMPONENTS_OF_TIER: dict[str, tuple[str, ...]] = {
    # In start order; stopped in reverse.
    "minimal": ("etcd", "kube-apiserver"),
    "full": ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"),
}

SERVICE_CIDR = "10.0.0.0/24"
"""Service IPs are allocated and stored, never dialled: no kube-proxy runs."""

FAKE_NODES = ("kwok-node-0", "kwok-node-1")
"""Two simulated nodes, so anti-affinity and spreading rules can be satisfied."""

KWOK_NODE_ANNOTATION = "kwok.x-k8s.io/node"

APISERVER_READY_TIMEOUT_S = 90.0
"""Once built, the API server is ready in 5-10 s; 90 s means something is wrong."""

NODES_READY_TIMEOUT_S = 60.0

STATE_FILE = "state.json"


@dataclasses.dataclass
class ClusterState:
    """What ``up`` started and how to reach it; persisted as ``state.json`` in the run directory."""

    directory: str
    tier: str
    server: str
    etcd_url: str
    pids: dict[str, int] = dataclasses.field(default_factory=dict)
    audit_log: str = ""
    """The API server's audit log (JSON lines, ``auditing.POLICY``); empty when not auditing."""

    @property
    def kubeconfig(self) -> pathlib.Path:
        """The admin kubeconfig of this run."""
        return pathlib.Path(self.directory) / "kubeconfig"

    @property
    def pki_dir(self) -> pathlib.Path:
        """Where this run's certificates live."""
        return pathlib.Path(self.directory) / "pki"

    def save(self) -> None:
        """Write the state file."""
        path = pathlib.Path(self.directory) / STATE_FILE
        path.write_text(json.dumps(dataclasses.asdict(self), indent=2) + "\n")

    @classmethod
    def load(cls, directory: pathlib.Path) -> ClusterState | None:
        """Read the state file of a run directory, if there is one."""
        path = directory / STATE_FILE
        if not path.exists():
            return None
        data = json.loads(path.read_text())
        return cls(**data)


def up(
    directory: pathlib.Path,
    tier: str = "minimal",
    *,
    die_with_parent: bool = False,
    audit: bool = False,
    progress: Callable[[str], None] = lambda _msg: None,
) -> ClusterState:
    """Build what is missing, start the tier's components and wait until they are ready.

    ``die_with_parent`` ties the components' lives to the calling process (test fixtures);
    the CLI leaves them running until ``down``. ``audit`` has the API server log the writes
    ``auditing.POLICY`` names to ``audit.log`` in the directory.
    """
    if tier not in TIERS:
        raise DevClusterError(f"unknown tier {tier!r}; choose one of {', '.join(TIERS)}")
    directory = directory.resolve()
    existing = ClusterState.load(directory)
    if existing is not None and any(_process.pid_alive(p) for p in existing.pids.values()):
        raise DevClusterError(
            f"a control plane is already running from {directory}; "
            f"run `tether dev-cluster down --dir {directory}` first"
        )
    directory.mkdir(parents=True, exist_ok=True)
    progress("building or locating the control-plane binaries")
    wanted = ("etcd", "apiserver", "kwok") if tier == "full" else ("etcd", "apiserver")
    bins = tools.build(*wanted)
    progress("generating certificates")
    certs = pki.generate(directory / "pki")

    etcd_port, peer_port, api_port = _free_ports(3)
    state = ClusterState(
        directory=str(directory),
        tier=tier,
        server=f"https://127.0.0.1:{api_port}",
        etcd_url=f"http://127.0.0.1:{etcd_port}",
        audit_log=str(directory / "audit.log") if audit else "",
    )
    launcher = _Launcher(state, directory, die_with_parent)
    try:
        progress("starting etcd")
        launcher.start("etcd", _etcd_argv(bins["etcd"], directory, etcd_port, peer_port))
        _wait_for(lambda: _http_ok(f"{state.etcd_url}/health"), 30.0, "etcd", launcher)
        progress("starting kube-apiserver")
        argv = _apiserver_argv(bins["apiserver"], certs, state) + auditing.argv(
            state.directory, state.audit_log
        )
        launcher.start("kube-apiserver", argv)
        _write_kubeconfig(state.kubeconfig, state.server, certs)
        _wait_for(
            lambda: _apiserver_ready(state), APISERVER_READY_TIMEOUT_S, "kube-apiserver", launcher
        )
        if tier == "full":
            _start_full_tier(launcher, bins, certs, state, progress)
    except BaseException:
        launcher.stop_all()
        raise
    state.save()
    progress(f"ready: {state.server}")
    return state


def down(directory: pathlib.Path) -> list[str]:
    """Stop every process a run started; returns the names of those that were running."""
    state = ClusterState.load(directory.resolve())
    if state is None:
        raise DevClusterError(f"no control plane state in {directory} (nothing to stop)")
    stopped = [name for name in reversed(list(state.pids)) if _process.stop_pid(state.pids[name])]
    with contextlib.suppress(FileNotFoundError):
        (pathlib.Path(state.directory) / STATE_FILE).unlink()
    return stopped


def status(directory: pathlib.Path) -> dict[str, Any]:
    """Which components of a run are alive, and whether the API server answers ready."""
    state = ClusterState.load(directory.resolve())
    if state is None:
        return {"running": False, "directory": str(directory)}
    alive = {name: _process.pid_alive(pid) for name, pid in state.pids.items()}
    ready = alive.get("kube-apiserver", False) and _apiserver_ready(state)
    return {
        "running": all(alive.values()),
        "ready": ready,
        "tier": state.tier,
        "server": state.server,
        "kubeconfig": str(state.kubeconfig),
        "components": alive,
    }


class _Launcher:
    """Starts components, remembering their pids so a failure can stop what already started."""

    def __init__(self, state: ClusterState, directory: pathlib.Path, die_with_parent: bool):
        self.state = state
        self.directory = directory
        self.die_with_parent = die_with_parent
        self.daemons: dict[str, _process.Daemon] = {}

    def start(self, name: str, argv: list[str]) -> None:
        daemon = _process.spawn(
            name,
            argv,
            log_path=str(self.directory / f"{name}.log"),
            die_with_parent=self.die_with_parent,
        )
        self.daemons[name] = daemon
        self.state.pids[name] = daemon.pid
        self.state.save()

    def check_alive(self, name: str) -> None:
        daemon = self.daemons.get(name)
        if daemon is not None and not daemon.alive():
            raise DevClusterError(f"{name} exited during start-up:\n{_log_tail(daemon.log_path)}")

    def stop_all(self) -> None:
        for daemon in reversed(list(self.daemons.values())):
            daemon.stop()
        with contextlib.suppress(FileNotFoundError):
            (self.directory / STATE_FILE).unlink()


def _start_full_tier(
    launcher: _Launcher,
    bins: Mapping[str, pathlib.Path],
    certs: pki.Pki,
    state: ClusterState,
    progress: Callable[[str], None],
) -> None:
    kcm_port, sched_port = _free_ports(2)
    kubeconfig = str(state.kubeconfig)
    progress("starting kube-controller-manager and kube-scheduler")
    launcher.start(
        "kube-controller-manager",
        [
            str(bins["apiserver"] / "kube-controller-manager"),
            f"--kubeconfig={kubeconfig}",
            f"--authentication-kubeconfig={kubeconfig}",
            f"--authorization-kubeconfig={kubeconfig}",
            "--leader-elect=false",
            "--bind-address=127.0.0.1",
            f"--secure-port={kcm_port}",
            f"--service-account-private-key-file={certs.path('sa.key')}",
            f"--root-ca-file={certs.path('ca.crt')}",
            "--use-service-account-credentials=false",
            f"--service-cluster-ip-range={SERVICE_CIDR}",
            # No cloud: route and service-load-balancer controllers would only log errors.
            "--controllers=*,-cloud-node-lifecycle,-service-lb-controller,-node-route-controller",
        ],
    )
    launcher.start(
        "kube-scheduler",
        [
            str(bins["apiserver"] / "kube-scheduler"),
            f"--kubeconfig={kubeconfig}",
            f"--authentication-kubeconfig={kubeconfig}",
            f"--authorization-kubeconfig={kubeconfig}",
            "--leader-elect=false",
            "--bind-address=127.0.0.1",
            f"--secure-port={sched_port}",
        ],
    )
    progress("starting kwok and its simulated nodes")
    kwok_config = state.pki_dir.parent / "kwok-stages.yaml"
    stages = sorted((bins["kwok"] / "stages").glob("*.yaml"))
    if not stages:
        raise DevClusterError(f"kwok stage definitions are missing under {bins['kwok']}/stages")
    kwok_config.write_text("\n---\n".join(p.read_text() for p in stages))
    launcher.start(
        "kwok",
        [
            str(bins["kwok"] / "kwok"),
            f"--kubeconfig={kubeconfig}",
            f"--config={kwok_config}",
            f"--manage-nodes-with-annotation-selector={KWOK_NODE_ANNOTATION}=fake",
            f"--server-address=127.0.0.1:{_free_ports(1)[0]}",
            "--node-lease-duration-seconds=40",
        ],
    )
    for node in FAKE_NODES:
        _create_fake_node(state, node)
    # kwok's volume stages bind claims of its default StorageClass, so PVCs become Bound.
    for path in sorted((bins["kwok"] / "objects").glob("*.yaml")):
        for obj in yaml.safe_load_all(path.read_text()):
            if obj and obj.get("kind") == "StorageClass":
                _create(state, "/apis/storage.k8s.io/v1/storageclasses", obj)
    _wait_for(lambda: _nodes_ready(state), NODES_READY_TIMEOUT_S, "kwok", launcher)


def _etcd_argv(bin_dir: pathlib.Path, directory: pathlib.Path, port: int, peer: int) -> list[str]:
    return [
        str(bin_dir / "etcd"),
        "--name=tether",
        f"--data-dir={directory / 'etcd'}",
        f"--listen-client-urls=http://127.0.0.1:{port}",
        f"--advertise-client-urls=http://127.0.0.1:{port}",
        f"--listen-peer-urls=http://127.0.0.1:{peer}",
        f"--initial-advertise-peer-urls=http://127.0.0.1:{peer}",
        f"--initial-cluster=tether=http://127.0.0.1:{peer}",
        "--log-level=warn",
        # A throwaway cluster: durability costs seconds per test run and buys nothing.
        "--unsafe-no-fsync=true",
    ]


def _apiserver_argv(bin_dir: pathlib.Path, certs: pki.Pki, state: ClusterState) -> list[str]:
    port = state.server.rsplit(":", 1)[1]
    return [
        str(bin_dir / "kube-apiserver"),
        f"--etcd-servers={state.etcd_url}",
        "--bind-address=127.0.0.1",
        f"--secure-port={port}",
        # Without a default route the server cannot pick an address by itself.
        "--advertise-address=127.0.0.1",
        # A loopback advertise address makes the Endpoints reconciler fail; it has no use here.
        "--endpoint-reconciler-type=none",
        f"--tls-cert-file={certs.path('apiserver.crt')}",
        f"--tls-private-key-file={certs.path('apiserver.key')}",
        f"--client-ca-file={certs.path('ca.crt')}",
        "--authorization-mode=Node,RBAC",
        "--service-account-issuer=https://kubernetes.default.svc",
        f"--service-account-key-file={certs.path('sa.pub')}",
        f"--service-account-signing-key-file={certs.path('sa.key')}",
        f"--service-cluster-ip-range={SERVICE_CIDR}",
        "--allow-privileged=true",
        # Webhooks would make the API server dial Service IPs (never loopback): disabled so no
        # traffic leaves 127.0.0.1. ServiceAccount admission would need token controllers
        # before the first Pod of every namespace.
        "--disable-admission-plugins=ServiceAccount,MutatingAdmissionWebhook,"
        "ValidatingAdmissionWebhook,ValidatingAdmissionPolicy",
        "--profiling=false",
        f"--cert-dir={certs.directory / 'apiserver-generated'}",
    ]


def _write_kubeconfig(path: pathlib.Path, server: str, certs: pki.Pki) -> None:
    def b64(name: str) -> str:
        return base64.b64encode(certs.path(name).read_bytes()).decode()

    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": "tether-dev",
        "clusters": [
            {
                "name": "tether-dev",
                "cluster": {"server": server, "certificate-authority-data": b64("ca.crt")},
            }
        ],
        "users": [
            {
                "name": "tether-admin",
                "user": {
                    "client-certificate-data": b64("admin.crt"),
                    "client-key-data": b64("admin.key"),
                },
            }
        ],
        "contexts": [
            {"name": "tether-dev", "context": {"cluster": "tether-dev", "user": "tether-admin"}}
        ],
    }
    path.touch(mode=0o600)
    path.write_text(yaml.safe_dump(config, sort_keys=False))


def _ssl_context(state: ClusterState) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(state.pki_dir / "ca.crt"))
    ctx.load_cert_chain(str(state.pki_dir / "admin.crt"), str(state.pki_dir / "admin.key"))
    return ctx


def _request(
    state: ClusterState,
    path: str,
    method: str = "GET",
    body: Mapping[str, Any] | None = None,
) -> tuple[int, bytes]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(
        state.server + path,
        data=data,
        method=method,
        headers={"Content-Type": "application/json"} if data else {},
    )
    try:
        with urllib.request.urlopen(req, context=_ssl_context(state), timeout=5) as resp:
            return int(resp.status), bytes(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, err.read()
    except (urllib.error.URLError, OSError):
        return 0, b""


def _apiserver_ready(state: ClusterState) -> bool:
    # /readyz can report ok before the default namespace exists (controller-runtime#2668).
    code, body = _request(state, "/readyz")
    return (
        code == 200
        and body.strip() == b"ok"
        and (_request(state, "/api/v1/namespaces/default")[0] == 200)
    )


def _create_fake_node(state: ClusterState, name: str) -> None:
    node = {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "annotations": {KWOK_NODE_ANNOTATION: "fake", "node.alpha.kubernetes.io/ttl": "0"},
            "labels": {
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "type": "kwok",
                "node-role.kubernetes.io/agent": "",
            },
        },
        "status": {
            # Room for all of Kubeflow and more; nothing actually runs.
            "allocatable": {"cpu": "64", "memory": "256Gi", "pods": "500"},
            "capacity": {"cpu": "64", "memory": "256Gi", "pods": "500"},
        },
    }
    _create(state, "/api/v1/nodes", node)


def _create(state: ClusterState, collection: str, obj: Mapping[str, Any]) -> None:
    code, body = _request(state, collection, "POST", obj)
    if code not in (201, 409):
        name = obj.get("metadata", {}).get("name", "?")
        raise DevClusterError(
            f"could not create {obj.get('kind')} {name}: HTTP {code} {body[:300]!r}"
        )


def _nodes_ready(state: ClusterState) -> bool:
    code, body = _request(state, "/api/v1/nodes")
    if code != 200:
        return False
    ready = 0
    for node in json.loads(body).get("items", []):
        for cond in node.get("status", {}).get("conditions", []) or []:
            if cond.get("type") == "Ready" and cond.get("status") == "True":
                ready += 1
    return ready >= len(FAKE_NODES)


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return int(resp.status) == 200
    except (urllib.error.URLError, OSError):
        return False


def _wait_for(
    ready: Callable[[], bool], timeout: float, component: str, launcher: _Launcher
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        launcher.check_alive(component)
        if ready():
            return
        time.sleep(0.2)
    log = launcher.daemons[component].log_path if component in launcher.daemons else ""
    raise DevClusterError(
        f"{component} was not ready after {timeout:g}s" + (f":\n{_log_tail(log)}" if log else "")
    )


def _log_tail(path: str, lines: int = 25) -> str:
    try:
        return "\n".join(pathlib.Path(path).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _free_ports(count: int) -> list[int]:
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for sock in sockets:
            sock.close()


def adopt(directory: pathlib.Path, name: str, pid: int) -> None:
    """Record another process of this run (a local Git server), so ``down`` stops it too."""
    state = ClusterState.load(directory.resolve())
    if state is None:
        raise DevClusterError(f"no control plane state in {directory}")
    state.pids[name] = pid
    state.save()
