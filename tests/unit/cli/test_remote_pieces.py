"""Pure pieces of the remote CLI: diffs of a server's answers, SSO client choice, durations and
the project and repository bodies; no server."""

from __future__ import annotations

import json

import pytest

from tether.cli import diffs
from tether.cli.commands import account, proj, repo, sso
from tether.model.errors import InvalidInputError, RemoteError

LIVE = {
    "apiVersion": "v1",
    "kind": "ConfigMap",
    "metadata": {"name": "web", "namespace": "apps", "uid": "1", "resourceVersion": "7"},
    "data": {"greeting": "hello"},
}
WANTED = {
    "apiVersion": "v1",
    "kind": "ConfigMap",
    "metadata": {"name": "web", "namespace": "apps"},
    "data": {"greeting": "bye"},
}


def item(**fields):
    base = {"group": "", "kind": "ConfigMap", "namespace": "apps", "name": "web"}
    return {**base, **fields}


def test_the_server_diff_shows_modified_resources_only_and_never_hooks():
    items = [
        item(liveState=json.dumps(LIVE), targetState=json.dumps(WANTED), modified=True),
        item(name="same", liveState=json.dumps(LIVE), targetState=json.dumps(LIVE)),
        item(name="hook", targetState=json.dumps(WANTED), hook=True, modified=True),
    ]

    text, count = diffs.server_report(items)

    assert count == 1
    assert text.startswith("===== ConfigMap apps/web ======\n")
    assert "-  greeting: hello" in text
    assert "+  greeting: bye" in text


def test_the_server_diff_counts_a_resource_missing_from_the_cluster():
    text, count = diffs.server_report([item(targetState=json.dumps(WANTED), liveState="")])

    assert count == 1
    assert "+  greeting: bye" in text


def test_a_local_render_is_compared_field_by_field_with_the_live_objects():
    items = [item(liveState=json.dumps(LIVE))]

    same, none = diffs.local_report([{**WANTED, "data": {"greeting": "hello"}}], items)
    assert (same, none) == ("", 0)

    text, count = diffs.local_report([WANTED], items)
    assert count == 1
    assert "+  greeting: bye" in text
    assert "-    uid" not in text  # the live fields the render does not set are no difference


def test_a_local_render_without_namespaces_matches_the_live_objects_by_name():
    unnamespaced = {**WANTED, "metadata": {"name": "web"}, "data": {"greeting": "hello"}}

    assert diffs.local_report([unnamespaced], [item(liveState=json.dumps(LIVE))]) == ("", 0)


def test_a_managed_resource_the_local_render_lacks_is_a_difference():
    text, count = diffs.local_report([], [item(liveState=json.dumps(LIVE))])

    assert count == 1
    assert "(not in the local directory)" in text


def test_sso_uses_the_cli_client_of_the_configured_provider():
    settings = {
        "oidcConfig": {"issuer": "https://idp.example", "clientID": "web", "cliClientID": "cli"}
    }

    chosen = sso.client_of(settings, "https://tether.example")

    assert chosen.issuer == "https://idp.example"
    assert chosen.client_id == "cli"
    assert chosen.scopes == ("openid", "profile", "email", "groups", "offline_access")


def test_sso_with_the_bundled_dex_signs_in_at_the_servers_dex_path():
    settings = {"url": "https://tether.example", "dexConfig": {"connectors": [{"id": "x"}]}}

    chosen = sso.client_of(settings, "https://ignored")

    assert chosen.issuer == "https://tether.example/api/dex"
    assert chosen.client_id == "argo-cd-cli"
    assert "federated:id" in chosen.scopes


def test_sso_without_a_provider_is_an_error_naming_the_server():
    with pytest.raises(RemoteError, match=r"https://tether\.example has no SSO configured"):
        sso.client_of({}, "https://tether.example")


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("0", 0),
        ("90", 90),
        ("90s", 90),
        ("30m", 1800),
        ("24h", 86400),
        ("1h30m", 5400),
        ("7d", 604800),
    ],
)
def test_token_lifetimes_read_as_durations(text, seconds):
    assert account.seconds_of(text) == seconds


@pytest.mark.parametrize("text", ["", "1y", "h", "-5m"])
def test_a_lifetime_that_is_no_duration_is_refused(text):
    with pytest.raises(InvalidInputError, match="not a duration"):
        account.seconds_of(text)


def test_a_project_from_flags_names_servers_by_url_and_clusters_by_name():
    body = proj.project_body(
        "team",
        "the team's apps",
        ("https://kubernetes.default.svc,team", "edge,*"),
        ("https://git.example/*",),
    )

    assert body["spec"] == {
        "description": "the team's apps",
        "destinations": [
            {"server": "https://kubernetes.default.svc", "namespace": "team"},
            {"name": "edge", "namespace": "*"},
        ],
        "sourceRepos": ["https://git.example/*"],
    }
    with pytest.raises(InvalidInputError, match="SERVER,NAMESPACE"):
        proj.project_body("team", "", ("nocomma",), ())


def test_a_repository_body_holds_only_what_was_given():
    body = repo.repository_body(
        "https://git.example/a.git",
        kind="git",
        name="",
        project="team",
        username="bot",
        password="s3cret",
        ssh_private_key="",
        insecure=False,
    )

    assert body == {
        "repo": "https://git.example/a.git",
        "type": "git",
        "project": "team",
        "username": "bot",
        "password": "s3cret",
    }
