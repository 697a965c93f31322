"""Which repository files a source reads: kustomize closures, charts, jsonnet imports."""

from __future__ import annotations

import posixpath
from typing import Any

from tether.core.preview import reads
from tether.model.source import ApplicationSource


class FakeTree:
    """A repository as a dict of path to text (folders are implied by the paths)."""

    def __init__(self, files: dict[str, str]) -> None:
        self.files = files

    def read(self, path: str) -> str | None:
        return self.files.get(path)

    def is_dir(self, path: str) -> bool:
        return path == "" or any(f.startswith(path + "/") for f in self.files)

    def names(self, path: str) -> list[str]:
        prefix = path + "/" if path else ""
        return sorted({f[len(prefix) :].split("/")[0] for f in self.files if f.startswith(prefix)})

    def mentions_application(self, path: str) -> bool:
        return reads.mentions_application(self.files.get(path, ""))


def source(path: str, **extra: Any) -> ApplicationSource:
    return ApplicationSource.model_validate({"repoURL": "https://x/r.git", "path": path, **extra})


KUSTOMIZE = FakeTree(
    {
        "base/kustomization.yaml": "resources: [cm.yaml, sub]\nconfigMapGenerator:\n"
        "- name: g\n  files: [key=conf/a.txt]\n  envs: [env.txt]\n",
        "base/cm.yaml": "kind: ConfigMap\n",
        "base/conf/a.txt": "a\n",
        "base/env.txt": "A=1\n",
        "base/sub/kustomization.yaml": "resources: [https://github.com/x/y//z]\n",
        "overlay/kustomization.yaml": "resources: [../base]\ncomponents: [../comp]\n"
        "patches:\n- path: patch.yaml\n",
        "overlay/patch.yaml": "kind: ConfigMap\n",
        "overlay/deeper/unrelated.yaml": "x\n",
        "comp/kustomization.yaml": "kind: Component\n",
        "elsewhere/x.yaml": "x\n",
    }
)


def test_a_kustomization_reads_its_bases_components_patches_and_generator_files() -> None:
    got = reads.source_reads(source("overlay"), KUSTOMIZE)

    for changed in (
        "overlay/kustomization.yaml",
        "overlay/patch.yaml",
        "base/cm.yaml",
        "base/conf/a.txt",
        "base/env.txt",
        "base/sub/kustomization.yaml",
        "comp/kustomization.yaml",
    ):
        assert got.touched_by([changed]), changed
    assert not got.touched_by(["elsewhere/x.yaml"])
    assert not got.touched_by(["overlay/deeper/unrelated.yaml"])


def test_a_remote_base_and_an_inline_patch_are_not_repository_files() -> None:
    got = reads.source_reads(source("base/sub"), KUSTOMIZE)

    assert got.dirs == {"base/sub"}
    assert got.files == set()


def test_paths_leaving_the_repository_are_ignored_not_followed() -> None:
    tree = FakeTree({"a/kustomization.yaml": "resources: [../../../etc/passwd]\n"})

    got = reads.source_reads(source("a"), tree)

    assert got.files == set()
    assert not got.everything


def test_an_unparsable_kustomization_makes_every_change_count() -> None:
    tree = FakeTree({"a/kustomization.yaml": "resources: [unclosed\n"})

    assert reads.source_reads(source("a"), tree).touched_by(["anything/at/all"])


def test_a_chart_reads_its_folder_its_value_files_and_its_file_dependencies() -> None:
    tree = FakeTree(
        {
            "chart/Chart.yaml": "dependencies:\n- name: lib\n  repository: file://../lib\n",
            "chart/templates/a.yaml": "x",
            "lib/Chart.yaml": "name: lib\n",
            "envs/prod.yaml": "x",
            "envs/dev.yaml": "x",
        }
    )

    got = reads.source_reads(source("chart", helm={"valueFiles": ["../envs/prod.yaml"]}), tree)

    assert got.touched_by(["chart/templates/a.yaml"])
    assert got.touched_by(["lib/Chart.yaml"])
    assert got.touched_by(["envs/prod.yaml"])
    assert not got.touched_by(["envs/dev.yaml"])


def test_a_value_file_from_a_ref_source_is_read_from_the_repository_root() -> None:
    tree = FakeTree({"chart/Chart.yaml": "name: c\n"})

    got = reads.source_reads(source("chart", helm={"valueFiles": ["$values/env/a.yaml"]}), tree)

    assert got.touched_by(["env/a.yaml"])


def test_jsonnet_imports_are_followed_through_libraries() -> None:
    tree = FakeTree(
        {
            "app/main.jsonnet": 'local a = import "../lib/a.libsonnet"; a',
            "lib/a.libsonnet": "import 'b.libsonnet'",
            "lib/b.libsonnet": "{}",
            "lib/c.libsonnet": "{}",
        }
    )

    got = reads.source_reads(source("app"), tree)

    assert got.touched_by(["lib/a.libsonnet"])
    assert got.touched_by(["lib/b.libsonnet"])
    assert not got.touched_by(["lib/c.libsonnet"])


def test_a_plugin_source_is_affected_by_any_change() -> None:
    got = reads.source_reads(source("p", plugin={"name": "x"}), FakeTree({"p/a": "x"}))

    assert got.everything


def test_a_folder_holding_application_manifests_may_be_an_app_of_apps() -> None:
    tree = FakeTree(
        {
            "apps/a.yaml": "apiVersion: argoproj.io/v1alpha1\nkind: Application\n",
            "plain/cm.yaml": "kind: ConfigMap\n",
        }
    )

    assert reads.may_hold_applications(reads.source_reads(source("apps"), tree), tree)
    assert not reads.may_hold_applications(reads.source_reads(source("plain"), tree), tree)


def test_clean_keeps_paths_inside_the_repository() -> None:
    assert reads.clean("/a/./b/../c") == "a/c"
    assert reads.clean(".") == ""
    assert reads.clean("../x") is None
    assert posixpath.join("", "x") == "x"


def test_a_very_deep_tree_is_walked_without_recursion() -> None:
    deep = "/".join(["d"] * 3000)
    tree = FakeTree({f"app/{deep}/x.yaml": "x", "app/a.yaml": "a"})

    assert list(reads.walk(tree, "app")) == ["app/a.yaml", f"app/{deep}/x.yaml"]
