"""Render inputs: unknown options refused, tool detection, build env and cache keys."""

from __future__ import annotations

import pytest

from tether.core.sources import rendering
from tether.model.application import parse_application
from tether.model.errors import InvalidInputError
from tether.model.source import ApplicationSource


def src(raw: dict[str, object]) -> ApplicationSource:
    return ApplicationSource.model_validate(raw)


def test_a_wrongly_typed_option_is_refused_when_the_application_is_parsed():
    app = {
        "metadata": {"name": "a"},
        "spec": {
            "project": "default",
            "destination": {},
            "source": {"repoURL": "r", "helm": {"valueFiles": "values.yaml"}},
        },
    }
    with pytest.raises(InvalidInputError, match=r"spec\.source\.helm\.valueFiles: Input should be"):
        parse_application(app)


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
    source = src({"repoURL": "r"})
    assert rendering.detect_tool(source, files) == expected


def test_explicit_options_choose_the_tool_over_markers():
    plugin = src({"repoURL": "r", "plugin": {}})
    assert rendering.detect_tool(plugin, ["kustomization.yaml"]) == "plugin"
    chart = src({"repoURL": "r", "chart": "nginx"})
    assert rendering.detect_tool(chart, []) == "helm"


def test_the_build_env_has_argo_cds_variables():
    source = src({"repoURL": "https://r", "path": "p", "targetRevision": "main"})
    env = rendering.build_env(
        app_name="web", app_namespace="prod", revision="0123456789abcdef", source=source,
        kube_version="1.36.0", api_versions=["v1", "apps/v1"],
    )  # fmt: skip
    assert env["ARGOCD_APP_REVISION_SHORT"] == "0123456"
    assert env["ARGOCD_APP_SOURCE_TARGET_REVISION"] == "main"
    assert env["KUBE_API_VERSIONS"] == "v1,apps/v1"


def test_the_build_env_gives_the_repo_url_without_a_typed_in_password():
    source = src({"repoURL": "https://bot:s3cret-pw@git.example/r.git", "path": "p"})
    env = rendering.build_env(
        app_name="web", app_namespace="prod", revision="0" * 40, source=source
    )
    assert env["ARGOCD_APP_SOURCE_REPO_URL"] == "https://git.example/r.git"


def test_plugin_env_prefixes_user_env_and_exports_parameters():
    options = src(
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
    a = src({"repoURL": "r", "path": "p", "kustomize": {"namePrefix": "a-"}})
    b = src({"repoURL": "r", "path": "p", "kustomize": {"namePrefix": "b-"}})
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
    branch = src({"repoURL": "r", "path": "p", "targetRevision": "main"})
    pinned = src({"repoURL": "r", "path": "p", "targetRevision": "0" * 40})
    context = {"app": "x"}
    assert rendering.options_hash(branch, context) == rendering.options_hash(pinned, context)


def test_a_helm_chart_version_still_keys_its_render():
    one = src({"repoURL": "https://c", "chart": "c", "targetRevision": "1.0.0"})
    two = src({"repoURL": "https://c", "chart": "c", "targetRevision": "2.0.0"})
    assert rendering.options_hash(one, {}) != rendering.options_hash(two, {})


def test_kustomize_options_with_only_versions_need_no_overlay():
    versions_only = src({"repoURL": "r", "kustomize": {"kubeVersion": "1.30"}}).kustomize
    prefixed = src({"repoURL": "r", "kustomize": {"namePrefix": "x-"}}).kustomize
    assert versions_only is not None and not versions_only.has_inline_options()
    assert prefixed is not None and prefixed.has_inline_options()


@pytest.mark.parametrize(
    ("tool", "raw", "flags", "reads"),
    [
        ("helm", {}, (), True),
        ("plugin", {"plugin": {"name": "p"}}, (), True),
        ("kustomize", {}, (), False),
        ("kustomize", {}, ("--enable-helm",), True),
        ("kustomize", {}, ("--enable-alpha-plugins", "--enable-exec"), True),
        ("kustomize", {"kustomize": {"commonAnnotationsEnvsubst": True}}, (), True),
        ("directory", {"directory": {"recurse": True}}, ("--enable-helm",), False),
    ],
)
def test_only_renders_that_may_read_the_cluster_versions_are_keyed_on_them(tool, raw, flags, reads):
    source = src({"repoURL": "r", "path": "p", **raw})
    options = rendering.BuildOptions(kustomize=flags)
    assert rendering.reads_cluster_versions(tool, source, options) is reads
