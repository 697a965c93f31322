import copy
import pathlib
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from tests.unit.model.examples import APPLICATION_FILES, PROJECT_FILES, load
from tether.core.app import crds
from tether.model.project import default_project

DEPLOY = pathlib.Path(__file__).resolve().parents[4] / "deploy" / "crds"


def _schema(crd: dict[str, Any]) -> dict[str, Any]:
    schema = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    assert isinstance(schema, dict)
    return schema


def _nodes(node: dict[str, Any], path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    yield path, node
    for name, sub in (node.get("properties") or {}).items():
        yield from _nodes(sub, f"{path}.{name}")
    if isinstance(node.get("items"), dict):
        yield from _nodes(node["items"], f"{path}[]")
    if isinstance(node.get("additionalProperties"), dict):
        yield from _nodes(node["additionalProperties"], f"{path}{{}}")


ALL = list(crds.manifests().items())


@pytest.mark.parametrize(("file_name", "manifest"), ALL)
def test_the_committed_crds_are_up_to_date(file_name: str, manifest: dict[str, Any]) -> None:
    committed = (DEPLOY / file_name).read_text(encoding="utf-8")
    assert committed.startswith(crds.GENERATED_HEADER)
    # Compared as data, with the fast loader: the text is whatever hack/gen-crds.py wrote.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    loaded = yaml.load(committed, Loader=loader)
    assert loaded == manifest, "stale; run: uv run --frozen python hack/gen-crds.py"


@pytest.mark.parametrize(("file_name", "manifest"), ALL)
def test_every_schema_node_is_structural(file_name: str, manifest: dict[str, Any]) -> None:
    for path, node in _nodes(_schema(manifest)):
        where = f"{file_name}:{path or '<root>'}"
        assert not {"$ref", "$defs", "title", "default", "allOf", "oneOf", "not"} & set(node), where
        assert (
            "type" in node
            or node.get("x-kubernetes-int-or-string") is True
            or node.get("x-kubernetes-preserve-unknown-fields") is True
        ), where
        if "anyOf" in node:
            assert node == {
                **node,
                "anyOf": [{"type": "integer"}, {"type": "string"}],
                "x-kubernetes-int-or-string": True,
            }, where
            assert "type" not in node, where
        assert not ("properties" in node and "additionalProperties" in node), where
        assert not isinstance(node.get("additionalProperties"), bool), where
        if node.get("type") == "object" and path != ".metadata":
            assert {
                "properties",
                "additionalProperties",
                "x-kubernetes-preserve-unknown-fields",
            } & set(node), where
        if node.get("type") == "array":
            assert isinstance(node.get("items"), dict), where


@pytest.mark.parametrize(("file_name", "manifest"), ALL)
def test_metadata_is_left_to_the_api_server(file_name: str, manifest: dict[str, Any]) -> None:
    schema = _schema(manifest)
    assert schema["properties"]["metadata"] == {"type": "object"}
    assert schema["required"] == ["metadata", "spec"]
    assert "x-kubernetes-preserve-unknown-fields" not in schema


@pytest.mark.parametrize(
    "path", [".spec", ".status", ".spec.source.helm.valuesObject", ".status.sync"]
)
def test_unknown_fields_are_preserved_where_argo_cd_has_free_form_data(path: str) -> None:
    nodes = dict(_nodes(_schema(crds.application_crd())))
    assert nodes[path]["x-kubernetes-preserve-unknown-fields"] is True


def test_the_replica_count_is_int_or_string() -> None:
    nodes = dict(_nodes(_schema(crds.application_crd())))
    count = nodes[".spec.source.kustomize.replicas[].count"]
    assert count["x-kubernetes-int-or-string"] is True


def test_the_application_crd_matches_argo_cd_names_scope_and_columns() -> None:
    crd = crds.application_crd()
    spec = crd["spec"]
    assert crd["metadata"]["name"] == "applications.argoproj.io"
    assert spec["group"] == "argoproj.io"
    assert spec["scope"] == "Namespaced"
    assert spec["names"]["shortNames"] == ["app", "apps"]
    assert spec["names"]["kind"] == "Application"
    (version,) = spec["versions"]
    assert (version["name"], version["served"], version["storage"]) == ("v1alpha1", True, True)
    # No status subresource, as in Argo CD: status is written with ordinary updates.
    assert version["subresources"] == {}
    assert [c["name"] for c in version["additionalPrinterColumns"]] == [
        "Sync Status",
        "Health Status",
        "Revision",
        "Project",
    ]


def test_the_appproject_crd_matches_argo_cd_names_and_scope() -> None:
    crd = crds.appproject_crd()
    spec = crd["spec"]
    assert crd["metadata"]["name"] == "appprojects.argoproj.io"
    assert spec["names"]["shortNames"] == ["appproj", "appprojs"]
    assert spec["scope"] == "Namespaced"
    (version,) = spec["versions"]
    assert "subresources" not in version
    assert "additionalPrinterColumns" not in version


# ---- the schema keeps real objects intact ------------------------------------------------------


def _admit(value: Any, schema: dict[str, Any], path: str) -> Any:
    """What the API server would store: type-checked, unknown fields pruned unless preserved."""
    if value is None:
        assert schema.get("nullable") or schema.get("x-kubernetes-preserve-unknown-fields"), path
        return None
    if schema.get("x-kubernetes-int-or-string"):
        assert isinstance(value, int | str) and not isinstance(value, bool), path
        return value
    kind = schema.get("type")
    if kind is None:
        return value  # preserve-unknown-fields without a type: anything goes
    python_type = {"string": str, "integer": int, "boolean": bool, "object": dict, "array": list}
    assert isinstance(value, python_type[kind]), f"{path}: expected {kind}"
    assert kind != "integer" or not isinstance(value, bool), path
    if isinstance(value, list):
        return [_admit(v, schema["items"], f"{path}[{i}]") for i, v in enumerate(value)]
    if not isinstance(value, dict):
        return value
    for name in schema.get("required", []):
        assert name in value, f"{path}.{name} is required"
    properties = schema.get("properties")
    extra = schema.get("additionalProperties")
    kept: dict[str, Any] = {}
    for key, sub in value.items():
        if properties is not None and key in properties:
            kept[key] = _admit(sub, properties[key], f"{path}.{key}")
        elif isinstance(extra, dict):
            kept[key] = _admit(sub, extra, f"{path}.{key}")
        elif schema.get("x-kubernetes-preserve-unknown-fields") or properties is None:
            kept[key] = sub
    return kept


@pytest.mark.parametrize("name", APPLICATION_FILES)
def test_the_application_schema_admits_real_applications_unchanged(name: str) -> None:
    manifest = load(name)
    assert _admit(copy.deepcopy(manifest), _schema(crds.application_crd()), "") == manifest


@pytest.mark.parametrize("name", PROJECT_FILES)
def test_the_appproject_schema_admits_real_projects_unchanged(name: str) -> None:
    manifest = load(name)
    assert _admit(copy.deepcopy(manifest), _schema(crds.appproject_crd()), "") == manifest
    default = default_project("tether")
    assert _admit(copy.deepcopy(default), _schema(crds.appproject_crd()), "") == default


# ---- compatibility of an installed CRD ---------------------------------------------------------


def test_the_generated_crds_are_compatible() -> None:
    for _, manifest in ALL:
        assert crds.check_installed(manifest) == []


def _installed(**changes: Any) -> dict[str, Any]:
    crd = crds.application_crd()
    crd["status"] = {"conditions": [{"type": "Established", "status": "True"}]}
    for dotted, value in changes.items():
        *parents, last = dotted.split("__")
        target: Any = crd
        for part in parents:
            target = target[part] if not part.isdigit() else target[int(part)]
        target[last] = value
    return crd


@pytest.mark.parametrize(
    ("crd", "problem"),
    [
        (_installed(spec__scope="Cluster"), "scope is 'Cluster', expected 'Namespaced'"),
        (_installed(spec__group="argoproj.example"), "group is 'argoproj.example'"),
        (_installed(spec__names__kind="App"), "names.kind is 'App', expected 'Application'"),
        (_installed(spec__versions__0__name="v1beta1"), "has no version v1alpha1"),
        (_installed(spec__versions__0__served=False), "version v1alpha1 is not served"),
        (
            _installed(status={"conditions": [{"type": "Established", "status": "False"}]}),
            "not Established yet",
        ),
        (_installed(kind="Application"), "not an apiextensions.k8s.io/v1 CustomResourceDefinition"),
    ],
)
def test_an_unusable_installed_crd_is_explained(crd: dict[str, Any], problem: str) -> None:
    problems = crds.check_installed(crd)
    assert len(problems) == 1
    assert problems[0].startswith("CRD applications.argoproj.io: ")
    assert problem in problems[0]


def test_an_old_schema_that_would_prune_fields_is_refused_with_the_fields() -> None:
    crd = _installed()
    spec = _schema(crd)["properties"]["spec"]
    source = spec["properties"]["source"]
    helm = source["properties"]["helm"]
    for node in (spec, source, helm):
        del node["x-kubernetes-preserve-unknown-fields"]
    del spec["properties"]["sources"]
    del helm["properties"]["valuesObject"]
    (problem,) = crds.check_installed(crd)
    assert problem == (
        "CRD applications.argoproj.io: its schema would drop fields tether writes: "
        "spec.source.helm.valuesObject, spec.sources"
    )


def test_a_schema_that_preserves_unknown_fields_keeps_everything() -> None:
    crd = _installed()
    crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"] = {
        "type": "object",
        "properties": {
            "spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
            "status": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
            "operation": {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
        },
    }
    assert crds.check_installed(crd) == []


def test_a_foreign_crd_is_named() -> None:
    assert crds.check_installed({"metadata": {"name": "widgets.example.com"}}) == [
        "CRD widgets.example.com: not one of applications.argoproj.io, appprojects.argoproj.io,"
        " applicationsets.argoproj.io"
    ]
