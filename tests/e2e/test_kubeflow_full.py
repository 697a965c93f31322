"""Kubeflow on tether, end to end on the full simulated cluster: fork, init, bootstrap, converge.

The fork (kubeflow/manifests @ 009c8808 with ``distributions/kubeflow``, pointed at itself with
``tether kubeflow init``) is served by ``git daemon``; the controller runs in this process; the
cluster is the full tier (controller-manager, scheduler, kwok nodes, pods, volumes). Nothing of
Kubeflow really runs, so a few controllers Kubeflow installs are played by the test, the way kwok
plays the kubelet: each one is listed in ``STAND_INS`` with the reason, and they only ever write
``status`` or serve a read-only API, never an object tether manages.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import datetime
import http.server
import json
import pathlib
import shutil
import ssl
import threading
import time
import urllib.parse
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any

import httpx2
import pytest
from click.testing import CliRunner
from lightkube import ApiError, Client, KubeConfig, codecs
from lightkube.generic_resource import create_global_resource, create_namespaced_resource
from lightkube.resources.apiregistration_v1 import APIService
from lightkube.resources.apps_v1 import Deployment
from lightkube.resources.core_v1 import ConfigMap, Pod, Secret, Service
from lightkube.types import PatchType

from tests.integration.kubeflow.conftest import KUBEFLOW, make_fork
from tests.support import gitservers, tetherenv, uienv
from tether import bootstrap
from tether.api import main as api_main
from tether.cli.commands import server
from tether.cli.main import cli
from tether.core.diff import tracking
from tether.core.sources import distribution
from tether.services import kubeflow
from tether.settings import Settings

pytestmark = [
    pytest.mark.skipif(not KUBEFLOW.is_dir(), reason="the Kubeflow corpus is not present"),
]

APP_NAMESPACE = "tether"
ROOT = "kubeflow"
CHILDREN = 27
OBJECTS = 683
"""kubeflow/manifests' ``example/`` renders 683 objects (kubeflow-manifests.golden.json)."""
CRDS = 74
"""CRDs among them: tether never writes a tracking-id on a CRD (``tracking.CRD``), so that
deleting an Application can never delete every custom resource of the type; they are counted
apart and checked to carry none."""

RESYNC_S = 10.0
"""The controller's resync period here: short, so new commits are seen quickly, and one whole
period (plus jitter) is what the idle check watches."""
CONVERGE_TIMEOUT_S = 420.0
"""About 2 min on the 2-core test machine alone with the fixes, over 5 min beside other tests."""
WRITE_VERBS = ("create", "update", "patch", "apply", "delete")

STAND_INS: dict[str, str] = {
    "cert-manager: ClusterIssuer and Issuer status Ready=True (reason IsReady)": (
        "cert-manager's controller runs only as a kwok pod, so nothing reconciles issuers; the "
        "root's wave 1 (cert-manager) would wait forever for its ClusterIssuer. The test writes "
        "the status subresource a self-signed issuer gets from cert-manager."
    ),
    "cert-manager: Certificate status Ready=True (reason Ready) with notBefore/notAfter": (
        "same: five children (admission-webhook, katib, kserve, pipelines, pvcviewer-controller) "
        "request Certificates. Only status is written; the Secrets cert-manager would fill are "
        "not created (kwok pods mount nothing), and tether's empty webhook Secrets are not touched."
    ),
    "metrics-server: a read-only metrics.k8s.io API reporting zero usage for running pods": (
        "five HorizontalPodAutoscalers (istio: istiod, istio-ingressgateway; "
        "cluster-local-gateway; knative-serving: activator, webhook) are judged by the conditions "
        "kube-controller-manager's autoscaler writes; with no metrics API it writes "
        "ScalingActive=False/FailedGetResourceMetric, which is Degraded (Argo CD's rule), and "
        "istio (wave 2) would block every later wave. The test serves the metrics API on a free "
        "port of 127.0.0.1 behind an APIService (which names the port) and an ExternalName "
        "Service of its own (not in Git, not tracked); the real autoscaler then writes its own "
        "Healthy conditions."
    ),
}
"""Controllers the simulated cluster lacks, played by the test, and why each is needed."""

