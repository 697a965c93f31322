"""Custom resource actions from argocd-cm's Lua, through the real API server, its web UI and the
``tether`` command, on a real control plane with a running controller.

argocd-cm is edited while the server runs: what it lists and runs follows without a restart.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.apps_v1 import Deployment
from lightkube.resources.core_v1 import ConfigMap

from tests.integration.api.resources.conftest import ResServer
from tests.support import apiusers, tetherenv

pytestmark = pytest.mark.timeout(240)

APP = "trainer-app"
KEY = "resource.customizations.actions.apps_Deployment"
TOUCHED = "example.com/touched"
RESTARTED_BY = "example.com/restarted-by"

CUSTOM = """
discovery.lua: |
  local actions = {}
  actions["annotate"] = {["displayName"] = "Annotate it", ["iconClass"] = "fa fa-tag"}
  actions["restart"] = {}
  actions["rename"] = {}
  actions["spawn"] = {}
  actions["escape"] = {}
  return actions
definitions:
- name: annotate
  action.lua: |
    if obj.metadata.annotations == nil then obj.metadata.annotations = {} end
    obj.metadata.annotations["example.com/touched"] = "yes"
    return obj
- name: restart
  action.lua: |
    local meta = obj.spec.template.metadata
    if meta.annotations == nil then meta.annotations = {} end
    meta.annotations["example.com/restarted-by"] = "lua " .. os.date("!%Y")
    return obj
- name: rename
  action.lua: |
    obj.metadata.name = "somebody-else"
    obj.spec.replicas = 0
    return obj
- name: spawn
  action.lua: |
    obj.metadata.annotations = {["example.com/spawned"] = "yes"}
    local made = {apiVersion = "v1", kind = "ConfigMap", data = {from = obj.metadata.name}}
    made.metadata = {name = "spawned-by-" .. obj.metadata.name}
    return {{operation = "patch", resource = obj}, {operation = "create", resource = made}}
- name: escape
  action.lua: |
    local ns = {apiVersion = "v1", kind = "Namespace", metadata = {name = "escaped"}}
    return {{operation = "create", resource = ns}}
"""
CUSTOM_NAMES = ["annotate", "escape", "rename", "restart", "spawn"]
NARROW = "narrow-trainer-app"


def _deployment_manifest(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "t", "image": "registry.example/trainer:1"}]},
            },
        },
    }


def _files() -> dict[str, str]:
    return {
        "app/deploy.yaml": tetherenv.yaml_docs(_deployment_manifest("trainer")),
        "narrow/deploy.yaml": tetherenv.yaml_docs(_deployment_manifest("narrow-trainer")),
    }


@pytest.fixture(scope="module")
def world(res_server: ResServer) -> Iterator[ResServer]:
    """``trainer-app`` (default project) and ``narrow-trainer-app`` (a project denying
    ConfigMaps) synced under a running controller."""
    repo = tetherenv.serve_repo(res_server.tmp / "git", _files())
    ns = res_server.namespace
    automated: dict[str, Any] = {"syncPolicy": {"automated": {}}}
    try:
        with tetherenv.client(res_server.kubeconfig) as kube:
            tetherenv.create(
                kube,
                {
                    "apiVersion": "argoproj.io/v1alpha1",
                    "kind": "AppProject",
                    "metadata": {"name": "narrow", "namespace": ns},
                    "spec": {
                        "sourceRepos": ["*"],
                        "destinations": [{"server": "*", "namespace": "*"}],
                        "namespaceResourceBlacklist": [{"group": "", "kind": "ConfigMap"}],
                    },
                },
            )
            tetherenv.create(kube, tetherenv.application(APP, ns, repo.url, "app", ns, **automated))
            narrow = tetherenv.application(NARROW, ns, repo.url, "narrow", ns, **automated)
            narrow["spec"]["project"] = "narrow"
            tetherenv.create(kube, narrow)
            res_server.start_controller()
            res_server.background.run(
                tetherenv.eventually(
                    lambda: (
                        tetherenv.synced_healthy(kube, ns, APP)
                        and tetherenv.synced_healthy(kube, ns, NARROW)
                    ),
                    timeout=90,
                    what="both apps synced and healthy",
                )
            )
        yield res_server
    finally:
        repo.server.stop()


def _set_argocd_cm(server: ResServer, data: dict[str, str | None]) -> None:
    """Merge ``data`` into argocd-cm (``None`` deletes a key), as an administrator edits it."""
    with tetherenv.client(server.kubeconfig) as kube:
        if not tetherenv.exists(kube, ConfigMap, "argocd-cm", server.namespace):
            meta = ObjectMeta(name="argocd-cm", namespace=server.namespace)
            kube.create(ConfigMap(metadata=meta, data={}))
        kube.patch(ConfigMap, "argocd-cm", {"data": data}, namespace=server.namespace)


def _deployment(server: ResServer, name: str = "trainer") -> dict[str, Any]:
    with tetherenv.client(server.kubeconfig) as kube:
        return tetherenv.get(kube, Deployment, name, server.namespace)


def _query(server: ResServer, name: str = "trainer") -> dict[str, str]:
    return {
        "namespace": server.namespace,
        "resourceName": name,
        "kind": "Deployment",
        "group": "apps",
        "version": "v1",
    }


def _body(server: ResServer, action: str, name: str = "trainer") -> dict[str, str]:
    return {**_query(server, name), "action": action}


async def _listed(client: Any, server: ResServer, expected: list[str]) -> dict[str, Any]:
    """The actions listed once the server has read argocd-cm's change (its cache is short)."""

    async def names() -> dict[str, Any] | None:
        answer = await client.get(
            f"/api/v1/applications/{APP}/resource/actions", params=_query(server)
        )
        assert answer.status_code == 200, answer.text
        actions = {a["name"]: a for a in answer.json()["actions"]}
        return actions if sorted(actions) == sorted(expected) else None

    return await apiusers.until(names, f"actions {expected}")


