import copy

import pytest

from tether.model import project
from tether.model.errors import InvalidInputError

from .examples import PROJECT_FILES, load


@pytest.mark.parametrize("name", PROJECT_FILES)
def test_a_real_argo_cd_project_round_trips_unchanged(name: str) -> None:
    manifest = load(name)
    parsed = project.parse_project(copy.deepcopy(manifest))
    assert parsed.model_dump(by_alias=True, exclude_unset=True) == manifest


def test_project_fields_are_read_by_their_python_names() -> None:
    parsed = project.parse_project(load("project-tenant.yaml"))
    spec = parsed.spec
    assert parsed.name == "team-a"
    assert spec.signature_keys is not None and spec.signature_keys[0].key_id == "4AEE18F83AFDEB23"
    assert spec.orphaned_resources is not None and spec.orphaned_resources.warn is True
    assert spec.sync_windows is not None and spec.sync_windows[0].manual_sync is True
    assert spec.roles is not None and spec.roles[0].jwt_tokens is not None


def test_the_default_project_allows_every_source_destination_and_kind() -> None:
    manifest = project.default_project("tether")
    parsed = project.parse_project(manifest)
    assert parsed.name == "default"
    assert parsed.metadata.namespace == "tether"
    assert parsed.spec.source_repos == ["*"]
    assert parsed.to_manifest() == manifest
    whitelist = parsed.spec.cluster_resource_whitelist or []
    assert [(w.group, w.kind) for w in whitelist] == [("*", "*")]


def test_an_unset_list_and_an_empty_list_stay_different() -> None:
    unset = project.parse_project({"metadata": {"name": "p"}, "spec": {}})
    empty = project.parse_project(
        {"metadata": {"name": "p"}, "spec": {"namespaceResourceWhitelist": []}}
    )
    assert unset.spec.namespace_resource_whitelist is None
    assert empty.spec.namespace_resource_whitelist == []


def test_a_project_validation_error_names_the_project_and_field() -> None:
    bad = {"metadata": {"name": "team-a"}, "spec": {"clusterResourceWhitelist": [{"group": ""}]}}
    with pytest.raises(InvalidInputError) as caught:
        project.parse_project(bad)
    assert str(caught.value) == (
        "AppProject team-a: spec.clusterResourceWhitelist[0].kind: Field required"
    )


def test_a_project_of_another_kind_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="kind: expected AppProject"):
        project.parse_project({"kind": "Application", "metadata": {"name": "x"}, "spec": {}})