NOT_HEALTHY: dict[tuple[str, str], tuple[str, str]] = {}
"""(Application, kind) → (expected health, reason) for resources the simulated cluster cannot
make Healthy even with the stand-ins. Empty: with the three stand-ins every resource that has a
health check is Healthy (Deployments, StatefulSets and the istio-cni DaemonSet through kwok's
pods, PVCs through kwok's volumes, PDBs through the disruption controller, HPAs through the
metrics stand-in, Namespaces, CRDs, Services, Profiles, cert-manager kinds)."""

NO_HEALTH: dict[str, str] = {
    # As in Argo CD, these kinds have no health check: there or Missing is all they can be.
    **dict.fromkeys(
        ("ServiceAccount", "Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"),
        "RBAC objects have no status",
    ),
    "ConfigMap": "configuration, no status",
    "Secret": "configuration, no status",
    "PriorityClass": "scheduling configuration, no status",
    "NetworkPolicy": "enforced by the network plugin, which writes no status",
    "MutatingWebhookConfiguration": "admission configuration, no status",
    "ValidatingWebhookConfiguration": "admission configuration, no status",
    **dict.fromkeys(
        (
            "Gateway",
            "VirtualService",
            "DestinationRule",
            "Sidecar",
            "AuthorizationPolicy",
            "PeerAuthentication",
            "RequestAuthentication",
        ),
        "Istio configuration: istiod reads it and writes no status Argo CD or tether judges",
    ),
    "Image": "Knative's image cache hint (caching.internal.knative.dev): no health check",
    "Certificate": "only Knative's networking.internal.knative.dev Certificate lands here: no "
    "health check (cert-manager's Certificates have one and are Healthy)",
    **dict.fromkeys(
        ("ClusterServingRuntime", "ClusterStorageContainer", "ClusterTrainingRuntime"),
        "KServe and Trainer runtime templates: no status, no health check",
    ),
    "DecoratorController": "metacontroller's configuration: no health check",
    "AppProject": "the root's project for the children: no status, no health check",
}
"""Kinds that report no health at all, and why; any other kind without health fails the test."""

ClusterIssuer = create_global_resource("cert-manager.io", "v1", "ClusterIssuer", "clusterissuers")
Issuer = create_namespaced_resource("cert-manager.io", "v1", "Issuer", "issuers")
Certificate = create_namespaced_resource("cert-manager.io", "v1", "Certificate", "certificates")

METRICS_GROUP_VERSION = "metrics.k8s.io/v1beta1"
METRICS_SERVICE = ("kube-system", "tether-test-metrics-standin")


# --- stand-ins ---------------------------------------------------------------------------------


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _ready(reason: str, message: str, generation: int) -> dict[str, Any]:
    return {
        "type": "Ready",
        "status": "True",
        "reason": reason,
        "message": message,
        "lastTransitionTime": _now(),
        "observedGeneration": generation,
    }


