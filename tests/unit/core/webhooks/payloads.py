"""Webhook requests as each Git host sends them, built here (no recorded payloads)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Sequence
from typing import Any

SECRET = "s3cret-for-tests"


def sign(body: bytes, key: str = SECRET) -> str:
    return hmac.new(key.encode(), body, hashlib.sha256).hexdigest()


def commits(*files: Sequence[str]) -> list[dict[str, Any]]:
    return [
        {"id": f"c{i}", "added": [], "modified": list(f), "removed": []}
        for i, f in enumerate(files)
    ]


def github_push(
    url: str = "https://github.com/org/repo",
    ref: str = "refs/heads/main",
    default_branch: str = "main",
    files: Sequence[str] = ("app/a.yaml",),
) -> dict[str, Any]:
    return {
        "ref": ref,
        "before": "0" * 40,
        "after": "1" * 40,
        "repository": {"html_url": url, "default_branch": default_branch},
        "commits": commits(files),
    }


def github(
    payload: dict[str, Any], *, event: str = "push", key: str | None = SECRET
) -> tuple[dict[str, str], bytes]:
    body = json.dumps(payload).encode()
    headers = {"x-github-event": event, "content-type": "application/json"}
    if key is not None:
        headers["x-hub-signature-256"] = "sha256=" + sign(body, key)
    return headers, body


def gitlab_push(
    url: str = "https://gitlab.com/org/repo",
    ref: str = "refs/heads/main",
    default_branch: str = "main",
    files: Sequence[str] = ("app/a.yaml",),
) -> dict[str, Any]:
    return {
        "object_kind": "push",
        "event_name": "push",
        "ref": ref,
        "project": {"web_url": url, "default_branch": default_branch},
        "commits": commits(files),
    }


def gitlab(
    payload: dict[str, Any], *, event: str = "Push Hook", token: str | None = SECRET
) -> tuple[dict[str, str], bytes]:
    headers = {"x-gitlab-event": event, "content-type": "application/json"}
    if token is not None:
        headers["x-gitlab-token"] = token
    return headers, json.dumps(payload).encode()


def gogs(
    payload: dict[str, Any], *, event: str = "push", key: str | None = SECRET, gitea: bool = False
) -> tuple[dict[str, str], bytes]:
    body = json.dumps(payload).encode()
    headers = {"x-gogs-event": event, "content-type": "application/json"}
    if gitea:  # Gitea sends GitHub's and its own headers too
        headers |= {"x-github-event": event, "x-gitea-event": event}
    if key is not None:
        headers["x-gogs-signature"] = sign(body, key)
    return headers, body


def bitbucket_push(
    url: str = "https://bitbucket.org/org/repo", branch: str = "main"
) -> dict[str, Any]:
    return {
        "repository": {"links": {"html": {"href": url}}, "full_name": "org/repo"},
        "push": {
            "changes": [
                {
                    "new": {"type": "branch", "name": branch, "target": {"hash": "1" * 40}},
                    "old": {"type": "branch", "name": branch, "target": {"hash": "0" * 40}},
                }
            ]
        },
    }


def bitbucket(
    payload: dict[str, Any], *, event: str = "repo:push", uuid: str | None = SECRET
) -> tuple[dict[str, str], bytes]:
    headers = {"x-event-key": event, "content-type": "application/json"}
    if uuid is not None:
        headers["x-hook-uuid"] = uuid
    return headers, json.dumps(payload).encode()


def bitbucket_server_push(
    http_url: str = "https://bitbucket.example.com/scm/proj/repo.git",
    ssh_url: str = "ssh://git@bitbucket.example.com:7999/proj/repo.git",
    ref: str = "refs/heads/main",
) -> dict[str, Any]:
    return {
        "eventKey": "repo:refs_changed",
        "repository": {
            "slug": "repo",
            "links": {
                "clone": [{"name": "http", "href": http_url}, {"name": "ssh", "href": ssh_url}],
                "self": [{"href": "https://bitbucket.example.com/projects/PROJ/repos/repo/browse"}],
            },
        },
        "changes": [{"ref": {"id": ref, "displayId": ref.rsplit("/", 1)[-1], "type": "BRANCH"}}],
    }


def bitbucket_server(
    payload: dict[str, Any], *, event: str = "repo:refs_changed", key: str | None = SECRET
) -> tuple[dict[str, str], bytes]:
    body = json.dumps(payload).encode()
    headers = {"x-event-key": event, "content-type": "application/json; charset=UTF-8"}
    if key is not None:
        headers["x-hub-signature"] = "sha256=" + sign(body, key)
    return headers, body


def azure_push(
    url: str = "https://dev.azure.com/org/proj/_git/repo",
    ref: str = "refs/heads/main",
    default_branch: str = "refs/heads/main",
) -> dict[str, Any]:
    return {
        "eventType": "git.push",
        "resource": {
            "refUpdates": [{"name": ref, "oldObjectId": "0" * 40, "newObjectId": "1" * 40}],
            "repository": {"remoteUrl": url, "defaultBranch": default_branch},
        },
    }


def azure(
    payload: dict[str, Any], *, credentials: tuple[str, str] | None = ("hook", SECRET)
) -> tuple[dict[str, str], bytes]:
    headers = {"x-vss-activityid": "6a4f7b2c", "content-type": "application/json"}
    if credentials is not None:
        token = base64.b64encode(":".join(credentials).encode()).decode()
        headers["authorization"] = f"Basic {token}"
    return headers, json.dumps(payload).encode()