async def test_a_custom_action_is_listed_run_and_follows_live_edits_of_argocd_cm(
    world: ResServer, res_admin: Any
) -> None:
    try:
        _set_argocd_cm(world, {KEY: CUSTOM})
        actions = await _listed(res_admin, world, CUSTOM_NAMES)
        assert actions["annotate"]["displayName"] == "Annotate it"
        assert actions["annotate"]["iconClass"] == "fa fa-tag"
        assert not actions["annotate"]["disabled"]

        page = await res_admin.get(
            f"/applications/{world.namespace}/{APP}/resource-actions",
            params=_query(world),
        )
        assert page.status_code == 200, page.text
        assert "Annotate it" in page.text

        ran = await res_admin.post(
            f"/api/v1/applications/{APP}/resource/actions/v2", json=_body(world, "annotate")
        )
        assert ran.status_code == 200, ran.text
        live = _deployment(world)
        assert live["metadata"]["annotations"][TOUCHED] == "yes"
        managers = {m["manager"] for m in live["metadata"]["managedFields"]}
        assert "tether-server" in managers

        # The custom restart overrides the built-in one: no kubectl restartedAt stamp.
        ran = await res_admin.post(
            f"/api/v1/applications/{APP}/resource/actions/v2", json=_body(world, "restart")
        )
        assert ran.status_code == 200, ran.text
        template = _deployment(world)["spec"]["template"]["metadata"]["annotations"]
        assert template[RESTARTED_BY].startswith("lua 20")
        assert "kubectl.kubernetes.io/restartedAt" not in template

        # Edited live: annotate is now disabled, and running it is refused.
        _set_argocd_cm(
            world, {KEY: CUSTOM.replace('["iconClass"] = "fa fa-tag"', '["disabled"] = true')}
        )

        async def disabled() -> bool | None:
            found = await _listed(res_admin, world, CUSTOM_NAMES)
            return found["annotate"]["disabled"] or None

        await apiusers.until(disabled, "annotate disabled")
        refused = await res_admin.post(
            f"/api/v1/applications/{APP}/resource/actions/v2", json=_body(world, "annotate")
        )
        assert refused.status_code == 400
        assert "not available" in refused.json()["message"]
    finally:
        _set_argocd_cm(world, {KEY: None})
    await _listed(res_admin, world, ["pause", "restart", "resume"])