def _is_ready(obj: Mapping[str, Any]) -> bool:
    conditions = (obj.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


def play_cert_manager(kube: Client) -> int:
    """One pass of the cert-manager stand-in: mark new issuers and certificates Ready.

    Writes only the status subresource, as cert-manager does; returns how many it marked.
    """
    marked = 0
    kinds: tuple[tuple[Any, str | None], ...] = (
        (ClusterIssuer, None),
        (Issuer, "*"),
        (Certificate, "*"),
    )
    for kind, namespace in kinds:
        try:
            found = [_plain(o) for o in kube.list(kind, namespace=namespace)]
        except (ApiError, httpx2.HTTPError):
            continue  # the CRD is not there yet (cert-manager's wave has not synced)
        for obj in found:
            if _is_ready(obj):
                continue
            meta = obj["metadata"]
            generation = int(meta.get("generation") or 1)
            if kind is Certificate:
                now = datetime.datetime.now(datetime.UTC)
                fmt = "%Y-%m-%dT%H:%M:%SZ"
                status: dict[str, Any] = {
                    "conditions": [
                        _ready("Ready", "Certificate is up to date and has not expired", generation)
                    ],
                    "notBefore": now.strftime(fmt),
                    "notAfter": (now + datetime.timedelta(days=90)).strftime(fmt),
                    "renewalTime": (now + datetime.timedelta(days=60)).strftime(fmt),
                    "revision": 1,
                }
            else:
                status = {"conditions": [_ready("IsReady", "", generation)]}
            kube.patch(
                kind.Status,
                meta["name"],
                {"status": status},
                namespace=meta.get("namespace"),
                patch_type=PatchType.MERGE,
            )
            marked += 1
    return marked


LIGHTKUBE = threading.Lock()
"""lightkube's model decoding (msgspec resolving annotations) crashed when two threads decoded
at once: every lightkube call made off the event loop thread takes this lock."""


def running_pods(kube: Client) -> dict[str, list[tuple[str, dict[str, str], list[str]]]]:
    """Namespace → (name, labels, container names) of every Running pod (kwok's doing)."""
    found: dict[str, list[tuple[str, dict[str, str], list[str]]]] = {}
    for pod in kube.list(Pod, namespace="*"):
        if pod.metadata is None or pod.spec is None or pod.status is None:
            continue
        if pod.status.phase == "Running":
            found.setdefault(str(pod.metadata.namespace), []).append(
                (
                    str(pod.metadata.name),
                    dict(pod.metadata.labels or {}),
                    [c.name for c in pod.spec.containers],
                )
            )
    return found


class _MetricsHandler(http.server.BaseHTTPRequestHandler):
    """metrics.k8s.io/v1beta1 discovery and PodMetrics lists with zero usage."""

    server: _MetricsServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        parts = [p for p in url.path.split("/") if p]
        body: dict[str, Any] | None = None
        if parts == ["apis", "metrics.k8s.io", "v1beta1"]:
            body = {
                "kind": "APIResourceList",
                "apiVersion": "v1",
                "groupVersion": METRICS_GROUP_VERSION,
                "resources": [
                    {"name": "pods", "singularName": "", "namespaced": True,
                     "kind": "PodMetrics", "verbs": ["get", "list"]},
                    {"name": "nodes", "singularName": "", "namespaced": False,
                     "kind": "NodeMetrics", "verbs": ["get", "list"]},
                ],
            }  # fmt: skip
        elif parts[:3] == ["apis", "metrics.k8s.io", "v1beta1"] and parts[-1] == "pods":
            namespace = parts[4] if len(parts) == 6 and parts[3] == "namespaces" else "*"
            selector = urllib.parse.parse_qs(url.query).get("labelSelector", [""])[0]
            body = self.server.pod_metrics(namespace, selector)
        elif parts[:3] == ["apis", "metrics.k8s.io", "v1beta1"] and parts[-1] == "nodes":
            body = {"kind": "NodeMetricsList", "apiVersion": METRICS_GROUP_VERSION, "items": []}
        data = json.dumps(body).encode() if body is not None else b"{}"
        self.send_response(200 if body is not None else 404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        pass


class _MetricsServer(http.server.ThreadingHTTPServer):
    """Answers from ``pods``, a snapshot the stand-in loop refreshes: no API calls here."""

    daemon_threads = True

    def __init__(self, context: ssl.SSLContext) -> None:
        # Port 0: any free port, named in the APIService. A fixed one (443 before) fails when
        # anything else on the machine holds it, such as another test run's cluster.
        super().__init__(("127.0.0.1", 0), _MetricsHandler)
        self.pods: dict[str, list[tuple[str, dict[str, str], list[str]]]] = {}
        self.socket = context.wrap_socket(self.socket, server_side=True)

    def pod_metrics(self, namespace: str, selector: str) -> dict[str, Any]:
        wanted = _equality_selector(selector)
        now = _now()
        snapshot = self.pods
        namespaces = list(snapshot) if namespace == "*" else [namespace]
        items = [
            {
                "metadata": {"name": name, "namespace": ns, "creationTimestamp": now},
                "timestamp": now,
                "window": "1s",
                "containers": [
                    {"name": c, "usage": {"cpu": "0", "memory": "0"}} for c in containers
                ],
            }
            for ns in namespaces
            for name, labels, containers in snapshot.get(ns, [])
            if wanted is None or all(labels.get(k) == v for k, v in wanted.items())
        ]
        return {"kind": "PodMetricsList", "apiVersion": METRICS_GROUP_VERSION, "items": items}


def _equality_selector(selector: str) -> dict[str, str] | None:
    """``a=b,c=d`` as a mapping; ``None`` (every pod) for set-based selectors.

    Extra pods are harmless: the autoscaler ignores metrics of pods it does not target.
    """
    pairs = {}
    for term in filter(None, selector.split(",")):
        key, sep, value = term.partition("=")
        if not sep or key.endswith("!") or value.startswith("=") or " " in term:
            return None
        pairs[key.strip()] = value.lstrip("=").strip()
    return pairs or None


@contextlib.asynccontextmanager
async def stand_ins(cluster: bootstrap.DevCluster) -> AsyncIterator[asyncio.Task[None]]:
    """Run the ``STAND_INS``: cert-manager's status writes and metrics-server's API.

    Yields the background task, so a wait can fail at once when a stand-in breaks.
    """
    crt = next(cluster.directory.rglob("apiserver.crt"))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(crt, crt.with_suffix(".key"))
    kube = Client(KubeConfig.from_file(str(cluster.kubeconfig)), field_manager="stand-in")
    server = _MetricsServer(context)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    namespace, name = METRICS_SERVICE
    registration = [
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"type": "ExternalName", "externalName": "localhost"},
        },
        {
            "apiVersion": "apiregistration.k8s.io/v1",
            "kind": "APIService",
            "metadata": {"name": "v1beta1.metrics.k8s.io"},
            "spec": {
                "group": "metrics.k8s.io",
                "version": "v1beta1",
                "service": {"namespace": namespace, "name": name, "port": server.server_port},
                "insecureSkipTLSVerify": True,
                "groupPriorityMinimum": 100,
                "versionPriority": 100,
            },
        },
    ]

    def one_pass() -> None:
        with LIGHTKUBE:
            server.pods = running_pods(kube)
            play_cert_manager(kube)

    async def loop() -> None:
        while True:
            with contextlib.suppress(ApiError, httpx2.HTTPError):
                await asyncio.to_thread(one_pass)
            await asyncio.sleep(1.0)

    task: asyncio.Task[None] | None = None
    try:
        for obj in registration:
            kube.apply(codecs.from_dict(obj), force=True)
        task = asyncio.create_task(loop())
        yield task
    finally:
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        with LIGHTKUBE:
            with contextlib.suppress(ApiError):
                kube.delete(APIService, "v1beta1.metrics.k8s.io")
            with contextlib.suppress(ApiError):
                kube.delete(Service, name, namespace=namespace)
        server.shutdown()
        server.server_close()
        thread.join(5)
        kube.close()


