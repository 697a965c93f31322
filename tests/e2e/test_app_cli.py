"""``tether app`` as a user drives it: the real command, controller, API server and Git server.

The controller runs as ``tether run`` in a child process, reconciling the test's namespace only;
every command is ``python -m tether app ...`` in a subprocess, as a shell would run it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from lightkube import Client
from lightkube.core.exceptions import ApiError
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.apps_v1 import Deployment
from lightkube.resources.core_v1 import ConfigMap, Event
from lightkube.types import PatchType

from tests.support import tetherenv

pytestmark = pytest.mark.timeout(300)

CONFIG = """apiVersion: v1
kind: ConfigMap
metadata: {name: web-config}
data: {greeting: "%s"}
"""
DEPLOYMENT = """apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: %d
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: nginx:1.27}]
"""


def files(greeting: str, replicas: int) -> dict[str, str]:
    return {"app/config.yaml": CONFIG % greeting, "app/deploy.yaml": DEPLOYMENT % replicas}


class Env:
    """One test's world: a namespace, a served repository, a controller and the CLI."""

    def __init__(self, kubeconfig: Path, namespace: str, repo: tetherenv.ServedRepo) -> None:
        self.kubeconfig = kubeconfig
        self.namespace = namespace
        self.repo = repo
        self.kube: Client = tetherenv.client(kubeconfig)
        # Unique: tracking names are the app's name, and other tests' controllers share the
        # cluster.
        self.name = f"web-{uuid.uuid4().hex[:6]}"

    def tether(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess[str]:
        """``tether app <args> -n <namespace>`` against this cluster."""
        argv = [
            sys.executable,
            "-m",
            "tether",
            "app",
            *args,
            "--kubeconfig",
            str(self.kubeconfig),
            "-n",
            self.namespace,
            "--control-plane-namespace",
            self.namespace,
        ]
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)

    def create_app(self, **spec: Any) -> None:
        app = tetherenv.application(
            self.name, self.namespace, self.repo.url, "app", self.namespace, **spec
        )
        tetherenv.create(self.kube, app)

    def stored(self) -> dict[str, Any]:
        return tetherenv.get(self.kube, tetherenv.Application, self.name, self.namespace)

    def status(self) -> dict[str, Any]:
        return tetherenv.app_status(self.kube, self.namespace, self.name)


def until(check: Callable[[], Any], timeout: float = 60.0, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}: last value {last!r}")


@pytest.fixture(scope="module")
def crds(full_cluster):
    tetherenv.install_crds(full_cluster.kubeconfig)
    return full_cluster


@pytest.fixture
def env(crds, full_namespace, tmp_path) -> Iterator[Env]:
    repo = tetherenv.serve_repo(tmp_path / "git", files("hello", 1))
    controller = tetherenv.start_controller_process(
        crds.kubeconfig, full_namespace, tmp_path / "cache", tmp_path / "controller.log"
    )
    world = Env(crds.kubeconfig, full_namespace, repo)
    try:
        yield world
    finally:
        world.kube.close()
        controller.stop()
        repo.server.stop()
        print(controller.log()[-4000:])


def compared(env: Env) -> str:
    return str(until(lambda: env.status().get("sync", {}).get("status"), what="a first comparison"))


def test_list_and_get_show_the_app_and_get_json_prints_exactly_what_is_stored(env):
    env.create_app()
    compared(env)

    listed = env.tether("list")
    assert listed.returncode == 0, listed.stderr
    header, *rows = listed.stdout.splitlines()
    assert header.split() == ["NAME", "PROJECT", "SYNC", "HEALTH", "OPERATION", "REVISION"]
    assert rows[0].split()[:3] == [env.name, "default", "OutOfSync"]
    assert rows[0].split()[-1] == env.repo.seed.shas["initial"][:7]

    wide = env.tether("list", "-o", "wide")
    assert wide.returncode == 0, wide.stderr
    assert env.repo.url in wide.stdout
    assert "Manual" in wide.stdout

    shown = env.tether("get", env.name)
    assert shown.returncode == 0, shown.stderr
    assert f"Name:          {env.namespace}/{env.name}" in shown.stdout
    assert "Sync Status:   OutOfSync" in shown.stdout
    assert "GROUP  KIND" in shown.stdout
    assert "web-config" in shown.stdout

    # The controller may write between the two reads; they must agree when nothing changed.
    for _ in range(10):
        printed = env.tether("get", env.name, "-o", "json")
        assert printed.returncode == 0, printed.stderr
        stored = env.stored()
        document = json.loads(printed.stdout)
        if document["metadata"]["resourceVersion"] == stored["metadata"]["resourceVersion"]:
            assert document == stored
            break
    else:
        pytest.fail("the Application never stood still long enough to compare")


