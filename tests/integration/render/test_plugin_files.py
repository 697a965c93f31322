"""Plugins declared as Argo CD ConfigManagementPlugin files in a directory, read again on change."""

from __future__ import annotations

import os
import pathlib
import sys
import textwrap

import pytest

from tether.adapters import configfiles
from tether.services import manifests as service

from .conftest import application, failed, make_renderer, ok, write

pytestmark = [pytest.mark.tools, pytest.mark.timeout(60)]

PRINT_CM = (
    "import json, os, sys; print(json.dumps({'apiVersion': 'v1', 'kind': 'ConfigMap', "
    "'metadata': {'name': sys.argv[1]}, 'data': {'size': os.environ.get('PARAM_SIZE', '')}}))"
)


def plugin_file(name: str, generate_args: list[str], extra: str = "") -> str:
    """A ConfigManagementPlugin whose generate runs this Python with ``generate_args``."""
    args = ", ".join(repr(a) for a in generate_args)
    return (
        textwrap.dedent(
            f"""\
        apiVersion: argoproj.io/v1alpha1
        kind: ConfigManagementPlugin
        metadata:
          name: {name}
        spec:
          generate:
            command: [{sys.executable!r}, "-c"]
            args: [{PRINT_CM!r}, {args}]
        """
        )
        + extra
    )


def service_over(tmp: pathlib.Path, repo: pathlib.Path, plugins_dir: pathlib.Path):
    renderer = make_renderer(tmp, plugins=configfiles.plugins([str(plugins_dir)]))
    return service.ManifestService(service.DirectoryRepos(str(repo)), renderer)


def replace(path: pathlib.Path, text: str) -> None:
    """Replace a file as an editor or a ConfigMap mount would: a new inode under the name."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


async def test_a_source_names_a_plugin_of_the_directory_and_a_changed_file_applies_at_once(
    tmp_path, repo
):
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    file = plugins / "plugin.yaml"
    file.write_text(plugin_file("gen", ["first"], "  version: v1\n"))
    write(repo, {"app/x.txt": "x"})
    manifests = service_over(tmp_path, repo, plugins)
    plugin = {"name": "gen-v1", "parameters": [{"name": "size", "string": "large"}]}
    app = application({"path": "app", "plugin": plugin})
    [obj] = ok(await manifests.render_application(app))
    assert obj["metadata"]["name"] == "first"
    assert obj["data"]["size"] == "large"

    replace(file, plugin_file("gen", ["second"], "  version: v1\n"))
    [obj] = ok(await manifests.render_application(app))  # no hard refresh: the key changed
    assert obj["metadata"]["name"] == "second"

    file.unlink()
    assert "no plugin named 'gen-v1'" in failed(await manifests.render_application(app))


@pytest.mark.parametrize(
    "discover",
    [
        "discover:\n    fileName: './*.envsubst'\n",
        "discover:\n    find:\n      glob: '**/*.envsubst'\n",
        f"discover:\n    find:\n      command: [{sys.executable!r}, '-c', "
        "\"import glob; print(*glob.glob('**/*.envsubst', recursive=True))\"]\n",
    ],
)
async def test_a_source_naming_no_plugin_gets_the_one_whose_discovery_matches(
    tmp_path, repo, discover
):
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "a-other.yaml").write_text(
        plugin_file("other", ["other"], "  discover:\n    fileName: '*.nothing'\n")
    )
    (plugins / "b-envsubst.yaml").write_text(
        plugin_file("envsubst", ["discovered"], "  " + discover)
    )
    write(repo, {"app/template.envsubst": "x"})
    manifests = service_over(tmp_path, repo, plugins)
    [obj] = ok(await manifests.render_application(application({"path": "app", "plugin": {}})))
    assert obj["metadata"]["name"] == "discovered"


async def test_file_modes_reach_the_plugin_only_with_preserve_file_mode(tmp_path, repo):
    write(
        repo,
        {"app/gen.sh": "#!/bin/sh\necho 'apiVersion: v1\nkind: Namespace\nmetadata: {name: x}'\n"},
    )
    (repo / "app" / "gen.sh").chmod(0o755)
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    run_script = textwrap.dedent(
        """\
        apiVersion: argoproj.io/v1alpha1
        kind: ConfigManagementPlugin
        metadata: {name: script}
        spec:
          generate: {command: [./gen.sh]}
        """
    )
    (plugins / "p.yaml").write_text(run_script)
    manifests = service_over(tmp_path, repo, plugins)
    app = application({"path": "app", "plugin": {"name": "script"}})
    assert "Permission denied: ./gen.sh" in failed(await manifests.render_application(app))
    replace(plugins / "p.yaml", run_script + "  preserveFileMode: true\n")
    [obj] = ok(await manifests.render_application(app, hard_refresh=True))
    assert obj["kind"] == "Namespace"


async def test_a_plugin_file_asking_for_git_credentials_is_left_out_with_a_warning(
    tmp_path, repo, caplog
):
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "p.yaml").write_text(plugin_file("creds", ["x"], "  provideGitCreds: true\n"))
    (plugins / "notes.txt").write_text("not a plugin file")
    write(repo, {"app/x.txt": "x"})
    manifests = service_over(tmp_path, repo, plugins)
    app = application({"path": "app", "plugin": {"name": "creds"}})
    assert "no plugin named 'creds'" in failed(await manifests.render_application(app))
    assert "spec.provideGitCreds is not supported" in caplog.text
    assert str(plugins / "p.yaml") in caplog.text
