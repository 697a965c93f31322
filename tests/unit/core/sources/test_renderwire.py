"""The repo-server's wire format round-trips, and refuses what is malformed by name, not value."""

from __future__ import annotations

import dataclasses
from typing import Any

import orjson
import pytest
from hypothesis import given, strategies as st

from tests.unit.model.examples import minimal_application
from tether.core.sources import renderwire, repocreds
from tether.core.sources.rendered import Rendered, RenderFailed
from tether.core.sources.rendering import BuildOptions
from tether.model.application import parse_application
from tether.model.errors import InvalidInputError
from tether.model.revisions import RevisionMetadata

PASSWORD = "wire-canary-Pa55word"

REPO = repocreds.RepoCredentials(
    url="https://git.example/org/app.git",
    project="team-a",
    username="deployer",
    password=PASSWORD,
    insecure=True,
    source="argocd/app-repo",
)
TEMPLATE = repocreds.RepoCredentials(
    url="git@git.example:org",
    bearer_token="bearer-canary-token",
    ssh_private_key="-----BEGIN KEY-----\nkey\n-----END KEY-----",
    insecure_ignore_host_key=True,
)

HELM_OCI = repocreds.RepoCredentials(
    url="registry.example:5000/charts",
    type="helm",
    username="puller",
    password=PASSWORD,
    enable_oci=True,
    insecure_oci_force_http=True,
    source="argocd/oci-charts",
)


def call(**overrides: Any) -> renderwire.RenderCall:
    app = minimal_application()
    app["metadata"]["annotations"] = {"argocd.argoproj.io/manifest-generate-paths": "."}
    app["status"] = {"sync": {"status": "Synced", "revision": "a" * 40}}
    full = renderwire.RenderCall(
        application=parse_application(app),
        refresh=True,
        hard_refresh=True,
        revisions=("b" * 40,),
        kube_version="1.36.3",
        api_versions=("apps/v1", "v1"),
        credentials=repocreds.CredentialStore((REPO, HELM_OCI), (TEMPLATE,)),
        options=BuildOptions(
            kustomize=("--enable-helm", "--load-restrictor", "LoadRestrictionsNone"),
            helm_value_url_schemes=("https",),
        ),
    )
    return dataclasses.replace(full, **overrides)


def test_a_render_call_comes_back_as_it_was_sent_without_the_apps_status():
    sent = call()
    got = renderwire.decode_call(renderwire.encode_call(sent))
    assert got.application.status is None
    assert got.application.spec == sent.application.spec
    assert got.application.metadata.annotations == sent.application.metadata.annotations
    assert (got.refresh, got.hard_refresh, got.revisions) == (True, True, ("b" * 40,))
    assert (got.kube_version, got.api_versions) == ("1.36.3", ("apps/v1", "v1"))
    assert got.credentials == sent.credentials
    assert got.options == sent.options


def test_a_call_from_a_controller_that_sends_no_build_options_renders_with_none():
    body = orjson.dumps({"application": minimal_application()})
    assert renderwire.decode_call(body).options == BuildOptions()


@pytest.mark.parametrize(
    ("options", "named"),
    [
        ({"kustomize": ["--enable-exec"]}, "--enable-exec is refused"),
        ({"kustomize": ["--helm-command", "/bin/sh"]}, "--helm-command is refused"),
        ({"kustomize": ["--load-restrictor", "Elsewhere"]}, "--load-restrictor takes one of"),
        ({"kustomize": ["--load-restrictor=LoadRestrictionsNone"]}, "not in its checked form"),
        ({"kustomize": ["/etc"]}, "is not a flag"),
        ({"kustomize": "--enable-helm"}, "buildOptions.kustomize: expected a list of strings"),
        ({"helmValueFileSchemes": ["file"]}, "a scheme tether refuses"),
        ({"plugins": []}, "buildOptions: unknown fields plugins"),
    ],
)
def test_build_options_a_controller_could_not_have_set_are_refused_on_arrival(options, named):
    body = orjson.dumps({"application": minimal_application(), "buildOptions": options})
    with pytest.raises(InvalidInputError, match=named):
        renderwire.decode_call(body)


def test_no_revisions_stays_distinct_from_an_empty_list_of_revisions():
    assert renderwire.decode_call(renderwire.encode_call(call(revisions=None))).revisions is None
    assert renderwire.decode_call(renderwire.encode_call(call(revisions=()))).revisions == ()


def test_a_call_without_credentials_decodes_to_an_empty_store():
    body = orjson.dumps({"application": minimal_application()})
    got = renderwire.decode_call(body)
    assert got.credentials == repocreds.CredentialStore()
    assert (got.refresh, got.hard_refresh, got.revisions) == (False, False, None)


