"""The remote CLI as a user drives it: ``tether login`` and ``tether app`` through the API server.

``tether run`` (controller and API server in one child process, the API on a free loopback port)
reconciles the test's namespace; every command is ``python -m tether ...`` in a subprocess with
its own config directory, as a shell would run it. The admin password is read from the Secret
``argocd-initial-admin-secret`` the server writes.
"""

from __future__ import annotations

import re
import stat
import subprocess
from collections.abc import Iterator

import pytest
import yaml
from lightkube.resources.core_v1 import ConfigMap

from tests.support import remotecli, tetherenv
from tests.support.remotecli import Remote

pytestmark = pytest.mark.timeout(420)

CHART = "apiVersion: v2\nname: capabilities\nversion: 0.1.0\n"
CAPABILITIES = """apiVersion: v1
kind: ConfigMap
metadata: {name: capabilities}
data:
  kubeVersion: {{ .Capabilities.KubeVersion.Version | quote }}
  applications: {{ .Capabilities.APIVersions.Has "argoproj.io/v1alpha1/Application" | quote }}
"""


@pytest.fixture(scope="module")
def crds(full_cluster):
    tetherenv.install_crds(full_cluster.kubeconfig)
    return full_cluster


@pytest.fixture
def remote(crds, full_namespace, tmp_path) -> Iterator[Remote]:
    # A local account without any permission (no RBAC policy names it).
    with remotecli.served(
        crds.kubeconfig, full_namespace, tmp_path, settings={"accounts.alice": "login"}
    ) as world:
        yield world


def test_login_then_create_list_get_sync_and_delete_an_app_through_the_server(remote):
    remote.login("admin", remote.admin_password())
    config = remote.config_file()
    assert stat.S_IMODE(config.stat().st_mode) == 0o600

    created = remote.tether(*remote.create_args())
    assert created.returncode == 0, created.stderr
    assert f"application {remote.namespace}/{remote.name} created" in created.stdout

    listed = remote.tether("app", "list")
    assert listed.returncode == 0, listed.stderr
    header, *rows = listed.stdout.splitlines()
    assert header.split() == ["NAME", "PROJECT", "SYNC", "HEALTH", "OPERATION", "REVISION"]
    assert [r.split()[:2] for r in rows] == [[remote.name, "default"]]

    shown = remote.tether("app", "get", remote.name)
    assert shown.returncode == 0, shown.stderr
    assert f"Name:          {remote.namespace}/{remote.name}" in shown.stdout
    assert f"Repo:          {remote.repo.url}" in shown.stdout
    assert "Sync Window:   Sync Allowed" in shown.stdout  # judged from the project, as in core

    synced = remote.tether("app", "sync", remote.name, "--timeout", "150")
    assert synced.returncode == 0, synced.stdout + synced.stderr
    assert re.search(r"Phase:\s+Succeeded", synced.stdout)
    assert tetherenv.exists(remote.kube, ConfigMap, "web-config", remote.namespace)

    waited = remote.tether("app", "wait", remote.name, "--sync", "--timeout", "60")
    assert waited.returncode == 0, waited.stderr
    assert "Sync Status:   Synced" in waited.stdout

    deleted = remote.tether("app", "delete", remote.name, "--wait", "--timeout", "120")
    assert deleted.returncode == 0, deleted.stderr
    assert not tetherenv.exists(remote.kube, tetherenv.Application, remote.name, remote.namespace)

    logged_out = remote.tether("logout")
    assert logged_out.returncode == 0, logged_out.stderr
    assert remote.tokens() == []


def test_the_token_never_appears_in_what_the_cli_prints(remote):
    remote.login("admin", remote.admin_password())
    (token,) = remote.tokens()

    remote.tether("app", "list")
    remote.tether("app", "get", "no-such-app")
    remote.tether("context")
    remote.tether("account", "get")
    remote.tether("app", "list", "--server", "127.0.0.1:1", "--plaintext", "--auth-token", token)

    assert all(token not in text for text in remote.outputs)


def test_core_mode_still_talks_to_kubernetes_while_a_context_is_current(remote: Remote):
    remote.login("admin", remote.admin_password())
    ns = remote.namespace

    def core(*args: str) -> subprocess.CompletedProcess[str]:
        where = ["--kubeconfig", str(remote.kubeconfig), "-n", ns]
        return remote.tether(*args, "--core", *where, "--control-plane-namespace", ns)

    created = core(*remote.create_args())
    assert created.returncode == 0, created.stderr
    stored = tetherenv.get(remote.kube, tetherenv.Application, remote.name, ns)
    assert stored["spec"]["source"]["path"] == "app"

    changed = core("app", "set", remote.name, "--sync-option", "CreateNamespace=true")
    assert changed.returncode == 0, changed.stderr
    stored = tetherenv.get(remote.kube, tetherenv.Application, remote.name, ns)
    assert stored["spec"]["syncPolicy"]["syncOptions"] == ["CreateNamespace=true"]

    listed = core("app", "list")
    assert listed.returncode == 0, listed.stderr
    assert remote.name in listed.stdout

    rendered = core("app", "manifests", remote.name)
    assert rendered.returncode == 0, rendered.stderr
    assert "name: web-config" in rendered.stdout

    # A chart renders for the app's cluster here too: its version, a kind only it serves.
    remote.repo.commit({"chart/Chart.yaml": CHART, "chart/templates/cm.yaml": CAPABILITIES})
    chart_app = remote.create_args()
    chart_app[2], chart_app[chart_app.index("--path") + 1] = "caps", "chart"
    assert core(*chart_app).returncode == 0
    rendered = core("app", "manifests", "caps")
    assert rendered.returncode == 0, rendered.stderr
    [capabilities] = [doc for doc in yaml.safe_load_all(rendered.stdout) if doc]
    assert capabilities["data"] == {
        "kubeVersion": tetherenv.KUBE_VERSION,
        "applications": "true",
    }


def test_a_user_without_rights_sees_permission_denied_and_a_failing_exit_code(remote):
    admin_password = remote.admin_password()
    remote.login("admin", admin_password)
    tetherenv.create(
        remote.kube,
        tetherenv.application(
            remote.name, remote.namespace, remote.repo.url, "app", remote.namespace
        ),
    )
    changed = remote.tether(
        "account",
        "update-password",
        "--account",
        "alice",
        "--current-password",
        admin_password,
        "--new-password",
        "alice-password-1",
    )
    assert changed.returncode == 0, changed.stderr
    remote.login("alice", "alice-password-1", config="alice")

    shown = remote.tether("app", "get", remote.name, config="alice")
    assert shown.returncode != 0
    assert "permission denied" in shown.stderr

    synced = remote.tether("app", "sync", remote.name, config="alice")
    assert synced.returncode != 0
    assert "permission denied" in synced.stderr

    listed = remote.tether("app", "list", config="alice")
    assert listed.returncode == 0, listed.stderr
    assert remote.name not in listed.stdout

    allowed = remote.tether("account", "can-i", "get", "applications", "*/*", config="alice")
    assert allowed.stdout.strip() == "no"


def test_a_wrong_password_is_refused_and_nothing_is_saved(remote):
    refused = remote.tether(
        "login", remote.server, "--plaintext", "--username", "admin", "--password", "wrong"
    )

    assert refused.returncode != 0
    assert "Invalid username or password" in refused.stderr
    assert not remote.config_file().exists()
