"""Each Git host's webhook is recognised by its header, verified by its secret and read."""

from __future__ import annotations

import json

import pytest

from tether.core.webhooks import providers
from tether.core.webhooks.events import MalformedError, Ping, Push, Secrets, UnverifiedError

from . import payloads
from .payloads import SECRET

ALL = Secrets(
    github=SECRET,
    gitlab=SECRET,
    bitbucket_uuid=SECRET,
    bitbucket_server=SECRET,
    gogs=SECRET,
    azure_username="hook",
    azure_password=SECRET,
)
NONE = Secrets()


def read(request: tuple[dict[str, str], bytes], secrets: Secrets = ALL) -> Push | Ping:
    headers, body = request
    return providers.read(headers, body, secrets)


def push(request: tuple[dict[str, str], bytes], secrets: Secrets = ALL) -> Push:
    event = read(request, secrets)
    assert isinstance(event, Push)
    return event


# --- GitHub ----------------------------------------------------------------------------------


def test_a_signed_github_push_reports_its_repository_ref_and_changed_files():
    event = push(payloads.github(payloads.github_push(files=("app/a.yaml", "README.md"))))
    assert event == Push(
        provider="github",
        repo_urls=("https://github.com/org/repo",),
        revision="main",
        touched_head=True,
        changed_files=("app/a.yaml", "README.md"),
    )


def test_a_github_push_to_another_branch_does_not_touch_the_default_branch():
    event = push(payloads.github(payloads.github_push(ref="refs/heads/feature/x")))
    assert (event.revision, event.touched_head) == ("feature/x", False)


def test_a_github_tag_push_names_the_tag():
    event = push(payloads.github(payloads.github_push(ref="refs/tags/v1.2.0")))
    assert (event.revision, event.touched_head) == ("v1.2.0", False)


def test_a_github_ping_is_answered_without_a_push():
    assert read(payloads.github({"zen": "Keep it simple."}, event="ping")) == Ping("github")


@pytest.mark.parametrize("key", ["wrong-secret", None])
def test_a_github_push_with_a_wrong_or_missing_signature_is_refused(key):
    with pytest.raises(UnverifiedError, match="signature verification failed"):
        read(payloads.github(payloads.github_push(), key=key))


def test_a_github_signature_without_its_prefix_is_refused():
    headers, body = payloads.github(payloads.github_push())
    headers["x-hub-signature-256"] = headers["x-hub-signature-256"].removeprefix("sha256=")
    with pytest.raises(UnverifiedError):
        providers.read(headers, body, ALL)


def test_a_github_signature_over_another_body_is_refused():
    headers, body = payloads.github(payloads.github_push())
    with pytest.raises(UnverifiedError):
        providers.read(headers, body + b" ", ALL)


def test_without_a_configured_secret_an_unsigned_github_push_is_accepted():
    assert push(payloads.github(payloads.github_push(), key=None), NONE).revision == "main"


def test_a_github_event_other_than_push_or_ping_is_refused_as_not_handled():
    with pytest.raises(MalformedError, match="not handled"):
        read(payloads.github({"action": "opened"}, event="issues"))


def test_a_form_encoded_github_payload_is_refused():
    headers, body = payloads.github(payloads.github_push())
    headers["content-type"] = "application/x-www-form-urlencoded"
    with pytest.raises(MalformedError, match="application/json"):
        providers.read(headers, body, ALL)


def test_a_github_package_event_is_no_git_push_and_no_provider_claims_it():
    headers, body = payloads.github({"package": {}}, event="package")
    with pytest.raises(MalformedError, match="Unknown webhook event"):
        providers.read(headers, body, ALL)


# --- Gogs and Gitea --------------------------------------------------------------------------


def test_a_signed_gogs_push_is_read_like_githubs():
    event = push(payloads.gogs(payloads.github_push(url="https://try.gogs.io/org/repo")))
    assert (event.provider, event.repo_urls, event.touched_head) == (
        "gogs",
        ("https://try.gogs.io/org/repo",),
        True,
    )


