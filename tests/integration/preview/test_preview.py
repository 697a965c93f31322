"""``tether preview`` on real Git repositories with the real kustomize, helm and jsonnet."""

from __future__ import annotations

import textwrap

import pytest
import yaml

from tests.support.gitservers import SeedRepo
from tether.model.errors import GitError, InvalidInputError

from .conftest import REPO_URL, Preview, app, config_map, outcomes, report

pytestmark = [pytest.mark.tools, pytest.mark.timeout(60)]

KUSTOMIZE_APPS = {
    "apps/one.yaml": app("one", "overlays/one"),
    "apps/two.yaml": app("two", "overlays/two"),
    "apps/other.yaml": app("other", "other"),
    "base/kustomization.yaml": "resources: [settings.yaml]\n",
    "base/settings.yaml": config_map("settings", level="info"),
    "overlays/one/kustomization.yaml": "resources: [../../base]\nnamePrefix: one-\n",
    "overlays/two/kustomization.yaml": "resources: [../../base]\nnamePrefix: two-\n",
    "other/kustomization.yaml": "resources: [own.yaml]\n",
    "other/own.yaml": config_map("own", level="info"),
    "README.md": "deploy\n",
}


def test_a_change_to_one_kustomize_base_affects_exactly_the_apps_that_include_it(
    repo: SeedRepo, preview: Preview
) -> None:
    repo.commit("base", KUSTOMIZE_APPS)
    repo.commit("head", {"base/settings.yaml": config_map("settings", level="debug")})

    result = preview(repo.shas["base"], repo.shas["head"], output="json")

    assert result.exit_code == 0, result.output
    assert outcomes(result) == {
        "tether/one": "changed",
        "tether/two": "changed",
        "tether/other": "skipped",
    }
    one = next(a for a in report(result)["apps"] if a["app"] == "tether/one")
    assert [c["name"] for c in one["changed"]] == ["one-settings"]
    assert "-  level: info\n+  level: debug" in one["changed"][0]["diff"]


def test_base_and_head_may_be_any_name_git_understands_in_the_checkout(
    repo: SeedRepo, preview: Preview
) -> None:
    repo.commit("base", KUSTOMIZE_APPS)
    repo.commit("head", {"base/settings.yaml": config_map("settings", level="debug")})

    # What a reviewer types: a parent expression and an abbreviated SHA.
    result = preview("HEAD~1", repo.shas["head"][:9], output="json")

    assert result.exit_code == 0, result.output
    assert outcomes(result)["tether/one"] == "changed"
    with pytest.raises(GitError, match=r"'HEAD~5' not found"):  # the CLI's exit code 2
        preview("HEAD~5", "HEAD")


def test_a_change_outside_every_apps_paths_reports_no_app(repo: SeedRepo, preview: Preview) -> None:
    repo.commit("base", KUSTOMIZE_APPS)
    repo.commit("head", {"README.md": "deploy, documented\n"})

    result = preview(repo.shas["base"], repo.shas["head"])

    assert result.exit_code == 0, result.output
    assert "no app is affected by this change" in result.stdout
    assert "unchanged (3): tether/one, tether/other, tether/two" in result.stdout


def test_a_renamed_object_shows_as_one_removed_and_one_added(
    repo: SeedRepo, preview: Preview
) -> None:
    repo.commit("base", KUSTOMIZE_APPS)
    repo.commit("head", {"other/own.yaml": config_map("renamed", level="info")})

    result = preview(repo.shas["base"], repo.shas["head"], output="json")

    other = next(a for a in report(result)["apps"] if a["app"] == "tether/other")
    assert [c["name"] for c in other["added"]] == ["renamed"]
    assert [c["name"] for c in other["removed"]] == ["own"]
    assert other["changed"] == []


