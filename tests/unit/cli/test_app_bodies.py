"""The bodies the remote ``tether app`` commands send, built from their flags; no server."""

from __future__ import annotations

from typing import Any

import pytest

from tether.cli.commands import app_bodies as bodies, app_common, app_ops
from tether.model.errors import InvalidInputError

SPEC: dict[str, Any] = {
    "project": "team",
    "source": {
        "repoURL": "https://git.example/apps.git",
        "path": "web",
        "targetRevision": "main",
        "helm": {
            "parameters": [
                {"name": "image.tag", "value": "1.0"},
                {"name": "replicas", "value": "2"},
            ],
            "valueFiles": ["values.yaml", "prod.yaml"],
        },
    },
    "destination": {"server": "https://kubernetes.default.svc", "namespace": "web"},
    "syncPolicy": {"automated": {"prune": True}, "syncOptions": ["CreateNamespace=true"]},
}


def test_a_sync_request_names_the_strategy_and_wraps_the_sync_options():
    operation = app_ops.sync_operation(
        "v2", True, False, ("apps:Deployment:web",), ("Validate=false",), "apply", True
    )

    assert bodies.sync_request(operation) == {
        "revision": "v2",
        "prune": True,
        "resources": [{"group": "apps", "kind": "Deployment", "name": "web"}],
        "syncOptions": {"items": ["Validate=false"]},
        "strategy": {"apply": {"force": True}},
    }


def test_a_sync_request_without_options_is_empty():
    assert (
        bodies.sync_request(app_ops.sync_operation(None, False, False, (), (), None, False)) == {}
    )


def test_create_from_flags_builds_an_application_in_the_default_project():
    flags = bodies.SpecFlags(
        repo="https://git.example/apps.git",
        path="guestbook",
        revision="v1",
        dest_server="https://kubernetes.default.svc",
        dest_namespace="guestbook",
        sync_policy="auto",
        auto_prune=True,
        sync_options=("CreateNamespace=true",),
    )

    body = bodies.create_body("guestbook", "", flags, {"team": "web"})

    assert body == {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "guestbook", "labels": {"team": "web"}},
        "spec": {
            "project": "default",
            "source": {
                "repoURL": "https://git.example/apps.git",
                "path": "guestbook",
                "targetRevision": "v1",
            },
            "destination": {"server": "https://kubernetes.default.svc", "namespace": "guestbook"},
            "syncPolicy": {"automated": {"prune": True}, "syncOptions": ["CreateNamespace=true"]},
        },
    }


def test_create_in_another_namespace_names_it_in_the_metadata():
    body = bodies.create_body("web", "team-a", bodies.SpecFlags(project="team"), {})

    assert body["metadata"] == {"name": "web", "namespace": "team-a"}
    assert body["spec"] == {"project": "team"}


def test_set_p_adds_a_helm_parameter_and_replaces_one_of_the_same_name():
    changed = bodies.SpecFlags(parameters=("replicas=3", "ingress.host=a=b")).apply(SPEC)

    assert changed["source"]["helm"]["parameters"] == [
        {"name": "image.tag", "value": "1.0"},
        {"name": "replicas", "value": "3"},
        {"name": "ingress.host", "value": "a=b"},
    ]
    assert SPEC["source"]["helm"]["parameters"][1]["value"] == "2"  # the input is not changed


def test_set_helm_set_string_forces_the_parameter_to_a_string():
    changed = bodies.SpecFlags(string_parameters=("image.tag=007",)).apply(SPEC)

    assert {"name": "image.tag", "value": "007", "forceString": True} in changed["source"]["helm"][
        "parameters"
    ]


def test_set_keeps_what_its_flags_do_not_name():
    changed = bodies.SpecFlags(revision="v2", path="web2").apply(SPEC)

    assert changed["source"]["targetRevision"] == "v2"
    assert changed["source"]["path"] == "web2"
    assert changed["source"]["repoURL"] == SPEC["source"]["repoURL"]
    assert changed["syncPolicy"] == SPEC["syncPolicy"]
    assert changed["project"] == "team"


