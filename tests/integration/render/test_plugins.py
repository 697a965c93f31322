"""Config-management plugins from settings: env and parameters, discovery, hangs and floods."""

from __future__ import annotations

import pathlib
import sys
import textwrap
import time

import pytest

from tether.core.sources import rendering
from tether.services import manifests as service

from .conftest import application, failed, make_renderer, ok, write

pytestmark = [pytest.mark.tools, pytest.mark.timeout(60)]

GENERATE = textwrap.dedent(
    """
    import json, os
    print("apiVersion: v1")
    print("kind: ConfigMap")
    print("metadata: {name: %s}" % os.environ["ARGOCD_APP_NAME"])
    data = {k: v for k, v in os.environ.items()
            if k.startswith(("ARGOCD_", "PARAM_", "KUBE_", "PLUGIN_"))}
    data["cwd_files"] = ",".join(sorted(f for f in os.listdir(".") if not f.startswith(".")))
    data["initialised"] = str(os.path.exists(os.environ["PLUGIN_MARKER"]))
    data["init_wrote"] = str(os.path.exists(".init-output"))
    print("data: " + json.dumps(data))
    """
)


def plugin_settings(tmp: pathlib.Path, **overrides) -> tuple[rendering.PluginSpec, ...]:
    script = tmp / "generate.py"
    script.write_text(GENERATE)
    marker = tmp / "init-ran"
    spec = rendering.PluginSpec(
        name="envsubst",
        init=(
            sys.executable,
            "-c",
            f"open({str(marker)!r}, 'w').close(); open('.init-output', 'w').close()",
        ),
        generate=(sys.executable, str(script)),
        discover="*.envsubst",
        env={"PLUGIN_MARKER": str(marker)},
        **overrides,
    )
    return (spec,)


def service_with(
    tmp: pathlib.Path, repo: pathlib.Path, plugins: tuple[rendering.PluginSpec, ...]
) -> service.ManifestService:
    renderer = make_renderer(tmp, plugins=plugins)
    return service.ManifestService(service.DirectoryRepos(str(repo)), renderer)


async def test_a_named_plugin_gets_argo_cds_env_and_parameters(tmp_path, repo):
    write(repo, {"app/template.envsubst": "x"})
    manifests = service_with(tmp_path, repo, plugin_settings(tmp_path))
    plugin = {
        "name": "envsubst",
        "env": [{"name": "GREETING", "value": "hi-$ARGOCD_APP_NAME"}],
        "parameters": [{"name": "size", "string": "large"}, {"name": "tags", "array": ["a"]}],
    }
    app = application({"path": "app", "targetRevision": "main", "plugin": plugin}, name="web")
    [obj] = ok(await manifests.render_application(app, kube_version="1.36.0"))
    data = obj["data"]
    assert obj["metadata"]["name"] == "web"
    assert data["ARGOCD_ENV_GREETING"] == "hi-web"
    assert data["PARAM_SIZE"] == "large"
    assert data["PARAM_TAGS_0"] == "a"
    assert '"size"' in data["ARGOCD_APP_PARAMETERS"]
    assert data["ARGOCD_APP_NAMESPACE"] == "apps"
    assert data["ARGOCD_APP_SOURCE_PATH"] == "app"
    assert data["ARGOCD_APP_SOURCE_TARGET_REVISION"] == "main"
    assert data["ARGOCD_APP_REVISION_SHORT"] == "0000000"
    assert data["KUBE_VERSION"] == "1.36.0"
    assert data["cwd_files"] == "template.envsubst"
    assert data["initialised"] == "True"
    assert data["init_wrote"] == "True", "plugins run in a writable copy"


async def test_a_plugin_is_discovered_by_its_file_glob(tmp_path, repo):
    write(repo, {"app/template.envsubst": "x"})
    manifests = service_with(tmp_path, repo, plugin_settings(tmp_path))
    [obj] = ok(await manifests.render_application(application({"path": "app", "plugin": {}})))
    assert obj["kind"] == "ConfigMap"


async def test_no_matching_plugin_is_a_clear_error(tmp_path, repo):
    write(repo, {"app/other.txt": "x"})
    manifests = service_with(tmp_path, repo, plugin_settings(tmp_path))
    message = failed(await manifests.render_application(application({"path": "app", "plugin": {}})))
    assert "no configured plugin matches" in message
    message = failed(
        await manifests.render_application(application({"path": "app", "plugin": {"name": "x"}}))
    )
    assert "no plugin named 'x'" in message