def test_an_unknown_app_is_named_with_its_namespace(env):
    shown = env.tether("get", "no-such-app")

    assert shown.returncode == 2
    assert f"'no-such-app' not found in namespace '{env.namespace}'" in shown.stderr


def test_an_unreachable_cluster_is_named_by_its_server(env, tmp_path):
    config = env.kubeconfig.read_text()
    server = next(line.split()[-1] for line in config.splitlines() if "server:" in line)
    dead = tmp_path / "dead-kubeconfig"
    dead.write_text(config.replace(server, "https://127.0.0.1:1"))

    listed = subprocess.run(
        [sys.executable, "-m", "tether", "app", "list", "--kubeconfig", str(dead)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert listed.returncode == 2
    assert "cannot reach the Kubernetes API server https://127.0.0.1:1" in listed.stderr


def test_diff_exits_1_before_a_sync_that_shows_progress_and_succeeds_then_0(env):
    env.create_app()
    compared(env)

    before = env.tether("diff", env.name)
    assert before.returncode == 1, before.stderr
    assert "===== ConfigMap" in before.stdout
    assert "+  greeting: hello" in before.stdout

    synced = env.tether("sync", env.name, "--timeout", "120")
    assert synced.returncode == 0, synced.stdout + synced.stderr
    lines = synced.stdout.splitlines()
    assert any(line.startswith("Running") for line in lines)
    progress = [line.split() for line in lines if line[:4].isdigit()]
    for kind in ("ConfigMap", "Deployment"):
        assert any(kind in row and "Synced" in row for row in progress), lines
    assert "Phase:         Succeeded" in synced.stdout
    assert env.status()["operationState"]["phase"] == "Succeeded"
    tetherenv.get(env.kube, ConfigMap, "web-config", env.namespace)

    until(lambda: env.status().get("sync", {}).get("status") == "Synced", what="Synced")
    after = env.tether("diff", env.name)
    assert after.returncode == 0, after.stdout + after.stderr
    assert after.stdout == ""

    waited = env.tether("wait", env.name, "--health", "--timeout", "120")
    assert waited.returncode == 0, waited.stderr
    assert "Health Status: Healthy" in waited.stdout


def test_a_second_sync_is_refused_while_the_first_is_pending(env):
    # The controller leaves the operation of an app whose project does not exist untouched.
    env.create_app(project="no-such-project")
    until(lambda: env.status().get("conditions"), what="the InvalidSpecError condition")

    requested = env.tether("sync", env.name, "--async")
    assert requested.returncode == 0, requested.stderr
    assert env.stored()["operation"]["initiatedBy"]["username"]

    again = env.tether("sync", env.name, "--async")
    assert again.returncode == 2
    assert "another operation is already in progress" in again.stderr

    stopped = env.tether("terminate-op", env.name)
    assert stopped.returncode == 2
    assert "none is in progress" in stopped.stderr

    # As if a controller had started it: now there is something to terminate.
    tetherenv.patch_app(
        env.kube,
        env.namespace,
        env.name,
        {"status": {"operationState": {"phase": "Running", "message": "waiting"}}},
    )
    stopped = env.tether("terminate-op", env.name)
    assert stopped.returncode == 0, stopped.stderr
    assert env.status()["operationState"]["phase"] == "Terminating"


def test_history_lists_two_syncs_and_rollback_to_the_first_turns_auto_sync_off(env):
    env.create_app()
    compared(env)
    first = env.repo.seed.shas["initial"]
    assert env.tether("sync", env.name, "--timeout", "120").returncode == 0
    second = env.repo.commit(files("goodbye", 2), "second")
    # A hard refresh first, so the sync pins the new commit (see the xfail tests below).
    assert env.tether("refresh", env.name, "--hard", "--timeout", "60").returncode == 0
    synced = env.tether("sync", env.name, "--timeout", "120")
    assert synced.returncode == 0, synced.stdout + synced.stderr
    assert f"Sync Revision: {second}" in synced.stdout

    history = env.tether("history", env.name)
    assert history.returncode == 0, history.stderr
    header, *rows = history.stdout.splitlines()
    assert header.split()[:3] == ["ID", "DATE", "REVISION"]
    assert [row.split()[2] for row in rows] == [first, second]

    tetherenv.patch_app(
        env.kube, env.namespace, env.name, {"spec": {"syncPolicy": {"automated": {}}}}
    )
    first_id = next(row.split()[0] for row in rows if row.split()[2] == first)
    rolled = env.tether("rollback", env.name, first_id, "--timeout", "120")
    assert rolled.returncode == 0, rolled.stdout + rolled.stderr
    assert f"Sync Revision: {first}" in rolled.stdout
    assert "automated sync" in rolled.stderr

    stored = env.stored()
    assert "automated" not in (stored["spec"].get("syncPolicy") or {})
    conditions = {c["type"]: c["message"] for c in stored["status"].get("conditions") or []}
    assert "rollback to history" in conditions["AutoSyncDisabled"]
    config = tetherenv.get(env.kube, ConfigMap, "web-config", env.namespace)
    assert config["data"] == {"greeting": "hello"}
    events = env.kube.list(Event, namespace=env.namespace)
    assert any(e.reason == "AutoSyncDisabled" and e.involvedObject.name == env.name for e in events)
    # Auto-sync stays off: the app stays on the old revision, OutOfSync with main.
    until(lambda: env.status().get("sync", {}).get("status") == "OutOfSync", what="OutOfSync")
    time.sleep(3)
    assert env.status()["operationState"]["syncResult"]["revision"] == first


def test_history_ids_increase_with_each_sync(env):
    env.create_app()
    compared(env)
    assert env.tether("sync", env.name, "--timeout", "120").returncode == 0
    env.repo.commit(files("goodbye", 2), "second")
    assert env.tether("refresh", env.name, "--hard", "--timeout", "60").returncode == 0
    assert env.tether("sync", env.name, "--timeout", "120").returncode == 0

    ids = [h["id"] for h in env.status()["history"]]

    assert ids == [0, 1]


def test_a_sync_right_after_a_push_deploys_the_new_commit(env):
    env.create_app()
    compared(env)
    second = env.repo.commit(files("goodbye", 2), "second")

    synced = env.tether("sync", env.name, "--timeout", "120")

    assert f"Sync Revision: {second}" in synced.stdout


def test_a_normal_refresh_right_after_a_push_sees_the_new_commit(env):
    env.create_app()
    compared(env)
    second = env.repo.commit(files("goodbye", 2), "second")

    refreshed = env.tether("refresh", env.name, "--timeout", "60")

    assert refreshed.returncode == 0, refreshed.stderr
    assert env.status()["sync"]["revision"] == second


def test_a_sync_with_create_namespace_succeeds(env):
    # This failed before 28d43dc: the synthetic Namespace was refused as an unknown kind.
    env.create_app(syncPolicy={"syncOptions": ["CreateNamespace=true"]})
    compared(env)

    synced = env.tether("sync", env.name, "--timeout", "120")

    assert synced.returncode == 0, synced.stdout


STUCK_HOOK = """apiVersion: v1
kind: Pod
metadata:
  name: stuck-hook
  annotations: {argocd.argoproj.io/hook: PreSync}
spec:
  nodeSelector: {no-such-node: "true"}
  containers: [{name: x, image: busybox}]
"""


def test_terminate_op_stops_a_sync_waiting_on_a_hook_that_never_completes(env):
    env.repo.commit({"app/hook.yaml": STUCK_HOOK}, "stuck")
    env.create_app()
    compared(env)
    requested = env.tether("sync", env.name, "--async")
    assert requested.returncode == 0, requested.stderr
    try:
        until(
            lambda: (
                "waiting for completion of hook"
                in (env.status().get("operationState") or {}).get("message", "")
            ),
            timeout=120,
            what="the sync to wait on its hook",
        )
    except AssertionError:
        pytest.fail(f"the sync never waited on its hook: {env.status().get('operationState')}")

    stopped = env.tether("terminate-op", env.name)
    assert stopped.returncode == 0, stopped.stderr

    waited = env.tether("wait", env.name, "--operation", "--timeout", "60")
    assert waited.returncode == 0, waited.stderr
    state = env.status()["operationState"]
    assert (state["phase"], state["message"]) == ("Failed", "Operation terminated")


def test_delete_with_cascade_removes_the_resources_and_the_app(env):
    env.create_app()
    compared(env)
    assert env.tether("sync", env.name, "--timeout", "120").returncode == 0
    tetherenv.get(env.kube, Deployment, "web", env.namespace)

    deleted = env.tether("delete", env.name, "--wait", "--timeout", "120")
    assert deleted.returncode == 0, deleted.stdout + deleted.stderr

    for kind, name in ((ConfigMap, "web-config"), (Deployment, "web")):
        with pytest.raises(ApiError) as gone:
            env.kube.get(kind, name, namespace=env.namespace)
        assert gone.value.status.code == 404
    assert env.tether("get", env.name).returncode == 2


def test_delete_without_cascade_keeps_the_resources(env):
    env.create_app()
    compared(env)
    assert env.tether("sync", env.name, "--timeout", "120").returncode == 0

    deleted = env.tether("delete", env.name, "--no-cascade", "--wait", "--timeout", "60")
    assert deleted.returncode == 0, deleted.stdout + deleted.stderr

    assert tetherenv.get(env.kube, ConfigMap, "web-config", env.namespace)["data"]


# ---- tether render: no cluster ------------------------------------------------------------------

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo"


def render(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tether", "render", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_render_prints_the_objects_of_an_application_as_a_yaml_stream():
    rendered = render("-f", str(DEMO / "apps" / "plain.yaml"), "--repo-root", str(DEMO))

    assert rendered.returncode == 0, rendered.stderr
    objects = list(yaml.safe_load_all(rendered.stdout))
    assert {(o["kind"], o["metadata"]["name"]) for o in objects} == {
        ("ConfigMap", "web-config"),
        ("Service", "web"),
        ("Deployment", "web"),
    }


def test_render_names_the_app_the_file_and_the_reason_when_it_cannot(tmp_path):
    app = (DEMO / "apps" / "plain.yaml").read_text().replace("path: plain", "path: missing")
    manifest = tmp_path / "app.yaml"
    manifest.write_text(app)

    rendered = render("-f", str(manifest), "--repo-root", str(DEMO))

    assert rendered.returncode == 1
    assert str(manifest) in rendered.stderr
    assert "demo-plain" in rendered.stderr
    assert "'missing' is not a directory" in rendered.stderr
    assert rendered.stdout == ""


def test_diff_leaves_out_what_argocd_cm_ignores_as_the_controller_does(env):
    env.create_app()
    compared(env)
    synced = env.tether("sync", env.name, "--timeout", "120")
    assert synced.returncode == 0, synced.stdout + synced.stderr
    env.kube.patch(
        ConfigMap,
        "web-config",
        {"data": {"greeting": "changed by hand"}},
        namespace=env.namespace,
        patch_type=PatchType.MERGE,
    )
    drifted = env.tether("diff", env.name)
    assert drifted.returncode == 1, drifted.stderr
    assert "greeting" in drifted.stdout

    ignore = {"resource.customizations.ignoreDifferences.ConfigMap": "jsonPointers: [/data]"}
    env.kube.create(
        ConfigMap(metadata=ObjectMeta(name="argocd-cm", namespace=env.namespace), data=ignore)
    )
    quiet = env.tether("diff", env.name)
    assert quiet.returncode == 0, quiet.stdout + quiet.stderr
    # The controller (tether run) follows the same ConfigMap: the app is Synced again.
    until(lambda: env.status().get("sync", {}).get("status") == "Synced", what="Synced")