def test_set_a_destination_name_drops_the_server():
    changed = bodies.SpecFlags(dest_name="edge").apply(SPEC)

    assert changed["destination"] == {"name": "edge", "namespace": "web"}


def test_set_sync_policy_manual_turns_automated_sync_off_and_keeps_the_options():
    changed = bodies.SpecFlags(sync_policy="none").apply(SPEC)

    assert changed["syncPolicy"] == {"syncOptions": ["CreateNamespace=true"]}


def test_a_sync_option_of_the_same_key_replaces_the_old_one():
    changed = bodies.SpecFlags(sync_options=("CreateNamespace=false",)).apply(SPEC)

    assert changed["syncPolicy"]["syncOptions"] == ["CreateNamespace=false"]


def test_self_heal_without_automated_sync_is_refused():
    with pytest.raises(InvalidInputError, match="need --sync-policy automated"):
        bodies.SpecFlags(self_heal=True).apply({"project": "default"})


@pytest.mark.parametrize("policy", ["sometimes", "Auto-Prune"])
def test_an_unknown_sync_policy_is_refused(policy):
    with pytest.raises(InvalidInputError, match="--sync-policy"):
        bodies.SpecFlags(sync_policy=policy).apply(SPEC)


@pytest.mark.parametrize("text", ["replicas", "=3"])
def test_a_parameter_needs_a_name_and_an_equals_sign(text):
    with pytest.raises(InvalidInputError, match="NAME=VALUE"):
        bodies.SpecFlags(parameters=(text,)).apply(SPEC)


def test_unset_p_removes_parameters_by_name_and_an_emptied_helm_goes():
    one = bodies.UnsetFlags(parameters=("replicas",)).apply(SPEC)
    assert one["source"]["helm"]["parameters"] == [{"name": "image.tag", "value": "1.0"}]

    gone = bodies.UnsetFlags(
        parameters=("replicas", "image.tag"), values_files=("values.yaml", "prod.yaml")
    ).apply(SPEC)
    assert "helm" not in gone["source"]


def test_unset_revision_path_and_sync_policy():
    changed = bodies.UnsetFlags(revision=True, path=True, sync_policy=True).apply(SPEC)

    assert changed["source"] == {
        "repoURL": SPEC["source"]["repoURL"],
        "helm": SPEC["source"]["helm"],
    }
    assert changed["syncPolicy"] == {"syncOptions": ["CreateNamespace=true"]}


def test_unset_a_sync_option_by_its_key_drops_an_emptied_policy():
    manual = {**SPEC, "syncPolicy": {"syncOptions": ["CreateNamespace=true"]}}

    changed = bodies.UnsetFlags(sync_options=("CreateNamespace",)).apply(manual)

    assert "syncPolicy" not in changed


def test_the_source_position_chooses_a_source_of_a_multi_source_app():
    spec = {"sources": [{"repoURL": "a", "path": "x"}, {"repoURL": "b", "chart": "c"}]}

    changed = bodies.SpecFlags(revision="v3", source_position=2).apply(spec)

    assert changed["sources"] == [
        {"repoURL": "a", "path": "x"},
        {"repoURL": "b", "chart": "c", "targetRevision": "v3"},
    ]
    with pytest.raises(InvalidInputError, match="the app has 2 sources"):
        bodies.SpecFlags(revision="v3", source_position=3).apply(spec)


def test_labels_are_key_value_pairs():
    assert bodies.labels(("team=web", "tier=")) == {"team": "web", "tier": ""}
    with pytest.raises(InvalidInputError, match="KEY=VALUE"):
        bodies.labels(("team",))


def test_core_mode_selects_apps_by_their_labels_as_the_server_does():
    matches = app_common.label_matcher("team=web,!legacy")

    assert matches({"metadata": {"labels": {"team": "web"}}})
    assert not matches({"metadata": {"labels": {"team": "web", "legacy": "yes"}}})
    assert not matches({"metadata": {}})
    assert app_common.label_matcher("")({"metadata": {}})