def test_gitea_sending_githubs_header_too_is_verified_as_gogs():
    request = payloads.gogs(payloads.github_push(), gitea=True)
    assert push(request).provider == "gogs"


@pytest.mark.parametrize("key", ["wrong-secret", None])
def test_a_gogs_push_with_a_wrong_or_missing_signature_is_refused(key):
    with pytest.raises(UnverifiedError):
        read(payloads.gogs(payloads.github_push(), key=key))


def test_a_gogs_push_without_a_repository_reports_no_url():
    payload = payloads.github_push()
    del payload["repository"]
    event = push(payloads.gogs(payload))
    assert (event.repo_urls, event.touched_head) == ((), False)


def test_a_gogs_event_other_than_push_is_refused():
    with pytest.raises(MalformedError, match="not handled"):
        read(payloads.gogs({}, event="create"))


# --- GitLab ----------------------------------------------------------------------------------


def test_a_gitlab_push_with_the_right_token_reports_its_project():
    event = push(payloads.gitlab(payloads.gitlab_push(files=("x/y.yaml",))))
    assert event == Push("gitlab", ("https://gitlab.com/org/repo",), "main", True, ("x/y.yaml",))


def test_a_gitlab_tag_push_and_a_system_hook_push_are_read():
    tag = payloads.gitlab_push(ref="refs/tags/v2.0.0")
    assert push(payloads.gitlab(tag, event="Tag Push Hook")).revision == "v2.0.0"
    assert push(payloads.gitlab(payloads.gitlab_push(), event="System Hook")).revision == "main"


def test_a_gitlab_system_hook_that_is_not_a_push_is_refused():
    with pytest.raises(MalformedError, match="not handled"):
        read(payloads.gitlab({"event_name": "project_create"}, event="System Hook"))


@pytest.mark.parametrize("token", ["wrong", "", None, SECRET + "x"])
def test_a_gitlab_push_with_a_wrong_or_missing_token_is_refused_before_the_body_is_read(token):
    headers, _ = payloads.gitlab(payloads.gitlab_push(), token=token)
    provider = providers.choose(headers)
    with pytest.raises(UnverifiedError, match="token"):
        provider.authenticate(headers, ALL)


# --- Bitbucket Cloud -------------------------------------------------------------------------


def test_a_bitbucket_push_with_the_hooks_uuid_may_touch_the_default_branch():
    event = push(payloads.bitbucket(payloads.bitbucket_push(branch="dev")))
    assert event == Push("bitbucket", ("https://bitbucket.org/org/repo",), "dev", True, ())


@pytest.mark.parametrize("uuid", ["{another-uuid}", None])
def test_a_bitbucket_push_with_another_uuid_is_refused(uuid):
    headers, _ = payloads.bitbucket(payloads.bitbucket_push(), uuid=uuid)
    if uuid is None:  # without X-Hook-UUID the request is Bitbucket Server's (and unsigned)
        headers["x-hook-uuid"] = ""
    with pytest.raises(UnverifiedError, match="UUID"):
        providers.choose(headers).authenticate(headers, ALL)


def test_a_bitbucket_event_other_than_a_push_is_refused():
    with pytest.raises(MalformedError, match="not handled"):
        read(payloads.bitbucket({}, event="pullrequest:created"))


def test_a_bitbucket_push_without_changes_is_refused():
    payload = payloads.bitbucket_push()
    payload["push"]["changes"] = []
    with pytest.raises(MalformedError, match="no changes"):
        read(payloads.bitbucket(payload))


# --- Bitbucket Server ------------------------------------------------------------------------


def test_a_signed_bitbucket_server_push_reports_its_clone_urls():
    event = push(payloads.bitbucket_server(payloads.bitbucket_server_push(ref="refs/heads/rel")))
    assert event == Push(
        "bitbucketserver",
        (
            "https://bitbucket.example.com/scm/proj/repo.git",
            "ssh://git@bitbucket.example.com:7999/proj/repo.git",
        ),
        "rel",
        True,
        (),
    )


