"""Each generator's parameter sets, in both template forms, and the selectors over them."""

from __future__ import annotations

from typing import Any

import pytest

from tether.core.appsets import params
from tether.model.errors import InvalidInputError


def cluster_secret(name: str, server: str, **labels: str) -> dict[str, Any]:
    return {
        "metadata": {
            "name": f"cluster-{name}",
            "labels": {params.CLUSTER_SECRET_LABEL: "cluster", **labels},
            "annotations": {"team": "ml"},
        },
        "stringData": {"name": name, "server": server, "project": "default"},
    }


def test_list_elements_and_elements_yaml_give_one_set_each_in_order() -> None:
    spec = {"elements": [{"cluster": "dev"}], "elementsYaml": "- cluster: prod\n  url: x\n"}
    assert params.list_params(spec, go=True) == [
        {"cluster": "dev"},
        {"cluster": "prod", "url": "x"},
    ]


def test_list_elements_are_flattened_to_dotted_strings_for_the_legacy_form() -> None:
    spec = {"elements": [{"a": {"b": 1, "c": [True, "x"]}}]}
    assert params.list_params(spec, go=False) == [{"a.b": "1", "a.c[0]": "true", "a.c[1]": "x"}]


def test_a_list_element_that_is_not_an_object_is_an_error_naming_it() -> None:
    with pytest.raises(InvalidInputError, match="element 1"):
        params.list_params({"elements": [{"a": 1}, "oops"]}, go=True)
    with pytest.raises(InvalidInputError, match="elementsYaml"):
        params.list_params({"elementsYaml": "a: b"}, go=True)


def test_clusters_give_name_server_labels_and_values_and_in_cluster_without_a_selector() -> None:
    secrets: list[dict[str, Any]] = [
        cluster_secret("Prod EU", "https://prod", env="prod"),
        {"metadata": {}},
    ]
    found = params.clusters_params({"values": {"tier": "1"}}, secrets, go=True)
    assert [p["name"] for p in found] == ["in-cluster", "Prod EU"]
    prod = found[1]
    assert prod["nameNormalized"] == "prod-eu"
    assert prod["server"] == "https://prod"
    assert prod["metadata"]["labels"]["env"] == "prod"
    assert prod["values"] == {"tier": "1"}


def test_clusters_with_a_selector_keep_only_matching_secrets_and_never_add_in_cluster() -> None:
    secrets = [
        cluster_secret("a", "https://a", env="prod"),
        cluster_secret("b", "https://b", env="dev"),
        cluster_secret("c", "https://c"),
    ]
    selector = {"matchExpressions": [{"key": "env", "operator": "In", "values": ["prod"]}]}
    found = params.clusters_params({"selector": selector}, secrets, go=False)
    assert [p["name"] for p in found] == ["a"]
    assert found[0]["metadata.labels.env"] == "prod"
    by_label = params.clusters_params(
        {"selector": {"matchLabels": {"env": "dev"}}}, secrets, go=True
    )
    assert [p["name"] for p in by_label] == ["b"]


def test_a_secret_for_the_in_cluster_server_replaces_the_implicit_one() -> None:
    secrets = [cluster_secret("local", params.IN_CLUSTER_SERVER)]
    assert [p["name"] for p in params.clusters_params({}, secrets, go=True)] == ["local"]


def test_an_unknown_selector_operator_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="unknown selector operator 'Gt'"):
        params.clusters_params(
            {"selector": {"matchExpressions": [{"key": "a", "operator": "Gt"}]}}, [], go=True
        )


DIRS = ["apps", "apps/a", "apps/b", "apps/b/sub", "apps/.hidden", "apps/skip", "other"]


def test_git_directories_match_globs_and_an_exclude_wins_whatever_its_order() -> None:
    spec = {"directories": [{"path": "apps/skip", "exclude": True}, {"path": "apps/*"}]}
    found = params.git_directories(spec, DIRS, go=False)
    assert [p["path"] for p in found] == ["apps/a", "apps/b"]
    assert found[1] == {
        "path": "apps/b",
        "path.basename": "b",
        "path.basenameNormalized": "b",
        "path[0]": "apps",
        "path[1]": "b",
    }


def test_git_directories_in_go_form_nest_under_path_and_honour_the_prefix() -> None:
    spec = {"directories": [{"path": "apps/a"}], "pathParamPrefix": "src"}
    (found,) = params.git_directories(spec, DIRS, go=True)
    assert found["src"]["path"]["segments"] == ["apps", "a"]
    assert found["src"]["path"]["basename"] == "a"


def test_a_literal_directory_that_is_gone_is_an_error_not_an_empty_result() -> None:
    with pytest.raises(InvalidInputError, match="'apps/c' is not in the repository"):
        params.git_directories({"directories": [{"path": "apps/c"}]}, DIRS, go=True)


def test_git_files_give_an_object_or_each_array_item_with_path_params() -> None:
    found = params.git_file(
        "envs/prod/config.json", '[{"a": {"b": 1}}, {"a": {"b": 2}}]', {}, go=False
    )
    assert [p["a.b"] for p in found] == ["1", "2"]
    assert found[0]["path"] == "envs/prod"
    assert found[0]["path.filename"] == "config.json"
    assert found[0]["path[1]"] == "prod"
    (one,) = params.git_file("c.yaml", "name: x\n", {}, go=True)
    assert one["name"] == "x"
    assert one["path"]["filename"] == "c.yaml"


def test_a_git_file_that_is_not_an_object_is_an_error_naming_the_file() -> None:
    with pytest.raises(InvalidInputError, match=r"c\.yaml item 0"):
        params.git_file("c.yaml", "just text", {}, go=True)
    with pytest.raises(InvalidInputError, match=r"c\.yaml is not JSON or YAML"):
        params.git_file("c.yaml", "a: [", {}, go=True)


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("apps/*", "apps/a", True),
        ("apps/*", "apps/a/b", False),
        ("**/config.json", "a/b/config.json", True),
        ("**/config.json", "config.json", True),
        ("a/?", "a/b", True),
        ("a/[bc]", "a/c", True),
        ("a/[^bc]", "a/c", False),
    ],
)
def test_globs_match_like_argo_cd_s(pattern: str, path: str, matches: bool) -> None:
    assert params.glob_match(pattern, path) is matches


def test_a_generator_selector_keeps_the_sets_whose_flat_params_match() -> None:
    sets = [{"env": "prod", "x": {"y": "1"}}, {"env": "dev", "x": {"y": "2"}}]
    assert params.select(sets, {"matchLabels": {"x.y": "2"}}) == [sets[1]]
    assert params.select(sets, None) == sets


def test_a_pattern_that_is_no_glob_is_an_error_naming_it() -> None:
    with pytest.raises(InvalidInputError, match="is not a glob"):
        params.glob_match("a/[z-a]", "a/b")


def test_a_flat_list_gives_one_set_holding_every_cluster() -> None:
    secrets = [cluster_secret("a", "https://a"), cluster_secret("b", "https://b")]
    (found,) = params.clusters_params({"flatList": True}, secrets, go=True)
    assert [c["name"] for c in found["clusters"]] == ["in-cluster", "a", "b"]
    (flat,) = params.clusters_params({"flatList": True}, secrets, go=False)
    assert flat["clusters[2].server"] == "https://b"
