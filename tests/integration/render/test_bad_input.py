"""Bad input: every case fails cleanly, naming the app, the file and the reason, leaking nothing.

``failed`` (conftest) also checks that the canary beside the repository never appears.
"""

from __future__ import annotations

import os
import pathlib

import pytest

from tether.core.sources import kubeyaml
from tether.services import manifests as service

from .conftest import application, failed, make_renderer, names, ok, write

pytestmark = [pytest.mark.tools, pytest.mark.timeout(60)]

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok}\n"


async def test_a_symlinked_file_pointing_outside_is_refused_and_logged(
    render, repo, workspace, caplog
):
    write(repo, {"app/ok.yaml": CM})
    os.symlink(workspace / "outside" / "secret.yaml", repo / "app" / "leak.yaml")
    message = failed(await render(application({"path": "app"}, name="leaky")))
    assert "application tether/leaky" in message
    assert "app/leak.yaml: out-of-bounds symlink" in message
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any("app/leak.yaml is a symlink out of the checkout" in w for w in warnings)


async def test_a_symlinked_directory_to_the_root_filesystem_is_refused(render, repo):
    write(repo, {"app/ok.yaml": CM})
    os.symlink("/", repo / "app" / "rootfs")
    message = failed(await render(application({"path": "app", "directory": {"recurse": True}})))
    assert "app/rootfs: out-of-bounds symlink" in message


async def test_a_multi_hop_symlink_escape_is_refused(render, repo, workspace):
    write(repo, {"app/ok.yaml": CM})
    os.symlink(workspace / "outside", repo / "hop")
    os.symlink("../hop/secret.yaml", repo / "app" / "two.yaml")
    message = failed(await render(application({"path": "app"})))
    assert "out-of-bounds symlink" in message


async def test_symlinks_inside_the_repository_keep_working(render, repo):
    write(repo, {"shared/cm.yaml": CM})
    (repo / "app").mkdir()
    os.symlink("../shared/cm.yaml", repo / "app" / "linked.yaml")
    assert names(ok(await render(application({"path": "app"})))) == ["ok"]


async def test_dangling_and_looping_symlinks_fail_cleanly(render, repo):
    (repo / "app").mkdir()
    os.symlink("missing.yaml", repo / "app" / "dangling.yaml")
    message = failed(await render(application({"path": "app"})))
    assert "app/dangling.yaml: cannot be read" in message
    os.remove(repo / "app" / "dangling.yaml")
    os.symlink("b.yaml", repo / "app" / "a.yaml")
    os.symlink("a.yaml", repo / "app" / "b.yaml")
    message = failed(await render(application({"path": "app"})))
    assert "app/a.yaml: cannot be read" in message


async def test_a_source_path_that_is_a_symlink_out_of_the_repository_is_refused(
    render, repo, workspace
):
    os.symlink(workspace / "outside", repo / "escape")
    message = failed(await render(application({"path": "escape"})))
    assert "out-of-bounds symlink" in message


async def test_an_absolute_source_path_stays_inside_the_repository(render, repo):
    message = failed(await render(application({"path": "/etc"})))
    assert "spec.source.path" in message
    assert "not a directory in the repository" in message


async def test_an_alias_bomb_in_a_manifest_file_is_refused(render, repo):
    lines = [
        "apiVersion: v1",
        "kind: ConfigMap",
        "metadata: {name: bomb}",
        "a0: &a0 [x, x, x, x, x, x, x, x, x]",
    ]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 9)]
    write(repo, {"app/bomb.yaml": "\n".join(lines) + "\n"})
    message = failed(await render(application({"path": "app"}, name="boom")))
    assert "application tether/boom" in message
    assert "app/bomb.yaml: document 1 holds more than" in message


