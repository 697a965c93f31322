"""Directory sources: YAML, JSON and Jsonnet files, recursion, include/exclude globs, limits."""

from __future__ import annotations

import contextlib
import os
import pathlib
import signal
import subprocess
import sys
import time

import pytest

from tether.core.sources import kubeyaml as limits
from tether.services import manifests as service

from .conftest import application, failed, make_renderer, names, ok, write

pytestmark = [pytest.mark.tools, pytest.mark.timeout(60)]


def cm(name: str) -> str:
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}}}\n"


@pytest.fixture
def tree(repo: pathlib.Path) -> pathlib.Path:
    write(
        repo,
        {
            "app/a.yaml": cm("a") + "---\n" + cm("a2"),
            "app/b.json": '{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "b"}}',
            "app/README.md": "not a manifest",
            "app/config.json": '{"apiVersion": "v1", "kind": "ConfigMap", '
            '"metadata": {"name": "cfg"}}',
            "app/sub/c.yml": cm("c"),
            "app/sub/deeper/d.yaml": cm("d"),
            "app/env-usw2/e.yaml": cm("e"),
            "app/.hidden/h.yaml": cm("hidden"),
            "app/list.yaml": "apiVersion: v1\nkind: List\nitems:\n- "
            + cm("l1").replace("\n", "\n  "),
        },
    )
    return repo


async def test_only_top_level_files_without_recurse(render, tree):
    objects = ok(await render(application({"path": "app"})))
    assert names(objects) == ["a", "a2", "b", "cfg", "l1"]


async def test_recurse_reads_subdirectories_in_sorted_order_skipping_hidden_ones(render, tree):
    objects = ok(await render(application({"path": "app", "directory": {"recurse": True}})))
    assert names(objects) == ["a", "a2", "b", "cfg", "e", "l1", "c", "d"]


async def test_include_and_exclude_use_argo_brace_globs(render, tree):
    directory = {
        "recurse": True,
        "include": "{*.yml,*.yaml}",
        "exclude": "{config.json,env-usw2/*}",
    }
    objects = ok(await render(application({"path": "app", "directory": directory})))
    assert names(objects) == ["a", "a2", "l1", "c", "d"]
    directory = {"recurse": True, "exclude": "{config.json,env-usw2/*}"}
    objects = ok(await render(application({"path": "app", "directory": directory})))
    assert "cfg" not in names(objects)
    assert "e" not in names(objects)


async def test_an_empty_directory_is_an_empty_render_not_a_failure(render, repo):
    (repo / "empty").mkdir()
    result = await render(application({"path": "empty"}))
    assert isinstance(result, service.Rendered)
    assert result.empty


async def test_a_missing_path_fails(render, repo):
    message = failed(await render(application({"path": "nope"})))
    assert "spec.source.path" in message
    assert "not a directory" in message


@pytest.mark.parametrize("path", ["..", "../outside", "/../outside", "app/../../outside"])
async def test_a_source_path_outside_the_repository_is_refused(render, tree, path):
    message = failed(await render(application({"path": path})))
    assert "escapes the repository root" in message


async def test_the_combined_size_limit_stops_before_parsing(tmp_path, repo):
    write(repo, {f"big/{i}.yaml": cm(f"c{i}") + "#" * 4000 + "\n" for i in range(10)})
    renderer = make_renderer(tmp_path, limits=limits.Limits(max_total_bytes=20_000))
    manifests = service.ManifestService(service.DirectoryRepos(str(repo)), renderer)
    message = failed(await manifests.render_application(application({"path": "big"})))
    assert "manifests exceed 20000 bytes" in message


# -- Jsonnet ------------------------------------------------------------------------------------


@pytest.fixture
def jsonnet_repo(repo: pathlib.Path) -> pathlib.Path:
    write(
        repo,
        {
            "lib/k.libsonnet": """
                {
                  configMap(name, data):: {
                    apiVersion: 'v1', kind: 'ConfigMap', metadata: {name: name}, data: data,
                  },
                }
            """,
            "jsonnet/main.jsonnet": """
                local k = import 'k.libsonnet';
                function(suffix='x', replicas=1) [
                  k.configMap('env-' + std.extVar('env') + '-' + suffix,
                              {replicas: std.toString(replicas),
                               code: std.toString(std.extVar('n'))}),
                ]
            """,
            "jsonnet/helper.libsonnet": "{}",
        },
    )
    return repo


async def test_jsonnet_with_ext_vars_tlas_and_libs(render, jsonnet_repo):
    directory = {
        "jsonnet": {
            "extVars": [
                {"name": "env", "value": "prod"},
                {"name": "n", "value": "1+2", "code": True},
            ],
            "tlas": [
                {"name": "suffix", "value": "blue"},
                {"name": "replicas", "value": "3", "code": True},
            ],
            "libs": ["lib"],
        }
    }
    [obj] = ok(await render(application({"path": "jsonnet", "directory": directory})))
    assert obj["metadata"]["name"] == "env-prod-blue"
    assert obj["data"] == {"replicas": "3", "code": "3"}