def test_a_render_failure_at_head_is_reported_without_hiding_the_other_apps(
    repo: SeedRepo, preview: Preview
) -> None:
    repo.commit("base", KUSTOMIZE_APPS)
    repo.commit(
        "head",
        {
            "overlays/two/kustomization.yaml": "resources: [../../missing]\n",
            "base/settings.yaml": config_map("settings", level="debug"),
        },
    )

    result = preview(repo.shas["base"], repo.shas["head"], output="json")

    assert result.exit_code == 1
    assert outcomes(result) == {
        "tether/one": "changed",
        "tether/two": "failed",
        "tether/other": "skipped",
    }
    two = next(a for a in report(result)["apps"] if a["app"] == "tether/two")
    assert "missing" in two["error"]


CHART = {
    "chart/Chart.yaml": "apiVersion: v2\nname: web\nversion: 0.1.0\n",
    "chart/values.yaml": "replicas: 1\n",
    "chart/templates/cm.yaml": textwrap.dedent("""\
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: web
        data:
          replicas: "{{ .Values.replicas }}"
        """),
    "envs/prod.yaml": "replicas: 3\n",
    "envs/dev.yaml": "replicas: 1\n",
}


def test_a_helm_values_file_change_affects_the_app_that_reads_it(
    repo: SeedRepo, preview: Preview
) -> None:
    repo.commit(
        "base",
        {
            **CHART,
            "apps/prod.yaml": app("prod", "chart", helm={"valueFiles": ["../envs/prod.yaml"]}),
            "apps/dev.yaml": app("dev", "chart", helm={"valueFiles": ["../envs/dev.yaml"]}),
        },
    )
    repo.commit("head", {"envs/prod.yaml": "replicas: 5\n"})

    result = preview(repo.shas["base"], repo.shas["head"], output="json")

    assert result.exit_code == 0, result.output
    assert outcomes(result) == {"tether/dev": "skipped", "tether/prod": "changed"}
    prod = next(a for a in report(result)["apps"] if a["app"] == "tether/prod")
    assert "+  replicas: '5'" in prod["changed"][0]["diff"]


def test_a_jsonnet_library_change_affects_the_apps_that_import_it(
    repo: SeedRepo, preview: Preview
) -> None:
    main = 'local lib = import "../lib/names.libsonnet";\n[lib.cm("%s")]\n'
    lib = (
        '{ cm(n):: { apiVersion: "v1", kind: "ConfigMap", '
        'metadata: { name: n }, data: { v: "%s" } } }\n'
    )
    repo.commit(
        "base",
        {
            "apps/a.yaml": app("a", "a"),
            "apps/b.yaml": app("b", "b"),
            "a/main.jsonnet": main % "a",
            "b/main.yaml": config_map("b"),
            "lib/names.libsonnet": lib % "1",
        },
    )
    repo.commit("head", {"lib/names.libsonnet": lib % "2"})

    result = preview(repo.shas["base"], repo.shas["head"], output="json")

    assert result.exit_code == 0, result.output
    assert outcomes(result) == {"tether/a": "changed", "tether/b": "skipped"}


SECRET_VALUE = "hunter2-very-secret"


@pytest.mark.parametrize("output", ["text", "json", "markdown"])
def test_secret_values_are_masked_in_every_output_format(
    repo: SeedRepo, preview: Preview, output: str
) -> None:
    secret = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: creds\nstringData:\n  token: %s\n"
    repo.commit("base", {"apps/s.yaml": app("s", "s"), "s/secret.yaml": secret % "old-value"})
    repo.commit("head", {"s/secret.yaml": secret % SECRET_VALUE})

    result = preview(repo.shas["base"], repo.shas["head"], output=output)

    assert result.exit_code == 0, result.output
    assert "creds" in result.stdout
    assert SECRET_VALUE not in result.stdout
    assert "old-value" not in result.stdout


def test_an_app_of_apps_contributes_its_children(repo: SeedRepo, preview: Preview) -> None:
    root = app("root", "apps")
    repo.commit(
        "base",
        {
            "root.yaml": root,
            "apps/child.yaml": app("child", "child"),
            "child/cm.yaml": config_map("c", v="1"),
        },
    )
    repo.commit("head", {"child/cm.yaml": config_map("c", v="2")})

    result = preview(repo.shas["base"], repo.shas["head"], "root.yaml", output="json")

    assert result.exit_code == 0, result.output
    assert outcomes(result) == {"tether/child": "changed", "tether/root": "skipped"}