# --- the fork ----------------------------------------------------------------------------------


class ServedFork:
    """The fork as a user's clone, served over git:// as ``kubeflow.git``."""

    def __init__(self, tmp: pathlib.Path) -> None:
        self.work = make_fork(tmp)
        self.bare = tmp / "served" / "kubeflow.git"
        (tmp / "served").mkdir()
        self.server = gitservers.GitDaemonServer(tmp / "served", tmp / "daemon").start()
        self.url = self.server.url("kubeflow.git")  # its port is known once started
        try:
            kubeflow.init(
                self.work / "distributions" / "kubeflow",
                distribution.Pointing(self.url, "main", self.url, "main"),
            )
            gitservers.git("init", "--quiet", "-b", "main", str(self.work))
            self.seed = gitservers.SeedRepo(self.work)
            self.seed.git("config", "user.email", "test@example.com")
            self.seed.git("config", "user.name", "test")
            self.seed.commit("initial", {}, "Deploy Kubeflow with tether")
            self.seed.publish(self.bare)
        except BaseException:
            self.server.stop()
            raise

    def push(self, label: str, files: Mapping[str, str]) -> str:
        """Commit and ``git push`` (the bare repository stays in place while served)."""
        sha = self.seed.commit(label, files)
        self.seed.git("push", "--quiet", str(self.bare), "main")
        return sha