def test_a_bitbucket_server_ping_is_answered_without_a_push():
    request = payloads.bitbucket_server({"test": True}, event="diagnostics:ping")
    assert read(request) == Ping("bitbucketserver")


@pytest.mark.parametrize("key", ["wrong-secret", None])
def test_a_bitbucket_server_push_with_a_wrong_or_missing_signature_is_refused(key):
    with pytest.raises(UnverifiedError):
        read(payloads.bitbucket_server(payloads.bitbucket_server_push(), key=key))


def test_bitbucket_server_clone_links_of_the_wrong_type_are_skipped_not_a_crash():
    payload = payloads.bitbucket_server_push()
    payload["repository"]["links"]["clone"] = ["https://x/y.git", {"name": "http", "href": 3}]
    assert push(payloads.bitbucket_server(payload)).repo_urls == ()


# --- Azure DevOps ----------------------------------------------------------------------------


def test_an_azure_devops_push_with_the_right_credentials_is_read():
    event = push(payloads.azure(payloads.azure_push(ref="refs/heads/main")))
    assert event == Push(
        "azuredevops", ("https://dev.azure.com/org/proj/_git/repo",), "main", True, ()
    )


@pytest.mark.parametrize("credentials", [("hook", "wrong"), ("other", SECRET), None])
def test_an_azure_devops_push_with_wrong_or_missing_credentials_is_refused(credentials):
    headers, _ = payloads.azure(payloads.azure_push(), credentials=credentials)
    with pytest.raises(UnverifiedError, match="basic authentication"):
        providers.choose(headers).authenticate(headers, ALL)


@pytest.mark.parametrize("value", ["Basic !!!", "Basic " + "aG9vaw==", "Bearer x", "Basic"])
def test_a_garbled_azure_authorization_header_is_refused(value):
    headers, _ = payloads.azure(payloads.azure_push())
    headers["authorization"] = value
    with pytest.raises(UnverifiedError):
        providers.choose(headers).authenticate(headers, ALL)


def test_an_azure_devops_event_other_than_git_push_is_refused():
    with pytest.raises(MalformedError, match="not handled"):
        read(payloads.azure({"eventType": "git.pullrequest.created"}))


def test_an_azure_devops_push_without_ref_updates_names_no_revision():
    payload = payloads.azure_push()
    payload["resource"]["refUpdates"] = []
    event = push(payloads.azure(payload))
    assert (event.revision, event.touched_head) == ("", False)


# --- every provider --------------------------------------------------------------------------


def test_a_request_no_provider_claims_is_an_unknown_webhook_event():
    with pytest.raises(MalformedError, match="Unknown webhook event"):
        providers.read({"content-type": "application/json"}, b"{}", ALL)


@pytest.mark.parametrize(
    "body", [b"", b"not json", b"[1, 2]", b'"text"', b"[" * 5000 + b"]" * 5000]
)
def test_a_body_that_is_not_a_json_object_is_malformed(body):
    headers = {"x-gitlab-event": "Push Hook"}
    with pytest.raises(MalformedError):
        providers.read(headers, body, NONE)


def test_the_provider_order_is_argo_cds():
    assert [p.name for p, _ in providers.PROVIDERS] == [
        "azuredevops",
        "gogs",
        "github",
        "gitlab",
        "bitbucket",
        "bitbucketserver",
    ]


def test_secrets_are_read_from_argo_cds_keys_and_never_shown():
    secrets = Secrets.from_fields(
        {
            "webhook.github.secret": "gh-value",
            "webhook.azuredevops.password": "pw-value",
            "other": "x",
        }
    )
    assert (secrets.github, secrets.azure_password, secrets.gitlab) == ("gh-value", "pw-value", "")
    assert "gh-value" not in repr(secrets) and "pw-value" not in repr(secrets)
    assert json.dumps(repr(secrets))