async def test_jsonnet_and_yaml_files_keep_their_path_order(render, repo):
    write(
        repo,
        {
            "mixed/a.jsonnet": "{apiVersion: 'v1', kind: 'ConfigMap', metadata: {name: 'a'}}",
            "mixed/b.yaml": cm("b"),
            "mixed/c.jsonnet": "[{apiVersion: 'v1', kind: 'ConfigMap', metadata: {name: n}}"
            " for n in ['c1', 'c2']]",
        },
    )
    assert names(ok(await render(application({"path": "mixed"})))) == ["a", "b", "c1", "c2"]


async def test_a_jsonnet_import_outside_the_repository_is_refused(render, repo):
    write(repo, {"j/main.jsonnet": "import '../../outside/secret.yaml'\n"})
    message = failed(await render(application({"path": "j"})))
    assert "escapes the repository root" in message


async def test_an_absolute_jsonnet_import_is_refused(render, repo, workspace):
    target = workspace / "outside" / "secret.yaml"
    write(repo, {"j/main.jsonnet": f"importstr '{target}'\n"})
    message = failed(await render(application({"path": "j"})))
    assert "escapes the repository root" in message


async def test_a_refused_jsonnet_import_is_reported_in_our_words_each_time(render, repo, workspace):
    # gojsonnet garbles an import callback's error text (stray bytes, at times not UTF-8), which
    # once made the worker die instead of reporting; the reason must come out clean, each time.
    target = workspace / "outside" / "secret.yaml"
    write(repo, {"j/main.jsonnet": f"importstr '{target}'\n"})
    for _ in range(8):
        message = failed(await render(application({"path": "j"})))
        assert message.endswith(f"j/main.jsonnet: import '{target}' escapes the repository root")


async def test_a_missing_jsonnet_import_is_named(render, repo):
    write(repo, {"j/main.jsonnet": "import 'nowhere.libsonnet'\n"})
    message = failed(await render(application({"path": "j"})))
    assert message.endswith("j/main.jsonnet: import 'nowhere.libsonnet' not found")


async def test_jsonnet_libs_outside_the_repository_are_refused(render, jsonnet_repo):
    directory = {"jsonnet": {"libs": ["../outside"]}}
    message = failed(await render(application({"path": "jsonnet", "directory": directory})))
    assert "spec.source.directory.jsonnet.libs" in message


async def test_a_jsonnet_error_names_the_file(render, repo):
    write(repo, {"j/main.jsonnet": "error 'boom'\n"})
    message = failed(await render(application({"path": "j"})))
    assert "boom" in message
    assert "main.jsonnet" in message
    assert str(repo) not in message


async def test_runaway_jsonnet_is_killed_at_the_time_limit(tmp_path, repo):
    write(repo, {"j/main.jsonnet": "std.length(std.range(0, 1000000000))\n"})
    renderer = make_renderer(tmp_path, jsonnet_timeout_s=1.0)
    manifests = service.ManifestService(service.DirectoryRepos(str(repo)), renderer)
    message = failed(await manifests.render_application(application({"path": "j"})))
    assert "jsonnet timed out after 1s" in message


def test_a_jsonnet_worker_dies_with_a_parent_killed_under_it(tmp_path):
    # A controller killed mid-render cannot kill its worker; the worker must not run on.
    (tmp_path / "spin.jsonnet").write_text(
        "local f(n) = if n == 0 then 0 else f(n - 1) + f(n - 1); f(200)\n"
    )
    spin, root = str(tmp_path / "spin.jsonnet"), str(tmp_path)
    script = (
        "import asyncio\n"
        "from tether.adapters.render import jsonnet\n"
        "if __name__ == '__main__':\n"
        f"    asyncio.run(jsonnet.evaluate([{spin!r}], root={root!r}, timeout_s=120))\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script])
    workers: list[int] = []
    try:
        deadline = time.monotonic() + 30
        while not workers and time.monotonic() < deadline:
            time.sleep(0.2)
            workers = _children(parent.pid)
        assert workers, "the worker never started"
        parent.kill()
        parent.wait(10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(_running(pid) for pid in workers):
            time.sleep(0.2)
        assert not any(_running(pid) for pid in workers), "the worker outlived its parent"
    finally:
        parent.kill()
        parent.wait(10)
        for pid in workers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def _children(pid: int) -> list[int]:
    """Every child of ``pid``, whichever of its threads started it."""
    found = []
    for task in pathlib.Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(child) for child in (task / "children").read_text().split()]
        except FileNotFoundError:
            continue
    return found


def _running(pid: int) -> bool:
    try:
        state = pathlib.Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"