@pytest.mark.parametrize(
    "result",
    [
        Rendered(({"apiVersion": "v1", "kind": "ConfigMap", "data": {"a": "1"}},), ("c" * 40,)),
        Rendered((), ("c" * 40, "1.2.3")),
        RenderFailed("application tether/foo: source: helm failed", ("c" * 40,)),
        RenderFailed("spec.source is missing", invalid_input=True),
    ],
)
def test_every_render_outcome_comes_back_as_it_was_sent(result):
    assert renderwire.decode_result(renderwire.encode_result(result)) == result


@given(
    st.lists(
        st.dictionaries(
            st.text(max_size=8),
            st.recursive(
                st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.text(max_size=8),
                lambda inner: (
                    st.lists(inner, max_size=3)
                    | st.dictionaries(st.text(max_size=5), inner, max_size=3)
                ),
                max_leaves=10,
            ),
            max_size=4,
        ),
        max_size=4,
    ),
    st.lists(st.text(max_size=40), max_size=3),
)
def test_any_json_objects_round_trip_as_rendered_manifests(manifests, revisions):
    sent = Rendered(tuple(manifests), tuple(revisions))
    assert renderwire.decode_result(renderwire.encode_result(sent)) == sent


def test_a_failure_message_is_scrubbed_of_url_credentials_on_arrival():
    body = orjson.dumps({"failed": {"message": "fetching https://u:hunter22@h/x failed"}})
    got = renderwire.decode_result(body)
    assert isinstance(got, RenderFailed)
    assert "hunter22" not in got.message


@pytest.mark.parametrize(
    ("body", "named"),
    [
        (b"{not json", "not valid JSON"),
        (b"[]", "render request: expected an object"),
        (orjson.dumps({"application": "x"}), "Application"),
        (orjson.dumps({"application": minimal_application(), "refresh": "yes"}), "refresh"),
        (orjson.dumps({"application": minimal_application(), "revisions": [1]}), "revisions"),
        (orjson.dumps({"application": minimal_application(), "kubeVersion": 1}), "kubeVersion"),
        (
            orjson.dumps({"application": minimal_application(), "credentials": []}),
            "credentials: expected an object",
        ),
        (
            orjson.dumps(
                {
                    "application": minimal_application(),
                    "credentials": {"repositories": [{"url": "https://h/x", "password": 7}]},
                }
            ),
            "credentials.repositories[0].password",
        ),
        (
            orjson.dumps(
                {
                    "application": minimal_application(),
                    "credentials": {"templates": [{"password": PASSWORD}]},
                }
            ),
            "credentials.templates[0].url: required",
        ),
        (
            orjson.dumps(
                {
                    "application": minimal_application(),
                    "credentials": {"repositories": [{"url": "https://h", "token": PASSWORD}]},
                }
            ),
            "unknown fields token",
        ),
        (
            orjson.dumps(
                {
                    "application": minimal_application(),
                    "credentials": {"repositories": [{"url": "https://h", "type": "svn"}]},
                }
            ),
            "credentials.repositories[0].type",
        ),
    ],
)
def test_a_malformed_call_is_refused_naming_the_field_never_the_value(body, named):
    with pytest.raises(InvalidInputError) as caught:
        renderwire.decode_call(body)
    assert named in str(caught.value)
    assert PASSWORD not in str(caught.value)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"{}",
        orjson.dumps({"rendered": {"manifests": [], "revisions": []}, "failed": {}}),
        orjson.dumps({"rendered": {"manifests": ["x"], "revisions": []}}),
        orjson.dumps({"rendered": {"manifests": []}}),
        orjson.dumps({"failed": {"message": 3}}),
        orjson.dumps({"failed": {"message": "m", "invalidInput": "true"}}),
    ],
)
def test_a_malformed_answer_is_refused(body):
    with pytest.raises(InvalidInputError):
        renderwire.decode_result(body)


def test_a_metadata_call_and_both_its_answers_come_back_as_they_were_sent():
    app = parse_application(minimal_application())
    sent = renderwire.MetadataCall(
        app, "b" * 40, 1, repocreds.CredentialStore((REPO,), (TEMPLATE,))
    )
    back = renderwire.decode_metadata_call(renderwire.encode_metadata_call(sent))
    assert back == sent
    found = RevisionMetadata("a <a@b>", "2026-01-01T00:00:00Z", "fix\n\nwhy", ("v1",))
    assert renderwire.decode_metadata(renderwire.encode_metadata(found)) == found
    assert renderwire.decode_metadata(renderwire.encode_metadata("no such commit")) == (
        "no such commit"
    )


@pytest.mark.parametrize(
    ("body", "named"),
    [
        (b'{"application": {}, "sourceIndex": "1"}', "sourceIndex"),
        (b'{"metadata": {}, "failed": {}}', "metadata answer"),
    ],
)
def test_a_malformed_metadata_call_or_answer_is_refused_by_name(body, named):
    with pytest.raises(InvalidInputError, match=named):
        if b"sourceIndex" in body:
            renderwire.decode_metadata_call(body)
        else:
            renderwire.decode_metadata(body)
