"""Source options, tool detection, the path jail, globs, build env and cache keys."""

from __future__ import annotations

import posixpath

import pytest

from tether.core.sources import rendering
from tether.model.errors import InvalidInputError
from tether.model.source import ApplicationSource


def test_a_full_source_parses_into_typed_options():
    source = rendering.parse_source(
        {
            "repoURL": "https://git.example/repo.git",
            "path": "apps/web",
            "targetRevision": "main",
            "helm": {
                "valueFiles": ["values-prod.yaml"],
                "parameters": [{"name": "a", "value": "1", "forceString": True}],
                "fileParameters": [{"name": "cfg", "path": "files/cfg.txt"}],
                "valuesObject": {"replicas": 2},
                "skipCrds": True,
            },
        }
    )
    assert source.helm is not None
    assert source.helm.parameters == (("a", "1", True),)
    assert source.helm.file_parameters == (("cfg", "files/cfg.txt"),)
    assert source.helm.values_object == {"replicas": 2}
    assert source.helm.skip_crds


def test_an_unknown_tool_option_is_refused_naming_the_field():
    with pytest.raises(
        InvalidInputError, match=r"unknown option spec\.source\.kustomize\.nameprefix"
    ):
        rendering.parse_source({"repoURL": "r", "kustomize": {"nameprefix": "x-"}})


def test_a_wrongly_typed_option_is_refused():
    with pytest.raises(InvalidInputError, match=r"spec\.source\.helm\.valueFiles must be a list"):
        rendering.parse_source({"repoURL": "r", "helm": {"valueFiles": "values.yaml"}})


def test_the_pydantic_model_is_accepted_too():
    model = ApplicationSource.model_validate(
        {
            "repoURL": "https://r",
            "path": "p",
            "directory": {"recurse": True, "jsonnet": {"libs": ["l"]}},
        }
    )
    source = rendering.parse_source(model)
    assert source.directory == rendering.DirectoryOptions(recurse=True, libs=("l",))


def test_jsonnet_variables_keep_code_and_string_apart():
    source = rendering.parse_source(
        {
            "repoURL": "r",
            "directory": {
                "jsonnet": {
                    "extVars": [
                        {"name": "a", "value": "x"},
                        {"name": "b", "value": "1+1", "code": True},
                    ],
                    "tlas": [{"name": "t", "value": "y"}],
                }
            },
        }
    )
    assert source.directory is not None
    assert source.directory.ext_vars == (
        rendering.JsonnetVar("a", "x"),
        rendering.JsonnetVar("b", "1+1", code=True),
    )


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        (["Chart.yaml", "values.yaml"], "helm"),
        (["kustomization.yaml"], "kustomize"),
        (["kustomization.yml"], "kustomize"),
        (["Kustomization"], "kustomize"),
        (["Chart.yaml", "kustomization.yaml"], "helm"),
        (["deploy.yaml"], "directory"),
        ([], "directory"),
    ],
)
def test_the_tool_is_detected_from_marker_files(files, expected):
    source = rendering.parse_source({"repoURL": "r"})
    assert rendering.detect_tool(source, files) == expected


def test_explicit_options_choose_the_tool_over_markers():
    plugin = rendering.parse_source({"repoURL": "r", "plugin": {}})
    assert rendering.detect_tool(plugin, ["kustomization.yaml"]) == "plugin"
    chart = rendering.parse_source({"repoURL": "r", "chart": "nginx"})
    assert rendering.detect_tool(chart, []) == "helm"


def fake_realpath(links: dict[str, str]):
    def realpath(path: str) -> str:
        path = posixpath.normpath(path)
        for link, target in links.items():
            if path == link or path.startswith(link + "/"):
                return posixpath.normpath(target + path[len(link) :])
        return path

    return realpath


@pytest.mark.parametrize(
    "path",
    ["../../other-repo/secret.yaml", "../../../../etc/passwd", "a/../../../x", "a/b/../../../../x"],
)
def test_paths_that_escape_the_repository_are_refused(path):
    with pytest.raises(InvalidInputError, match="escapes the repository root"):
        rendering.resolve_in_repo(
            "/repo", path, base="/repo/app", field="valueFiles", realpath=fake_realpath({})
        )


def test_relative_paths_may_reach_other_directories_of_the_same_repository():
    resolved = rendering.resolve_in_repo(
        "/repo", "../other-app/values.yaml", base="/repo/app", field="f", realpath=fake_realpath({})
    )
    assert resolved == "/repo/other-app/values.yaml"


def test_absolute_paths_are_repository_relative():
    resolved = rendering.resolve_in_repo(
        "/repo", "/etc/passwd", field="f", realpath=fake_realpath({})
    )
    assert resolved == "/repo/etc/passwd"