async def test_a_hanging_plugin_is_killed_at_its_timeout(tmp_path, repo):
    write(repo, {"app/template.envsubst": "x"})
    spec = rendering.PluginSpec(
        name="hang", generate=(sys.executable, "-c", "import time; time.sleep(60)"), timeout_s=1.0
    )
    manifests = service_with(tmp_path, repo, (spec,))
    started = time.monotonic()
    app = application({"path": "app", "plugin": {"name": "hang"}}, name="stuck")
    message = failed(await manifests.render_application(app))
    assert time.monotonic() - started < 10
    assert "application tether/stuck" in message
    assert "plugin hang" in message
    assert "timed out after 1s" in message


async def test_a_flooding_plugin_is_stopped_at_its_output_limit(tmp_path, repo):
    write(repo, {"app/template.envsubst": "x"})
    # Paced so the reader keeps up: a reader paused by asyncio flow control never sees EOF
    # after the kill, and _process.run then waits forever (reported; fix belongs in _process).
    flood = (
        "import sys, time\n"
        "while True:\n"
        "    sys.stdout.write('x' * 4096); sys.stdout.flush(); time.sleep(0.001)\n"
    )
    spec = rendering.PluginSpec(
        name="flood", generate=(sys.executable, "-c", flood), output_limit=1024 * 1024
    )
    manifests = service_with(tmp_path, repo, (spec,))
    message = failed(
        await manifests.render_application(
            application({"path": "app", "plugin": {"name": "flood"}})
        )
    )
    assert "plugin flood" in message
    assert "printed more than 1048576 bytes" in message


async def test_a_failing_plugin_reports_its_stderr(tmp_path, repo):
    write(repo, {"app/template.envsubst": "x"})
    fail = "import sys; sys.stderr.write('bad template'); sys.exit(3)"
    spec = rendering.PluginSpec(name="fail", generate=(sys.executable, "-c", fail))
    manifests = service_with(tmp_path, repo, (spec,))
    message = failed(
        await manifests.render_application(application({"path": "app", "plugin": {"name": "fail"}}))
    )
    assert "exited with code 3: bad template" in message


async def test_plugin_parameters_never_reach_a_shell(tmp_path, repo):
    write(repo, {"app/template.envsubst": "x"})
    canary = tmp_path / "pwned"
    manifests = service_with(tmp_path, repo, plugin_settings(tmp_path))
    plugin = {
        "name": "envsubst",
        "parameters": [{"name": "p", "string": f"$(touch {canary}); `touch {canary}`"}],
    }
    [obj] = ok(await manifests.render_application(application({"path": "app", "plugin": plugin})))
    assert obj["data"]["PARAM_P"].startswith("$(touch")
    assert not canary.exists()


async def test_a_fast_flooding_plugin_is_stopped_at_its_output_limit(tmp_path, repo):
    write(repo, {"app/template.envsubst": "x"})
    flood = "import sys\nwhile True: sys.stdout.write('x' * 65536)\n"
    spec = rendering.PluginSpec(
        name="flood", generate=(sys.executable, "-c", flood), output_limit=1024 * 1024
    )
    manifests = service_with(tmp_path, repo, (spec,))
    for _ in range(5):
        app = application({"path": "app", "plugin": {"name": "flood"}})
        message = failed(await manifests.render_application(app, hard_refresh=True))
        assert "printed more than 1048576 bytes" in message


async def test_a_plugin_never_sees_the_controller_users_home(tmp_path, repo, monkeypatch):
    # The controller's own kubeconfig, ssh keys and git credentials live under its HOME.
    home = tmp_path / "controller-home"
    (home / ".kube").mkdir(parents=True)
    (home / ".kube" / "config").write_text("canary-kubeconfig-7f3a\n")
    monkeypatch.setenv("HOME", str(home))
    peek = (
        "import json, os, pathlib\n"
        "config = pathlib.Path(os.environ['HOME'], '.kube', 'config')\n"
        "seen = config.read_text() if config.exists() else ''\n"
        "print(json.dumps({'apiVersion': 'v1', 'kind': 'ConfigMap', 'metadata': {'name': 'peek'},"
        " 'data': {'home': os.environ['HOME'], 'seen': seen}}))\n"
    )
    spec = rendering.PluginSpec(name="peek", generate=(sys.executable, "-c", peek))
    write(repo, {"app/x.txt": "x"})
    manifests = service_with(tmp_path, repo, (spec,))
    [obj] = ok(
        await manifests.render_application(application({"path": "app", "plugin": {"name": "peek"}}))
    )
    assert obj["data"]["seen"] == ""
    assert obj["data"]["home"] != str(home)
