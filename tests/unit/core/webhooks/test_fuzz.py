"""Payloads of any shape earn a webhook error (a 400 or 401), never another exception.

Argo CD's server crashed on malformed Bitbucket Server, Gogs and Azure DevOps payloads
(CVE-2025-59531, -59537, -59538); these properties throw random JSON at every provider.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings, strategies as st

from tests.unit.model.examples import minimal_application
from tether.core.webhooks import matching, providers
from tether.core.webhooks.events import Push, Secrets, WebhookError
from tether.model.application import parse_application

from . import payloads

# Every name a parser reads, so random shapes reach past the first lookup.
# fmt: off
FIELDS = [
    "ref", "repository", "project", "html_url", "web_url", "default_branch", "commits", "added",
    "modified", "removed", "push", "changes", "new", "name", "links", "html", "href", "clone",
    "id", "resource", "refUpdates", "remoteUrl", "defaultBranch", "eventType", "event_name",
]
# fmt: on

LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.sampled_from(
        [
            "git.push",
            "push",
            "tag_push",
            "refs/heads/main",
            "refs/tags/v1.0.0",
            "main",
            "http",
            "ssh",
            "https://github.com/org/repo",
            "git@github.com:org/repo.git",
            "1.*",
            "",
            "https://[::1",
            "ssh://git@h:99999/x",
            "http://h/%zz",
            "https://h:notaport/x",
        ]
    ),
)

JSON = st.recursive(
    LEAVES,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=4), children, max_size=5)
    ),
    max_leaves=30,
)

HEADERS = st.sampled_from(
    [
        {"x-vss-activityid": "1"},
        {"x-gogs-event": "push"},
        {"x-github-event": "push", "content-type": "application/json"},
        {"x-github-event": "ping", "content-type": "application/json"},
        {"x-gitlab-event": "Push Hook"},
        {"x-gitlab-event": "Tag Push Hook"},
        {"x-gitlab-event": "System Hook"},
        {"x-hook-uuid": "u", "x-event-key": "repo:push"},
        {"x-event-key": "repo:refs_changed"},
        {"x-event-key": "diagnostics:ping"},
    ]
)

VALID = [
    payloads.github_push(),
    payloads.gitlab_push(),
    payloads.bitbucket_push(),
    payloads.bitbucket_server_push(),
    payloads.azure_push(),
]


def _watched(source: dict[str, str]) -> dict[str, Any]:
    body = minimal_application(source=source)
    body["metadata"]["annotations"] = {"argocd.argoproj.io/manifest-generate-paths": ".;/x/*"}
    return body


APPS = [
    parse_application(_watched(source))
    for source in (
        {"repoURL": "https://github.com/org/repo", "targetRevision": "HEAD", "path": "a"},
        {"repoURL": "git@github.com:org/repo.git", "targetRevision": "1.*", "path": "."},
    )
]


def survives(headers: dict[str, str], body: bytes, secrets: Secrets) -> None:
    try:
        event = providers.read(headers, body, secrets)
    except WebhookError:
        return
    if isinstance(event, Push):
        matcher = matching.Matcher(event)
        for app in APPS:
            matcher.concerns(app)


def replace_at(payload: Any, path: list[int], value: Any) -> Any:
    """``payload`` with the subtree that ``path`` picks (child indexes, modulo) replaced."""
    if not path or not isinstance(payload, dict | list) or not payload:
        return value
    if isinstance(payload, dict):
        key = sorted(payload)[path[0] % len(payload)]
        return {**payload, key: replace_at(payload[key], path[1:], value)}
    index = path[0] % len(payload)
    return [*payload[:index], replace_at(payload[index], path[1:], value), *payload[index + 1 :]]


@settings(max_examples=300, deadline=None)
@given(headers=HEADERS, payload=JSON)
def test_a_random_json_value_is_a_webhook_error_or_an_event(headers, payload):
    survives(headers, json.dumps(payload).encode(), Secrets())


@settings(max_examples=300, deadline=None)
@given(
    headers=HEADERS,
    valid=st.sampled_from(VALID),
    path=st.lists(st.integers(min_value=0, max_value=50), max_size=6),
    value=JSON,
)
def test_a_real_payload_with_one_part_replaced_is_a_webhook_error_or_an_event(
    headers, valid, path, value
):
    survives(headers, json.dumps(replace_at(valid, path, value)).encode(), Secrets())


@settings(max_examples=200, deadline=None)
@given(
    headers=st.dictionaries(
        st.sampled_from(
            [
                "x-vss-activityid",
                "x-gogs-event",
                "x-github-event",
                "x-gitlab-event",
                "x-hook-uuid",
                "x-event-key",
                "authorization",
                "x-gitlab-token",
                "x-hub-signature-256",
                "x-hub-signature",
                "x-gogs-signature",
                "content-type",
            ]
        ),
        st.text(max_size=20),
        max_size=6,
    ),
    body=st.binary(max_size=64),
    configured=st.booleans(),
)
def test_random_headers_and_bytes_with_or_without_secrets_are_a_webhook_error_or_an_event(
    headers, body, configured
):
    secrets = (
        Secrets(
            github="k",
            gitlab="k",
            bitbucket_uuid="k",
            bitbucket_server="k",
            gogs="k",
            azure_username="u",
            azure_password="p",
        )
        if configured
        else Secrets()
    )
    survives(headers, body, secrets)