def test_a_symlink_out_of_the_repository_is_refused():
    realpath = fake_realpath({"/repo/app/link": "/etc"})
    with pytest.raises(InvalidInputError, match="escapes"):
        rendering.resolve_in_repo(
            "/repo", "link/passwd", base="/repo/app", field="f", realpath=realpath
        )


def test_a_symlink_inside_the_repository_is_fine():
    realpath = fake_realpath({"/repo/app/shared": "/repo/shared"})
    resolved = rendering.resolve_in_repo(
        "/repo", "shared/v.yaml", base="/repo/app", field="f", realpath=realpath
    )
    assert resolved == "/repo/shared/v.yaml"


def test_a_sibling_with_the_root_as_prefix_is_outside():
    assert not rendering.is_inside("/repo", "/repo-other/x")
    assert rendering.is_inside("/repo", "/repo")


def test_a_nul_byte_is_refused():
    with pytest.raises(InvalidInputError, match="NUL"):
        rendering.resolve_in_repo("/repo", "a\x00b", field="f", realpath=fake_realpath({}))


def test_the_build_env_has_argo_cds_variables():
    source = rendering.parse_source({"repoURL": "https://r", "path": "p", "targetRevision": "main"})
    env = rendering.build_env(
        app_name="web", app_namespace="prod", revision="0123456789abcdef", source=source,
        kube_version="1.36.0", api_versions=["v1", "apps/v1"],
    )  # fmt: skip
    assert env["ARGOCD_APP_REVISION_SHORT"] == "0123456"
    assert env["ARGOCD_APP_SOURCE_TARGET_REVISION"] == "main"
    assert env["KUBE_API_VERSIONS"] == "v1,apps/v1"


def test_plugin_env_prefixes_user_env_and_exports_parameters():
    options = rendering.parse_source(
        {
            "repoURL": "r",
            "plugin": {
                "env": [{"name": "FOO", "value": "app-$ARGOCD_APP_NAME"}],
                "parameters": [
                    {"name": "replica-count", "string": "3"},
                    {"name": "tags", "array": ["a", "b"]},
                    {"name": "labels", "map": {"team": "x"}},
                ],
            },
        }
    ).plugin
    assert options is not None
    env = rendering.plugin_env(options, {"ARGOCD_APP_NAME": "web"})
    assert env["ARGOCD_ENV_FOO"] == "app-web"
    assert env["PARAM_REPLICA_COUNT"] == "3"
    assert env["PARAM_TAGS_1"] == "b"
    assert env["PARAM_LABELS_TEAM"] == "x"
    assert '"replica-count"' in env["ARGOCD_APP_PARAMETERS"]


def test_the_cache_key_changes_with_options_and_tool_versions():
    a = rendering.parse_source({"repoURL": "r", "path": "p", "kustomize": {"namePrefix": "a-"}})
    b = rendering.parse_source({"repoURL": "r", "path": "p", "kustomize": {"namePrefix": "b-"}})
    context = {"app": "x"}
    key_a = rendering.cache_key(
        "r", "sha", "p", rendering.options_hash(a, context), {"kustomize": "v5"}
    )
    key_b = rendering.cache_key(
        "r", "sha", "p", rendering.options_hash(b, context), {"kustomize": "v5"}
    )
    key_c = rendering.cache_key(
        "r", "sha", "p", rendering.options_hash(a, context), {"kustomize": "v6"}
    )
    assert len({key_a, key_b, key_c}) == 3
    assert key_a == rendering.cache_key(
        "r", "sha", "p", rendering.options_hash(a, context), {"kustomize": "v5"}
    )


def test_a_git_source_renders_the_same_under_any_name_for_its_commit():
    # A sync pins the SHA; the comparisons around it name the branch: one render, not three.
    branch = rendering.parse_source({"repoURL": "r", "path": "p", "targetRevision": "main"})
    pinned = rendering.parse_source({"repoURL": "r", "path": "p", "targetRevision": "0" * 40})
    context = {"app": "x"}
    assert rendering.options_hash(branch, context) == rendering.options_hash(pinned, context)


def test_a_helm_chart_version_still_keys_its_render():
    one = rendering.parse_source({"repoURL": "https://c", "chart": "c", "targetRevision": "1.0.0"})
    two = rendering.parse_source({"repoURL": "https://c", "chart": "c", "targetRevision": "2.0.0"})
    assert rendering.options_hash(one, {}) != rendering.options_hash(two, {})


def test_kustomize_options_with_only_versions_count_as_empty():
    assert rendering.KustomizeOptions(kube_version="1.30").is_empty
    assert not rendering.KustomizeOptions(name_prefix="x-").is_empty