async def test_an_action_renaming_its_object_is_refused_and_writes_nothing(
    world: ResServer, res_admin: Any
) -> None:
    try:
        _set_argocd_cm(world, {KEY: CUSTOM})
        await _listed(res_admin, world, CUSTOM_NAMES)
        before = _deployment(world)
        refused = await res_admin.post(
            f"/api/v1/applications/{APP}/resource/actions/v2", json=_body(world, "rename")
        )
        assert refused.status_code == 400, refused.text
        assert refused.json()["message"] == (
            f"argocd-cm {KEY}, action 'rename': action.lua changed metadata.name from 'trainer' "
            "to 'somebody-else'; an action may change only the object it runs on"
        )
        after = _deployment(world)
        assert after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]
        with tetherenv.client(world.kubeconfig) as kube:
            assert not tetherenv.exists(kube, Deployment, "somebody-else", world.namespace)
    finally:
        _set_argocd_cm(world, {KEY: None})


async def test_an_action_creates_objects_only_where_the_apps_project_permits_them(
    world: ResServer, res_admin: Any
) -> None:
    ns = world.namespace
    try:
        _set_argocd_cm(world, {KEY: CUSTOM})
        await _listed(res_admin, world, CUSTOM_NAMES)
        ran = await res_admin.post(
            f"/api/v1/applications/{APP}/resource/actions/v2", json=_body(world, "spawn")
        )
        assert ran.status_code == 200, ran.text
        with tetherenv.client(world.kubeconfig) as kube:
            made = tetherenv.get(kube, ConfigMap, "spawned-by-trainer", ns)
        assert made["data"] == {"from": "trainer"}
        assert {m["manager"] for m in made["metadata"]["managedFields"]} == {"tether-server"}
        assert _deployment(world)["metadata"]["annotations"]["example.com/spawned"] == "yes"

        # The narrow project denies ConfigMaps: nothing is created, nothing patched.
        before = _deployment(world, "narrow-trainer")
        refused = await res_admin.post(
            f"/api/v1/applications/{NARROW}/resource/actions/v2",
            json=_body(world, "spawn", "narrow-trainer"),
        )
        assert refused.status_code == 400, refused.text
        assert refused.json()["message"].startswith(
            f"the action may not create ConfigMap {ns}/spawned-by-narrow-trainer: "
        )
        after = _deployment(world, "narrow-trainer")
        assert after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]
        with tetherenv.client(world.kubeconfig) as kube:
            assert not tetherenv.exists(kube, ConfigMap, "spawned-by-narrow-trainer", ns)

        # A cluster-scoped kind is never created by an action.
        escaped = await res_admin.post(
            f"/api/v1/applications/{APP}/resource/actions/v2", json=_body(world, "escape")
        )
        assert escaped.status_code == 400, escaped.text
        assert "not of a namespaced kind" in escaped.json()["message"]
    finally:
        _set_argocd_cm(world, {KEY: None})


async def test_broken_lua_is_an_error_naming_the_key(world: ResServer, res_admin: Any) -> None:
    try:
        _set_argocd_cm(world, {KEY: "discovery.lua: return {a = = 1}\n"})

        async def broken() -> str | None:
            answer = await res_admin.get(
                f"/api/v1/applications/{APP}/resource/actions", params=_query(world)
            )
            return answer.json()["message"] if answer.status_code == 400 else None

        message = await apiusers.until(broken, "the broken discovery reported")
        assert message.startswith(f"argocd-cm {KEY}: discovery.lua discovery.lua:1:")
    finally:
        _set_argocd_cm(world, {KEY: None})


async def test_the_first_form_of_running_an_action_takes_its_name_as_the_body(
    world: ResServer, res_admin: Any
) -> None:
    await _listed(res_admin, world, ["pause", "restart", "resume"])
    ran = await res_admin.post(
        f"/api/v1/applications/{APP}/resource/actions",
        params=_query(world),
        content=json.dumps("pause"),
        headers={"Content-Type": "application/json"},
    )
    assert ran.status_code == 200, ran.text
    assert _deployment(world)["spec"]["paused"] is True
    resumed = await res_admin.post(
        f"/api/v1/applications/{APP}/resource/actions",
        params=_query(world),
        content=json.dumps("resume"),
        headers={"Content-Type": "application/json"},
    )
    assert resumed.status_code == 200, resumed.text
    assert "paused" not in _deployment(world)["spec"]


def _tether(world: ResServer, token: str, *args: str) -> subprocess.CompletedProcess[str]:
    server = world.url.removeprefix("http://")
    return subprocess.run(
        [sys.executable, "-m", "tether", *args, "-n", world.namespace, "--plaintext"],
        capture_output=True,
        text=True,
        timeout=120,
        env={
            "PATH": "/usr/bin:/bin",
            "HOME": str(world.tmp),
            "XDG_CONFIG_HOME": str(world.tmp / "cli-config"),
            "TETHER_SERVER": server,
            "TETHER_AUTH_TOKEN": token,
            "PYTHONPATH": ":".join(p for p in sys.path if p),
        },
        check=False,
    )


