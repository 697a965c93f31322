import copy
from typing import Any

import hypothesis
import pytest
from hypothesis import strategies as st

from tether.core.sync import options
from tether.model import application
from tether.model.app_spec import ApplicationDestination
from tether.model.errors import InvalidInputError
from tether.model.source import ApplicationSource

from .examples import APPLICATION_FILES, load, minimal_application


@pytest.mark.parametrize("name", APPLICATION_FILES)
def test_a_real_argo_cd_application_round_trips_unchanged(name: str) -> None:
    manifest = load(name)
    app = application.parse_application(copy.deepcopy(manifest))
    assert app.model_dump(by_alias=True, exclude_unset=True) == manifest
    assert app.to_manifest() == manifest


def test_fields_are_read_by_their_python_names() -> None:
    app = application.parse_application(load("kubeflow-pipelines.yaml"))
    source = app.spec.source
    assert source is not None and source.kustomize is not None
    assert source.repo_url == "https://github.com/kubeflow/manifests.git"
    assert source.target_revision == "v1.10.1"
    assert [r.count for r in source.kustomize.replicas or []] == [2, "1"]
    assert app.spec.sync_policy is not None and app.spec.sync_policy.is_automated
    assert app.spec.ignore_differences is not None
    assert app.spec.ignore_differences[0].jq_path_expressions == [
        ".webhooks[]?.clientConfig.caBundle"
    ]


def test_a_helm_values_object_keeps_nested_nulls_and_lists() -> None:
    app = application.parse_application(load("multi-source-helm.yaml"))
    helm = app.effective_sources()[0].helm
    assert helm is not None and helm.values_object is not None
    spec = helm.values_object["prometheus"]["prometheusSpec"]
    assert spec["externalLabels"] is None
    assert helm.values_object["grafana"]["ingress"]["hosts"] == []


def test_a_multi_source_application_uses_sources_and_ignores_source() -> None:
    manifest = load("multi-source-helm.yaml")
    manifest["spec"]["source"] = {"repoURL": "https://ignored.example.com/x.git"}
    app = application.parse_application(manifest)
    assert app.has_multiple_sources
    assert [s.ref for s in app.effective_sources()] == [None, "values", None]
    assert app.effective_sources()[1].is_ref_only
    assert app.effective_sources()[0].is_helm_chart


def test_a_single_source_application_has_one_effective_source() -> None:
    app = application.parse_application(minimal_application())
    assert not app.has_multiple_sources
    assert [s.path for s in app.effective_sources()] == ["deploy"]


def test_an_application_without_sources_has_no_effective_sources() -> None:
    manifest = minimal_application()
    del manifest["spec"]["source"]
    assert application.parse_application(manifest).effective_sources() == []


def test_an_empty_sources_list_falls_back_to_source() -> None:
    app = application.parse_application(minimal_application(sources=[]))
    assert not app.has_multiple_sources
    assert len(app.effective_sources()) == 1


@pytest.mark.parametrize(
    ("namespace", "expected"),
    [("tether", "foo"), ("", "foo"), ("team-a", "team-a_foo")],
)
def test_the_instance_name_is_qualified_outside_the_control_plane_namespace(
    namespace: str, expected: str
) -> None:
    manifest = minimal_application()
    manifest["metadata"]["namespace"] = namespace
    assert application.parse_application(manifest).app_instance_name("tether") == expected


def test_an_application_built_in_python_dumps_argo_cd_names() -> None:
    spec = application.ApplicationSpec(
        project="default",
        source=ApplicationSource(repo_url="https://git.example.com/a.git", target_revision="main"),
        destination=ApplicationDestination(server="https://kubernetes.default.svc"),
        sync_policy=application.SyncPolicy(
            automated=application.SyncPolicyAutomated(self_heal=True)
        ),
    )
    app = application.Application.new("a", "tether", spec)
    assert app.to_manifest() == {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "a", "namespace": "tether"},
        "spec": {
            "project": "default",
            "source": {"repoURL": "https://git.example.com/a.git", "targetRevision": "main"},
            "destination": {"server": "https://kubernetes.default.svc"},
            "syncPolicy": {"automated": {"selfHeal": True}},
        },
    }


def test_automated_sync_is_off_only_when_explicitly_disabled() -> None:
    off = application.SyncPolicy.model_validate({"automated": {"enabled": False}})
    on = application.SyncPolicy.model_validate({"automated": {}})
    assert not off.is_automated
    assert on.is_automated
    assert not application.SyncPolicy().is_automated


