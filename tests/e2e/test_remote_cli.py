"""The remote CLI as a user drives it: ``tether login`` and ``tether app`` through the API server.

``tether run`` (controller and API server in one child process, the API on a free loopback port)
reconciles the test's namespace; every command is ``python -m tether ...`` in a subprocess with
its own config directory, as a shell would run it. The admin password is read from the Secret
``argocd-initial-admin-secret`` the server writes.
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import stat
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
from lightkube.resources.core_v1 import ConfigMap, Secret

from tests.support import dex as dexsupport, tetherenv

pytestmark = pytest.mark.timeout(420)

CONFIG = """apiVersion: v1
kind: ConfigMap
metadata: {name: web-config}
data: {greeting: "%s"}
"""
LISTENING = re.compile(r"API server listening on (https?://\S+)")
SSO_CLI_CLIENT = "tether-cli"


def until(check: Callable[[], Any], timeout: float = 60.0, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}: last value {last!r}")


class Remote:
    """One test's world: a namespace served by ``tether run`` with its API, and the CLI."""

    def __init__(
        self, kubeconfig: Path, namespace: str, repo: tetherenv.ServedRepo, home: Path
    ) -> None:
        self.kubeconfig = kubeconfig
        self.namespace = namespace
        self.repo = repo
        self.home = home
        self.kube: Client = tetherenv.client(kubeconfig)
        self.server = ""
        self.name = f"web-{uuid.uuid4().hex[:6]}"
        self.outputs: list[str] = []

    def tether(
        self, *args: str, timeout: float = 180, config: str = "default"
    ) -> subprocess.CompletedProcess[str]:
        """``tether <args>`` with this user's config directory (``config`` names the user)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("TETHER_")}
        env["XDG_CONFIG_HOME"] = str(self.home / config)
        env.pop("KUBECONFIG", None)  # remote commands need no Kubernetes credentials
        done = subprocess.run(
            [sys.executable, "-m", "tether", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            env=env,
        )
        self.outputs += [done.stdout, done.stderr]
        return done

    def config_file(self, config: str = "default") -> Path:
        return self.home / config / "tether" / "config"

    def tokens(self) -> list[str]:
        found: list[str] = []
        for path in self.home.glob("*/tether/config"):
            users = yaml.safe_load(path.read_text()).get("users") or []
            found.extend(u["auth-token"] for u in users if u.get("auth-token"))
        return found

    def admin_password(self) -> str:
        def read() -> str:
            try:
                secret = self.kube.get(
                    Secret, "argocd-initial-admin-secret", namespace=self.namespace
                )
            except ApiError:
                return ""
            return base64.b64decode((secret.data or {}).get("password", "")).decode()

        return str(until(read, what="the initial admin password"))

    def login(self, username: str, password: str, config: str = "default") -> None:
        done = self.tether(
            "login",
            self.server,
            "--plaintext",
            "--username",
            username,
            "--password",
            password,
            "--name",
            "e2e",
            config=config,
        )
        assert done.returncode == 0, done.stderr


def api_url(log: Callable[[], str]) -> str:
    found = until(lambda: LISTENING.search(log()), timeout=90, what="the API server to listen")
    return str(found.group(1)).removeprefix("http://")


@pytest.fixture(scope="module")
def crds(full_cluster):
    tetherenv.install_crds(full_cluster.kubeconfig)
    return full_cluster


@pytest.fixture
def remote(crds, full_namespace, tmp_path) -> Iterator[Remote]:
    repo = tetherenv.serve_repo(tmp_path / "git", {"app/config.yaml": CONFIG % "hello"})
    world = Remote(crds.kubeconfig, full_namespace, repo, tmp_path / "home")
    # A local account without any permission (no RBAC policy names it).
    world.kube.create(
        ConfigMap(
            metadata=ObjectMeta(name="argocd-cm", namespace=full_namespace),
            data={"accounts.alice": "login"},
        )
    )
    controller = tetherenv.start_controller_process(
        crds.kubeconfig,
        full_namespace,
        tmp_path / "cache",
        tmp_path / "controller.log",
        extra_args=["--api-address", "127.0.0.1:0"],
    )
    try:
        world.server = api_url(controller.log)
        yield world
    finally:
        world.kube.close()
        controller.stop()
        repo.server.stop()
        print(controller.log()[-4000:])


def test_login_then_create_list_get_sync_and_delete_an_app_through_the_server(remote):
    remote.login("admin", remote.admin_password())
    config = remote.config_file()
    assert stat.S_IMODE(config.stat().st_mode) == 0o600

    created = remote.tether(
        "app",
        "create",
        remote.name,
        "--repo",
        remote.repo.url,
        "--path",
        "app",
        "--revision",
        "main",
        "--dest-server",
        "https://kubernetes.default.svc",
        "--dest-namespace",
        remote.namespace,
    )
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


def test_core_mode_still_talks_to_kubernetes_while_a_context_is_current(remote):
    remote.login("admin", remote.admin_password())
    tetherenv.create(
        remote.kube,
        tetherenv.application(
            remote.name, remote.namespace, remote.repo.url, "app", remote.namespace
        ),
    )

    listed = remote.tether(
        "app",
        "list",
        "--core",
        "--kubeconfig",
        str(remote.kubeconfig),
        "-n",
        remote.namespace,
        "--control-plane-namespace",
        remote.namespace,
    )

    assert listed.returncode == 0, listed.stderr
    assert remote.name in listed.stdout

    rendered = remote.tether(
        "app",
        "manifests",
        remote.name,
        "--core",
        "--kubeconfig",
        str(remote.kubeconfig),
        "-n",
        remote.namespace,
        "--control-plane-namespace",
        remote.namespace,
    )
    assert rendered.returncode == 0, rendered.stderr
    assert "name: web-config" in rendered.stdout


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


def test_tether_login_sso_signs_in_through_dex_and_the_groups_claim_grants_rbac(
    crds, full_namespace, tmp_path
):
    port = dexsupport.free_port()
    cli_client = dexsupport.Client(
        SSO_CLI_CLIENT, "", (f"http://localhost:{port}/auth/callback",), public=True
    )
    web_client = dexsupport.Client("tether", secrets.token_urlsafe(16))
    dex = dexsupport.start(tmp_path / "dex", [web_client, cli_client])
    repo = tetherenv.serve_repo(tmp_path / "git", {"app/config.yaml": CONFIG % "hello"})
    world = Remote(crds.kubeconfig, full_namespace, repo, tmp_path / "home")
    oidc = "\n".join(
        [
            "name: Dex",
            f"issuer: {dex.issuer}",
            "clientID: tether",
            "clientSecret: $oidc.dex.clientSecret",
            f"cliClientID: {SSO_CLI_CLIENT}",
            "requestedScopes: [openid, profile, email, groups]",
        ]
    )
    world.kube.create(
        ConfigMap(
            metadata=ObjectMeta(name="argocd-cm", namespace=full_namespace),
            data={"url": "http://127.0.0.1", "oidc.config": oidc + "\n"},
        )
    )
    world.kube.create(
        ConfigMap(
            metadata=ObjectMeta(name="argocd-rbac-cm", namespace=full_namespace),
            data={
                "policy.csv": f"g, {dexsupport.USER_GROUP}, role:readonly\n",
                "scopes": "[groups]",
            },
        )
    )
    world.kube.create(
        Secret(
            metadata=ObjectMeta(name="argocd-secret", namespace=full_namespace),
            stringData={
                "server.secretkey": secrets.token_urlsafe(32),
                "oidc.dex.clientSecret": web_client.secret,
            },
        )
    )
    controller = tetherenv.start_controller_process(
        crds.kubeconfig,
        full_namespace,
        tmp_path / "cache",
        tmp_path / "controller.log",
        extra_args=["--api-address", "127.0.0.1:0"],
    )
    try:
        world.server = api_url(controller.log)
        env = {k: v for k, v in os.environ.items() if not k.startswith("TETHER_")}
        env["XDG_CONFIG_HOME"] = str(world.home / "sso")
        login = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tether",
                "login",
                world.server,
                "--plaintext",
                "--sso",
                "--sso-port",
                str(port),
                "--name",
                "sso",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        assert login.stderr is not None
        url = ""
        for line in login.stderr:
            if line.startswith("http"):
                url = line.strip()
                break
        assert url.startswith(dex.issuer + "/auth?"), url
        landed = dexsupport.play_browser(url, dex.password)
        out, err = login.communicate(timeout=60)
        assert login.returncode == 0, err
        assert landed.status_code == 200
        assert "logged in" in out

        listed = world.tether("app", "list", config="sso")
        assert listed.returncode == 0, listed.stderr
        created = world.tether(
            "app",
            "create",
            "nope",
            "--repo",
            repo.url,
            "--path",
            "app",
            "--dest-server",
            "https://kubernetes.default.svc",
            "--dest-namespace",
            full_namespace,
            config="sso",
        )
        assert created.returncode != 0  # read-only through the group
        assert "permission denied" in created.stderr
        (token,) = world.tokens()
        assert all(token not in text for text in [*world.outputs, out, err])
    finally:
        world.kube.close()
        controller.stop()
        repo.server.stop()
        dex.stop()


def test_the_commands_closing_the_gap_with_argocd_app_work_through_the_server(remote, tmp_path):
    remote.login("admin", remote.admin_password())
    ns = remote.namespace
    created = remote.tether(
        "app",
        "create",
        remote.name,
        "--repo",
        remote.repo.url,
        "--path",
        "app",
        "--revision",
        "main",
        "--dest-server",
        "https://kubernetes.default.svc",
        "--dest-namespace",
        ns,
        "--label",
        "team=web",
    )
    assert created.returncode == 0, created.stderr

    def stored_spec() -> dict[str, Any]:
        shown = remote.tether("app", "get", remote.name, "-o", "json")
        assert shown.returncode == 0, shown.stderr
        spec: dict[str, Any] = json.loads(shown.stdout)["spec"]
        return spec

    changed = remote.tether(
        "app", "set", remote.name, "-p", "image.tag=v2", "--sync-option", "CreateNamespace=true"
    )
    assert changed.returncode == 0, changed.stderr
    spec = stored_spec()
    assert spec["source"]["helm"]["parameters"] == [{"name": "image.tag", "value": "v2"}]
    assert spec["syncPolicy"]["syncOptions"] == ["CreateNamespace=true"]
    unset = remote.tether("app", "unset", remote.name, "-p", "image.tag")
    assert unset.returncode == 0, unset.stderr
    assert "helm" not in stored_spec()["source"]
    patched = remote.tether(
        "app",
        "patch",
        remote.name,
        "--type",
        "merge",
        "--patch",
        '{"metadata": {"labels": {"tier": "front"}}}',
    )
    assert patched.returncode == 0, patched.stderr

    selected = remote.tether("app", "list", "-l", "tier=front", "-o", "name")
    assert selected.stdout.split() == [remote.name]
    assert remote.tether("app", "list", "-l", "tier=back", "-o", "name").stdout.strip() == ""
    assert remote.tether("app", "list", "-p", "other", "-o", "name").stdout.strip() == ""

    rendered = remote.tether("app", "manifests", remote.name)
    assert rendered.returncode == 0, rendered.stderr
    assert "name: web-config" in rendered.stdout

    differs = until(
        lambda: (d := remote.tether("app", "diff", remote.name)).returncode == 1 and d,
        what="a diff of the unsynced app",
    )
    assert "ConfigMap" in differs.stdout

    synced = remote.tether("app", "sync", "-l", "tier=front", "--timeout", "150")
    assert synced.returncode == 0, synced.stdout + synced.stderr
    assert until(lambda: remote.tether("app", "diff", remote.name).returncode == 0, what="no diff")
    history = remote.tether("app", "history", remote.name)
    assert len(history.stdout.splitlines()) == 2, history.stdout

    local = tmp_path / "local"
    local.mkdir()
    (local / "config.yaml").write_text(CONFIG % "bye")
    local_diff = remote.tether("app", "diff", remote.name, "--local", str(local))
    assert local_diff.returncode == 1, local_diff.stderr
    assert "+  greeting: bye" in local_diff.stdout

    resources = remote.tether("app", "resources", remote.name)
    assert resources.returncode == 0, resources.stderr
    assert ["ConfigMap", ns, "web-config"] == resources.stdout.splitlines()[1].split()[:3]
    actions = remote.tether("app", "actions", "list", remote.name)
    assert actions.returncode == 0, actions.stderr

    removed = remote.tether(
        "app",
        "delete-resource",
        remote.name,
        "--kind",
        "ConfigMap",
        "--resource-name",
        "web-config",
        "--resource-namespace",
        ns,
    )
    assert removed.returncode == 0, removed.stderr
    until(
        lambda: not tetherenv.exists(remote.kube, ConfigMap, "web-config", ns),
        what="the ConfigMap deleted",
    )


def test_projects_repositories_clusters_and_accounts_through_the_server(remote):
    remote.login("admin", remote.admin_password())

    made = remote.tether(
        "proj",
        "create",
        "team",
        "--description",
        "the team",
        "-d",
        f"https://kubernetes.default.svc,{remote.namespace}",
        "-s",
        "*",
    )
    assert made.returncode == 0, made.stderr
    assert "team" in remote.tether("proj", "list", "-o", "name").stdout.split()
    shown = remote.tether("proj", "get", "team")
    assert "Description:   the team" in shown.stdout
    assert remote.tether("proj", "delete", "team").returncode == 0

    url = "https://git.example.test/team/apps.git"
    added = remote.tether("repo", "add", url, "--username", "bot", "--password", "hunter2-secret")
    assert added.returncode == 0, added.stderr
    listed = remote.tether("repo", "list", "-o", "json")
    assert url in listed.stdout
    assert "hunter2-secret" not in listed.stdout
    assert remote.tether("repo", "rm", url).returncode == 0

    clusters = remote.tether("cluster", "list")
    assert clusters.returncode == 0, clusters.stderr
    assert "https://kubernetes.default.svc" in clusters.stdout

    accounts = remote.tether("account", "list")
    assert accounts.returncode == 0, accounts.stderr
    assert accounts.stdout.splitlines()[1].split()[:2] == ["admin", "true"]
    assert remote.tether("account", "can-i", "sync", "applications", "*/*").stdout == "yes\n"