async def test_the_cli_lists_custom_actions_and_restarts_a_deployment(world: ResServer) -> None:
    token = await world.token("cli-user", ("*", "*", "*"))
    try:
        _set_argocd_cm(world, {KEY: CUSTOM})
        async with world.client(token) as client:
            await _listed(client, world, CUSTOM_NAMES)
        listed = _tether(world, token, "app", "actions", "list", APP, "--kind", "Deployment")
        assert listed.returncode == 0, listed.stderr
        rows = [line.split() for line in listed.stdout.splitlines()[1:]]
        assert ["apps", "Deployment", "trainer", "annotate", "false"] in rows
        as_json = _tether(
            world, token, "app", "actions", "list", APP, "--kind", "Deployment", "-o", "json"
        )
        assert as_json.returncode == 0, as_json.stderr
        by_name = {a["name"]: a for a in json.loads(as_json.stdout)}
        assert by_name["annotate"]["displayName"] == "Annotate it"
        assert by_name["annotate"]["resourceName"] == "trainer"
    finally:
        _set_argocd_cm(world, {KEY: None})
    async with world.client(token) as client:
        await _listed(client, world, ["pause", "restart", "resume"])
    ran = _tether(
        world,
        token,
        *("app", "actions", "run", APP, "restart", "--kind", "Deployment"),
        *("--resource-name", "trainer", "--group", "apps"),
    )
    assert ran.returncode == 0, ran.stderr
    assert "action restart run on Deployment trainer" in ran.stdout
    template = _deployment(world)["spec"]["template"]["metadata"]["annotations"]
    assert template["kubectl.kubernetes.io/restartedAt"].startswith("20")


def _tether_core(world: ResServer, *args: str) -> subprocess.CompletedProcess[str]:
    """``tether <args> --core`` with the cluster's kubeconfig, no API server involved."""
    ns = world.namespace
    return subprocess.run(
        [sys.executable, "-m", "tether", *args, "--core", "-n", ns],
        capture_output=True,
        text=True,
        timeout=120,
        env={
            "PATH": "/usr/bin:/bin",
            "HOME": str(world.tmp),
            "XDG_CONFIG_HOME": str(world.tmp / "cli-config"),
            "KUBECONFIG": str(world.kubeconfig),
            "PYTHONPATH": ":".join(p for p in sys.path if p),
        },
        check=False,
    )


async def test_in_core_mode_the_cli_runs_argocd_cms_actions_with_kubernetes_credentials(
    world: ResServer,
) -> None:
    ns = world.namespace
    try:
        _set_argocd_cm(world, {KEY: CUSTOM})
        listed = _tether_core(
            world, "app", "actions", "list", APP, "--control-plane-namespace", ns, "-o", "json"
        )
        assert listed.returncode == 0, listed.stderr
        assert sorted(a["name"] for a in json.loads(listed.stdout)) == CUSTOM_NAMES
        ran = _tether_core(
            world,
            *("app", "actions", "run", APP, "restart", "--kind", "Deployment"),
            *("--control-plane-namespace", ns),
        )
        assert ran.returncode == 0, ran.stderr
        assert "action restart run on Deployment trainer" in ran.stdout
        live = _deployment(world)
        assert live["spec"]["template"]["metadata"]["annotations"][RESTARTED_BY].startswith("lua")
        managers = {m["manager"] for m in live["metadata"]["managedFields"]}
        assert "tether" in managers
        refused = _tether_core(
            world,
            *("app", "actions", "run", APP, "rename", "--kind", "Deployment"),
            *("--control-plane-namespace", ns),
        )
        assert refused.returncode == 2
        assert "changed metadata.name from 'trainer' to 'somebody-else'" in refused.stderr
        creates = _tether_core(
            world,
            *("app", "actions", "run", APP, "spawn", "--kind", "Deployment"),
            *("--control-plane-namespace", ns),
        )
        assert creates.returncode == 2
        assert "creates objects: run it through an API server" in creates.stderr
    finally:
        _set_argocd_cm(world, {KEY: None})
