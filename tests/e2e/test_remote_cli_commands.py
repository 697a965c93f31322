"""The remote CLI's commands beyond list/get/sync, and ``tether login --sso``, as a user drives
them: the real ``tether`` command against ``tether run``'s API server (and a real Dex for SSO)."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import ConfigMap, Secret

from tests.support import dex as dexsupport, remotecli, tetherenv
from tests.support.remotecli import CONFIG, Remote, until

pytestmark = pytest.mark.timeout(420)

SSO_CLI_CLIENT = "tether-cli"


@pytest.fixture(scope="module")
def crds(full_cluster):
    tetherenv.install_crds(full_cluster.kubeconfig)
    return full_cluster


@pytest.fixture
def remote(crds, full_namespace, tmp_path) -> Iterator[Remote]:
    with remotecli.served(crds.kubeconfig, full_namespace, tmp_path) as world:
        yield world


def test_the_commands_closing_the_gap_with_argocd_app_work_through_the_server(remote, tmp_path):
    remote.login("admin", remote.admin_password())
    ns = remote.namespace
    created = remote.tether(
        *remote.create_args(),
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


def test_tether_login_sso_signs_in_through_dex_and_the_groups_claim_grants_rbac(
    crds, full_namespace, tmp_path
):
    port = dexsupport.free_port()
    cli_client = dexsupport.Client(
        SSO_CLI_CLIENT, "", (f"http://localhost:{port}/auth/callback",), public=True
    )
    web_client = dexsupport.Client("tether", secrets.token_urlsafe(16))
    dex = dexsupport.start(tmp_path / "dex", [web_client, cli_client])
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
    rbac = ConfigMap(
        metadata=ObjectMeta(name="argocd-rbac-cm", namespace=full_namespace),
        data={"policy.csv": f"g, {dexsupport.USER_GROUP}, role:readonly\n", "scopes": "[groups]"},
    )
    keys = Secret(
        metadata=ObjectMeta(name="argocd-secret", namespace=full_namespace),
        stringData={
            "server.secretkey": secrets.token_urlsafe(32),
            "oidc.dex.clientSecret": web_client.secret,
        },
    )
    settings = {"url": "http://127.0.0.1", "oidc.config": oidc + "\n"}
    try:
        with remotecli.served(
            crds.kubeconfig, full_namespace, tmp_path, settings=settings, extra=[rbac, keys]
        ) as world:
            signed_in_through_dex(world, dex, port)
    finally:
        dex.stop()


def signed_in_through_dex(world: Remote, dex: dexsupport.Dex, port: int) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TETHER_")}
    env["XDG_CONFIG_HOME"] = str(world.home / "sso")
    argv = ["login", world.server, "--plaintext", "--sso", "--sso-port", str(port)]
    login = subprocess.Popen(
        [sys.executable, "-m", "tether", *argv, "--name", "sso"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert login.stderr is not None
    url = next((line.strip() for line in login.stderr if line.startswith("http")), "")
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
        world.repo.url,
        "--path",
        "app",
        "--dest-server",
        "https://kubernetes.default.svc",
        "--dest-namespace",
        world.namespace,
        config="sso",
    )
    assert created.returncode != 0  # read-only through the group
    assert "permission denied" in created.stderr
    (token,) = world.tokens()
    assert all(token not in text for text in [*world.outputs, out, err])