@pytest.fixture
def served_fork(tmp_path: pathlib.Path) -> Iterator[ServedFork]:
    fork = ServedFork(tmp_path)
    try:
        yield fork
    finally:
        fork.server.stop()


# --- reading the cluster -----------------------------------------------------------------------


def applications(kube: Client) -> dict[str, dict[str, Any]]:
    """Every Application of the tether namespace by name."""
    with LIGHTKUBE:
        found = [_plain(a) for a in kube.list(tetherenv.Application, namespace=APP_NAMESPACE)]
    return {str(a["metadata"]["name"]): a for a in found}


def _plain(obj: Any) -> dict[str, Any]:
    return dict(obj if isinstance(obj, dict) else obj.to_dict())


def state_of(app: Mapping[str, Any]) -> str:
    status = app.get("status") or {}
    op = status.get("operationState") or {}
    return (
        f"{(status.get('sync') or {}).get('status')}/{(status.get('health') or {}).get('status')}"
        f" op={op.get('phase')} {str(op.get('message') or '')[:160]}"
    )


def all_converged(kube: Client) -> dict[str, dict[str, Any]] | None:
    """The Applications once the root and its 27 children are Synced and Healthy."""
    apps = applications(kube)
    ready = len(apps) == CHILDREN + 1 and all(
        ((a.get("status") or {}).get("sync") or {}).get("status") == "Synced"
        and ((a.get("status") or {}).get("health") or {}).get("status") == "Healthy"
        and ((a.get("status") or {}).get("operationState") or {}).get("phase")
        not in ("Running", "Terminating")
        for a in apps.values()
    )
    return apps if ready else None