def test_the_revision_history_limit_defaults_to_ten() -> None:
    app = application.parse_application(minimal_application())
    assert app.spec.history_limit == application.DEFAULT_REVISION_HISTORY_LIMIT == 10
    limited = application.parse_application(minimal_application(revisionHistoryLimit=0))
    assert limited.spec.history_limit == 0


def test_a_source_may_set_more_than_one_explicit_type_and_says_so() -> None:
    source = ApplicationSource.model_validate(
        {"repoURL": "x", "helm": {}, "kustomize": {}, "plugin": {"name": "p"}}
    )
    assert source.explicit_types() == ["Helm", "Kustomize", "Plugin"]


# ---- validation errors --------------------------------------------------------------------------


def _error(obj: Any) -> str:
    with pytest.raises(InvalidInputError) as caught:
        application.parse_application(obj)
    return str(caught.value)


def test_a_missing_destination_is_named_with_the_application() -> None:
    manifest = minimal_application()
    del manifest["spec"]["destination"]
    assert _error(manifest) == "Application tether/foo: spec.destination: Field required"


def test_a_wrong_type_deep_in_a_list_names_the_index() -> None:
    manifest = minimal_application(
        ignoreDifferences=[{"kind": "Deployment"}, {"kind": "Service", "jsonPointers": "/spec"}]
    )
    assert _error(manifest) == (
        "Application tether/foo: spec.ignoreDifferences[1].jsonPointers: "
        "Input should be a valid list"
    )


def test_every_problem_is_reported_at_once() -> None:
    manifest = minimal_application()
    manifest["spec"]["source"]["repoURL"] = 42
    del manifest["spec"]["project"]
    message = _error(manifest)
    assert "spec.source.repoURL: Input should be a valid string" in message
    assert "spec.project: Field required" in message


def test_strings_are_not_coerced_to_booleans() -> None:
    manifest = minimal_application(syncPolicy={"automated": {"prune": "true"}})
    assert "spec.syncPolicy.automated.prune: Input should be a valid boolean" in _error(manifest)


def test_an_int_or_string_error_names_the_field_not_the_union_member() -> None:
    source = {"repoURL": "x", "kustomize": {"replicas": [{"name": "a", "count": 1.5}]}}
    message = _error(minimal_application(source=source))
    assert (
        "spec.source.kustomize.replicas[0].count: Input should be a valid integer or a valid string"
    ) in message
    assert ".count.int" not in message and ".count.str" not in message


def test_offending_values_are_never_echoed_because_they_may_be_secrets() -> None:
    source = {"repoURL": "x", "helm": {"values": {"password": "hunter2"}}}
    message = _error(minimal_application(source=source))
    assert "spec.source.helm.values" in message
    assert "hunter2" not in message


def test_an_unnamed_application_is_still_reported() -> None:
    assert _error({"spec": {}}).startswith("Application <unnamed>: ")


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"apiVersion": "argoproj.io/v1beta1"}, "apiVersion: expected argoproj.io/v1alpha1"),
        ({"kind": "AppProject"}, "kind: expected Application"),
    ],
)
def test_a_foreign_api_version_or_kind_is_refused(change: dict[str, str], expected: str) -> None:
    assert expected in _error({**minimal_application(), **change})


def test_a_non_mapping_is_refused() -> None:
    assert _error(["not", "an", "app"]) == "Application: expected a mapping, got list"


# ---- unknown fields, anywhere -----------------------------------------------------------------

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
_PLACES = [
    ("spec",),
    ("spec", "source"),
    ("spec", "destination"),
    ("spec", "syncPolicy"),
    ("spec", "syncPolicy", "automated"),
    ("metadata",),
    ("status",),
    ("status", "sync"),
]


@hypothesis.settings(max_examples=40, deadline=None)
@hypothesis.given(
    place=st.sampled_from(_PLACES),
    key=st.from_regex(r"x[A-Za-z]{1,8}", fullmatch=True),
    value=_JSON,
)
def test_an_unknown_field_survives_a_round_trip_wherever_it_is(
    place: tuple[str, ...], key: str, value: Any
) -> None:
    manifest = minimal_application(syncPolicy={"automated": {}})
    manifest["status"] = {"sync": {"status": "Synced"}}
    target = manifest
    for part in place:
        target = target[part]
    target[key] = value
    assert application.parse_application(copy.deepcopy(manifest)).to_manifest() == manifest


# ---- sync options -------------------------------------------------------------------------------


def test_every_sync_option_in_the_examples_is_known() -> None:
    for name in APPLICATION_FILES:
        app = application.parse_application(load(name))
        for option in app.spec.sync_options():
            assert option.split("=", 1)[0] in options.OPTIONS, option