async def test_a_deeply_nested_document_is_refused(render, repo):
    write(repo, {"app/deep.yaml": "kind: X\nx: " + "[" * 500 + "]" * 500 + "\n"})
    assert "deep.yaml: document 1 nests deeper than" in failed(
        await render(application({"path": "app"}))
    )
    write(repo, {"app/deep.yaml": "[" * 200_000 + "\n"})
    assert "deep.yaml" in failed(await render(application({"path": "app"})))


async def test_a_file_over_the_size_limit_is_refused_before_parsing(tmp_path, repo):
    write(repo, {"app/big.yaml": CM + "#" * 5000 + "\n"})
    renderer = make_renderer(tmp_path, limits=kubeyaml.Limits(max_file_bytes=4096))
    use_case = service.ManifestService(service.DirectoryRepos(str(repo)), renderer)
    message = failed(await use_case.render_application(application({"path": "app"})))
    assert "big.yaml: " in message
    assert "exceeds the limit of 4096 bytes" in message


async def test_too_many_files_are_refused_before_parsing(tmp_path, repo):
    write(repo, {f"many/{i:03}.yaml": "" for i in range(30)})
    renderer = make_renderer(tmp_path, limits=kubeyaml.Limits(max_files=20))
    use_case = service.ManifestService(service.DirectoryRepos(str(repo)), renderer)
    message = failed(await use_case.render_application(application({"path": "many"})))
    assert "more than 20 manifest files" in message


async def test_invalid_yaml_names_the_file_and_line(render, repo):
    write(repo, {"app/ok.yaml": CM, "app/broken.yaml": "kind: A\nmetadata: {name: [x\n"})
    message = failed(await render(application({"path": "app"})))
    assert "app/broken.yaml: invalid YAML" in message
    assert "line" in message


async def test_a_document_that_is_not_an_object_names_the_file_and_index(render, repo):
    write(repo, {"app/list.yaml": CM + "---\n- just\n- a list\n"})
    message = failed(await render(application({"path": "app"})))
    assert "app/list.yaml: document 2 is a list, not a Kubernetes object" in message


async def test_invalid_json_names_the_file(render, repo):
    write(repo, {"app/x.json": '{"kind": '})
    assert "x.json: invalid JSON" in failed(await render(application({"path": "app"})))


@pytest.mark.parametrize(
    ("tool", "options", "field"),
    [
        ("kustomize", {"namePrefx": "x-"}, "spec.source.kustomize.namePrefx"),
        ("helm", {"valuesFile": ["v.yaml"]}, "spec.source.helm.valuesFile"),
        ("directory", {"recursive": True}, "spec.source.directory.recursive"),
        ("plugin", {"params": []}, "spec.source.plugin.params"),
    ],
)
async def test_an_unknown_tool_option_is_refused_before_anything_runs(
    render, repo, tool, options, field
):
    write(repo, {"app/ok.yaml": CM})
    result = await render(application({"path": "app", tool: options}, name="typo"))
    message = failed(result)
    assert message.startswith("application tether/typo: unknown option " + field)
    assert result.invalid_input


async def test_an_unknown_source_field_is_refused(render, repo):
    message = failed(await render(application({"path": "app", "pathh": "x"})))
    assert "unknown option spec.source.pathh" in message


async def test_errors_never_name_the_checkout_or_scratch_directories(render, repo):
    write(repo, {"app/kustomization.yaml": "resources: [gone.yaml]\n"})
    message = failed(await render(application({"path": "app"})))
    assert str(repo) not in message
    assert "render-cache" not in message


async def test_a_huge_tool_output_is_bounded(tmp_path, repo):
    write(repo, {"app/kustomization.yaml": "resources: [cm.yaml]\n", "app/cm.yaml": CM})
    renderer = make_renderer(tmp_path, max_output_bytes=10)
    use_case = service.ManifestService(service.DirectoryRepos(str(repo)), renderer)
    message = failed(await use_case.render_application(application({"path": "app"})))
    assert "printed more than 10 bytes" in message


def test_the_canary_sits_outside_the_repository(workspace, repo):
    assert not pathlib.Path(workspace / "outside").is_relative_to(repo)