async def wait_converged(
    kube: Client, timeout: float, helpers: asyncio.Task[None]
) -> dict[str, dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        if helpers.done():
            helpers.result()  # a stand-in broke: say how
            raise AssertionError("the stand-ins stopped")
        apps = await asyncio.to_thread(all_converged, kube)
        if apps is not None:
            return apps
        if time.monotonic() > deadline:
            seen = await asyncio.to_thread(applications, kube)
            report = "\n".join(f"  {n}: {state_of(a)}" for n, a in sorted(seen.items()))
            raise AssertionError(f"not converged after {timeout:.0f} s:\n{report}")
        await asyncio.sleep(2.0)


def operation_marks(apps: Mapping[str, Mapping[str, Any]]) -> dict[str, tuple[Any, ...]]:
    """What a sync changes in an Application: its operation's end and its history's length."""
    marks = {}
    for name, app in apps.items():
        status = app.get("status") or {}
        op = status.get("operationState") or {}
        marks[name] = (
            op.get("startedAt"),
            op.get("finishedAt"),
            ((op.get("syncResult") or {}).get("revision")),
            len(status.get("history") or []),
        )
    return marks


def parameter_config_maps(kube: Client) -> set[str]:
    """The volumes web app's generated parameters ConfigMap(s): the name carries a hash."""
    with LIGHTKUBE:
        return _parameter_config_maps(kube)


def _parameter_config_maps(kube: Client) -> set[str]:
    names = {
        str((c.metadata.name if c.metadata else "") or "")
        for c in kube.list(ConfigMap, namespace="kubeflow")
    }
    return {n for n in names if n.startswith("volumes-web-app-parameters-")}


def changes(
    before: Mapping[str, Mapping[str, Any]], after: Mapping[str, Mapping[str, Any]]
) -> dict[str, list[str]]:
    """Application name → the fields that differ (``path: old -> new``), for failure messages."""
    found: dict[str, list[str]] = {}

    def walk(name: str, path: str, old: Any, new: Any) -> None:
        if isinstance(old, Mapping) and isinstance(new, Mapping):
            for key in sorted(set(old) | set(new)):
                walk(name, f"{path}.{key}", old.get(key), new.get(key))
        elif isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
            for i, (o, n) in enumerate(zip(old, new, strict=True)):
                walk(name, f"{path}[{i}]", o, n)
        elif old != new:
            found.setdefault(name, []).append(f"{path}: {str(old)[:120]} -> {str(new)[:120]}")

    for name in sorted(set(before) | set(after)):
        old, new = dict(before.get(name) or {}), dict(after.get(name) or {})
        for side in (old, new):
            side.pop("metadata", None)
        walk(name, "", old, new)
    return found


def writes(before: Mapping[str, int], after: Mapping[str, int]) -> dict[str, int]:
    return {v: after.get(v, 0) - before.get(v, 0) for v in WRITE_VERBS}


def create_dex_password(kube: Client) -> None:
    """What docs/kubeflow.md has the user do before bootstrapping (a dummy bcrypt hash)."""
    kube.apply(
        codecs.from_dict({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "auth"}}),
        field_manager="kubeflow-admin",
    )
    kube.apply(
        codecs.from_dict(
            {
                "apiVersion": "v1",
                "kind": "Secret",
                "metadata": {"name": "dex-passwords", "namespace": "auth"},
                "stringData": {"DEX_USER_PASSWORD": "$2y$12$" + "x" * 53},
            }
        ),
        field_manager="kubeflow-admin",
    )


async def check_objects(
    cluster: bootstrap.DevCluster, apps: Mapping[str, Mapping[str, Any]]
) -> tuple[int, int]:
    """Every resource the children list exists; tracked ones carry their child's tracking-id."""
    listed = [
        (name, ref)
        for name, app in apps.items()
        if name != ROOT
        for ref in (app.get("status") or {}).get("resources") or []
    ]
    settings = Settings(app_namespaces=(APP_NAMESPACE,))
    async with await bootstrap.runtime(
        settings, kubeconfig=str(cluster.kubeconfig), start_cache=False
    ) as rt:
        gate = asyncio.Semaphore(16)

        async def fetch(ref: Mapping[str, Any]) -> Any:
            group, version = ref.get("group") or "", ref.get("version") or "v1"
            api_version = f"{group}/{version}" if group else version
            async with gate:
                return await rt.cluster.get(
                    api_version, ref["kind"], ref["name"], ref.get("namespace") or ""
                )

        lives = await asyncio.gather(*(fetch(ref) for _, ref in listed))
    missing, untracked, crds = [], [], 0
    for (name, ref), live in zip(listed, lives, strict=True):
        what = f"{name}: {ref['kind']} {ref.get('namespace') or ''}/{ref['name']}"
        if live is None:
            missing.append(what)
            continue
        tracking_id = ((live.get("metadata") or {}).get("annotations") or {}).get(
            tracking.TRACKING_ID, ""
        )
        if tracking.is_crd(live):
            crds += 1
            assert not tracking_id, f"{what} carries a tracking-id"
        elif not tracking_id.startswith(f"{name}:"):
            untracked.append(f"{what}: {tracking_id!r}")
    assert not missing, f"{len(missing)} listed resources do not exist: {missing[:20]}"
    assert not untracked, f"{len(untracked)} objects lack their tracking-id: {untracked[:20]}"
    return len(listed), crds