def test_the_markdown_report_has_a_summary_table_and_a_collapsed_section_per_app(
    repo: SeedRepo, preview: Preview
) -> None:
    repo.commit("base", KUSTOMIZE_APPS)
    repo.commit("head", {"base/settings.yaml": config_map("settings", level="debug")})

    result = preview(repo.shas["base"], repo.shas["head"], output="markdown")

    text = result.stdout
    assert "| tether/one | changed | 0 | 0 | 1 |" in text
    assert text.count("<details>") == 2
    assert "Unchanged (1): tether/other" in text


def test_an_invalid_application_at_head_is_a_failure_naming_its_file(
    repo: SeedRepo, preview: Preview
) -> None:
    repo.commit("base", KUSTOMIZE_APPS)
    broken = app("other", "other").replace("  destination:", "  nowhere:")
    repo.commit("head", {"apps/other.yaml": broken})

    result = preview(repo.shas["base"], repo.shas["head"], output="json")

    assert result.exit_code == 1
    other = next(a for a in report(result)["apps"] if a["app"] == "tether/other")
    assert other["outcome"] == "failed"
    assert "apps/other.yaml" in other["error"]
    assert "destination" in other["error"]


def test_an_app_file_at_neither_commit_is_refused_by_name(repo: SeedRepo, preview: Preview) -> None:
    repo.commit("base", KUSTOMIZE_APPS)

    with pytest.raises(InvalidInputError, match=r"nowhere\.yaml: no such file"):
        preview(repo.shas["base"], repo.shas["base"], "nowhere.yaml")


def _multi_source(name: str, values: str) -> str:
    return yaml.safe_dump(
        {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Application",
            "metadata": {"name": name, "namespace": "tether"},
            "spec": {
                "project": "default",
                "sources": [
                    {
                        "repoURL": REPO_URL,
                        "path": "chart",
                        "helm": {"valueFiles": [f"$values/{values}"]},
                    },
                    {"repoURL": REPO_URL, "ref": "values"},
                ],
                "destination": {"server": "https://kubernetes.default.svc", "namespace": name},
            },
        }
    )


def test_a_value_file_from_a_ref_source_affects_only_the_apps_that_name_it(
    repo: SeedRepo, preview: Preview
) -> None:
    repo.commit(
        "base",
        {
            **CHART,
            "apps/prod.yaml": _multi_source("prod", "envs/prod.yaml"),
            "apps/dev.yaml": _multi_source("dev", "envs/dev.yaml"),
        },
    )
    repo.commit("head", {"envs/prod.yaml": "replicas: 7\n"})

    result = preview(repo.shas["base"], repo.shas["head"], output="json")

    assert result.exit_code == 0, result.output
    assert outcomes(result) == {"tether/dev": "skipped", "tether/prod": "changed"}


def test_the_children_of_an_app_of_apps_that_fails_at_head_are_unknown_not_gone(
    repo: SeedRepo, preview: Preview
) -> None:
    repo.commit(
        "base",
        {
            "root.yaml": app("root", "apps"),
            "apps/kustomization.yaml": "resources: [child.yaml]\n",
            "apps/child.yaml": app("child", "child"),
            "child/cm.yaml": config_map("c", v="1"),
        },
    )
    repo.commit("head", {"apps/kustomization.yaml": "resources: [child.yaml, missing.yaml]\n"})

    result = preview(repo.shas["base"], repo.shas["head"], "root.yaml", output="json")

    assert result.exit_code == 1
    apps = {a["app"]: a for a in report(result)["apps"]}
    assert apps["tether/root"]["outcome"] == "failed"
    assert apps["tether/child"]["outcome"] == "failed"
    assert apps["tether/child"]["error"] == "unknown at head: tether/root did not render"
    assert apps["tether/child"]["removed"] == []