def unhealthy_resources(apps: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Resources with a health other than Healthy, unless ``NOT_HEALTHY`` explains them."""
    found = []
    for name, app in apps.items():
        for ref in (app.get("status") or {}).get("resources") or []:
            health = (ref.get("health") or {}).get("status")
            if health == "Healthy":
                continue
            if health is None:
                if ref["kind"] not in NO_HEALTH:
                    found.append(f"{name}: {ref['kind']} {ref['name']} has no health")
                continue
            expected = NOT_HEALTHY.get((name, ref["kind"]))
            if expected is None or expected[0] != health:
                found.append(
                    f"{name}: {ref['kind']} {ref.get('namespace') or ''}/{ref['name']} is "
                    f"{health} ({(ref.get('health') or {}).get('message')})"
                )
    return found


async def every_child_reachable_in_the_ui(kube: Client, url: str, tmp: pathlib.Path) -> None:
    """Sign in as admin in Debian's Chromium, open the root's tree, follow each child's node."""
    with LIGHTKUBE:
        secret = kube.get(Secret, "argocd-initial-admin-secret", namespace=APP_NAMESPACE)
    password = base64.b64decode((secret.data or {})["password"]).decode()
    shots = uienv.Shots(tmp)
    async with uienv.chromium() as browser:
        site = uienv.Site(url, APP_NAMESPACE, password, kube, None, None)  # type: ignore[arg-type]
        page = await uienv.signed_in(browser, site, "admin", password)
        await page.goto(f"{url}/applications/{APP_NAMESPACE}/{ROOT}")
        await page.locator("[data-tree-ready='true']").wait_for()
        await shots.take(page, "kubeflow-root-tree")
        # The header shows the root's last sync wave by wave, every wave of children done.
        waves = page.locator("#app-header .waves [data-phase='Sync'][data-wave]")
        states = [
            await waves.nth(i).get_attribute("data-state") for i in range(await waves.count())
        ]
        assert len(states) > 1 and set(states) == {"done"}, states
        nodes = page.locator("a.node-link-app[data-node-kind='Application']")
        links = {
            str(await nodes.nth(i).get_attribute("data-node-name")): str(
                await nodes.nth(i).get_attribute("href")
            )
            for i in range(await nodes.count())
        }
        children = set(applications(kube)) - {ROOT}
        assert set(links) == children, set(links) ^ children
        for name, href in sorted(links.items()):
            await page.goto(urllib.parse.urljoin(url, href))
            assert await page.title() == f"{name} · tether", name
        await shots.take(page, "kubeflow-last-child")


# --- the test ----------------------------------------------------------------------------------


@pytest.mark.timeout(900)
async def test_kubeflow_converges_from_a_fork_stays_idle_and_syncs_only_the_changed_child(
    full_cluster: bootstrap.DevCluster, served_fork: ServedFork, tmp_path: pathlib.Path
) -> None:
    tetherenv.install_crds(full_cluster.kubeconfig)
    kube = tetherenv.client(full_cluster.kubeconfig)
    metrics = tetherenv.free_metrics_address()
    distribution_dir = served_fork.work / "distributions" / "kubeflow"
    api_urls: list[str] = []
    api = server.beside_controller(
        api_main.ApiOptions(address="127.0.0.1:0"), listening=api_urls.append
    )
    try:
        create_dex_password(kube)
        async with (
            stand_ins(full_cluster) as helpers,
            tetherenv.running_controller(
                full_cluster.kubeconfig,
                APP_NAMESPACE,
                tmp_path / "cache",
                resync_s=RESYNC_S,
                metrics_address=metrics,
                beside=[api],
            ),
        ):
            started = time.monotonic()
            applied = await asyncio.to_thread(
                CliRunner().invoke,
                cli,
                ["kubeflow", "bootstrap", "--dir", str(distribution_dir),
                 "--kubeconfig", str(full_cluster.kubeconfig)],
            )  # fmt: skip
            assert applied.exit_code == 0, applied.output
            assert "warning" not in applied.output, applied.output

            # 1. The root and all 27 children converge; 683 objects, tracked but the CRDs.
            apps = await wait_converged(kube, CONVERGE_TIMEOUT_S, helpers)
            converged_s = time.monotonic() - started
            print(f"\nKubeflow converged in {converged_s:.0f} s")
            children = {n: a for n, a in apps.items() if n != ROOT}
            assert len(children) == CHILDREN
            listed, crds = await check_objects(full_cluster, children)
            assert (listed, crds) == (OBJECTS, CRDS)
            root_children = apps[ROOT]["status"]["resources"]
            assert len(root_children) == CHILDREN + 1  # and the AppProject

            # 2. Every resource with a health check is Healthy, or explained.
            assert unhealthy_resources(apps) == []
            with LIGHTKUBE:
                secret = kube.get(Secret, "dex-passwords", namespace="auth")
            assert secret.data and "DEX_USER_PASSWORD" in secret.data

            # 3. Idle: over a whole resync period (plus its jitter), no write request at all.
            # Asserted at the end, so that one (long) run also shows step 4.
            apps = applications(kube)
            before = await asyncio.to_thread(tetherenv.controller_requests, metrics)
            await asyncio.sleep(RESYNC_S + 0.5 + 2.0)
            after = await asyncio.to_thread(tetherenv.controller_requests, metrics)
            idle_writes = writes(before, after)
            rewritten = changes(apps, applications(kube))
            assert all_converged(kube) is not None

            # 4. One parameter of one component changes: only its child syncs.
            marks = operation_marks(applications(kube))
            params = "applications/volumes-web-app/upstream/base/params.env"
            text = (served_fork.work / params).read_text()
            assert "VWA_APP_SECURE_COOKIES=true" in text
            old_config = parameter_config_maps(kube)
            changed = text.replace("VWA_APP_SECURE_COOKIES=true", "VWA_APP_SECURE_COOKIES=false")
            sha = await asyncio.to_thread(served_fork.push, "insecure-cookies", {params: changed})

            def changed_synced() -> bool:
                app = applications(kube)["volumes-web-app"]
                op = app["status"].get("operationState") or {}
                return (op.get("syncResult") or {}).get("revision") == sha and op.get(
                    "phase"
                ) == "Succeeded"

            await tetherenv.eventually(changed_synced, 180, "volumes-web-app synced")
            await tetherenv.eventually(
                lambda: all_converged(kube), 120, "everything Synced and Healthy again"
            )
            await asyncio.sleep(RESYNC_S + 1.0)  # every child has seen the new commit
            apps = applications(kube)
            after_marks = operation_marks(apps)
            moved = sorted(n for n in marks if after_marks[n] != marks[n])
            assert moved == ["volumes-web-app"], {n: (marks[n], after_marks[n]) for n in moved}
            for name, app in apps.items():
                assert app["status"]["sync"]["revision"] == sha, name
            with LIGHTKUBE:
                deployment: Any = kube.get(
                    Deployment, "volumes-web-app-deployment", namespace="kubeflow"
                )
            env = {e.name: e.value for e in deployment.spec.template.spec.containers[0].env}
            assert env["APP_SECURE_COOKIES"] == "false"
            new_config = parameter_config_maps(kube)
            assert len(new_config) == 1 and new_config.isdisjoint(old_config)

            # 3, continued: the Applications a write touched, and which fields it changed.
            assert idle_writes == dict.fromkeys(WRITE_VERBS, 0), rewritten

            # 5. In the web UI, the root's tree reaches every child's own page.
            await every_child_reachable_in_the_ui(kube, api_urls[0], tmp_path)
    finally:
        kube.close()
        shutil.rmtree(served_fork.work, ignore_errors=True)
