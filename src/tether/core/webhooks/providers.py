"""Each Git host's webhook: the header that claims it, how it is verified, what its push says.

``choose`` picks the provider by header in Argo CD's order (``PROVIDERS``); ``authenticate``
checks what the headers alone can prove, before the body is read; ``read`` verifies signatures
over the body and parses it. Every failure is a :class:`~events.WebhookError`: a payload of any
shape earns a 400 (or a 401), never another exception.

Without a configured secret a provider's requests are accepted unverified, as in Argo CD: they
only choose apps to refresh, and a refresh only compares with Git again.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
from collections.abc import Callable
from typing import Any

from tether.core.webhooks import events
from tether.core.webhooks.events import (
    Event,
    Headers,
    MalformedError,
    Ping,
    Push,
    Secrets,
    UnverifiedError,
    field,
    text,
)

UNKNOWN_EVENT = "Unknown webhook event"
"""What a request no provider claims gets (Argo CD's words, which Git hosts' logs show)."""

SIGNATURE_PREFIX = "sha256="


@dataclasses.dataclass(frozen=True)
class Provider:
    """One Git host's webhook dialect."""

    name: str
    claims: Callable[[Headers], bool]
    """Whether a request's headers say it comes from this host."""
    authenticate: Callable[[Headers, Secrets], None]
    """Checks what headers alone prove (a token, a UUID, Basic auth); raises UnverifiedError."""
    read: Callable[[Headers, bytes, Secrets], Event]
    """Verifies a body signature, then parses; raises a WebhookError."""


def _no_header_check(_headers: Headers, _secrets: Secrets) -> None:
    """Providers that sign the body are verified in ``read``."""


def _require_signature(headers: Headers, header: str, prefix: str, body: bytes, key: str) -> None:
    """With ``key`` set, ``header`` must be ``prefix`` + the body's hex HMAC-SHA256 under it."""
    if not key:
        return
    given = headers.get(header, "")
    if not given.startswith(prefix) or not events.signed(body, key, given[len(prefix) :]):
        raise UnverifiedError("webhook signature verification failed")


def _github_like(provider: str, payload: dict[str, Any], repo: str) -> Push:
    """GitHub's push shape, which Gogs, Gitea and GitLab (``project`` for ``repository``) share."""
    url = text(payload, repo, "html_url") or text(payload, repo, "web_url")
    revision = events.revision_of(text(payload, "ref"))
    default = text(payload, repo, "default_branch")
    return Push(
        provider=provider,
        repo_urls=(url,) if url else (),
        revision=revision,
        touched_head=bool(default) and default == revision,
        changed_files=events.changed_files(field(payload, "commits")),
    )


# --- Azure DevOps ------------------------------------------------------------------------------


def _azure_authenticate(headers: Headers, secrets: Secrets) -> None:
    if not secrets.azure_username and not secrets.azure_password:
        return
    scheme, _, encoded = headers.get("authorization", "").partition(" ")
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        decoded = ""
    user, colon, password = decoded.partition(":")
    # Both compared whatever the first answers, so the time taken says nothing about either.
    user_ok = events.same_secret(user, secrets.azure_username)
    password_ok = events.same_secret(password, secrets.azure_password)
    if not (scheme.lower() == "basic" and colon and user_ok and password_ok):
        raise UnverifiedError("webhook basic authentication failed")


def _azure_read(_headers: Headers, body: bytes, _secrets: Secrets) -> Event:
    payload = events.decode(body)
    if text(payload, "eventType") != "git.push":
        raise MalformedError("Azure DevOps event not handled (only git.push)")
    repository = field(payload, "resource", "repository")
    url = text(repository, "remoteUrl")
    ref = text(payload, "resource", "refUpdates", 0, "name")
    default = text(repository, "defaultBranch")
    return Push(
        provider="azuredevops",
        repo_urls=(url,) if url else (),
        revision=events.revision_of(ref),
        touched_head=bool(ref) and ref == default,
        changed_files=(),
    )


# --- Gogs and Gitea ----------------------------------------------------------------------------


def _gogs_read(headers: Headers, body: bytes, secrets: Secrets) -> Event:
    _require_signature(headers, "x-gogs-signature", "", body, secrets.gogs)
    if headers.get("x-gogs-event", "") != "push":
        raise MalformedError("Gogs event not handled (only push)")
    return _github_like("gogs", events.decode(body), "repository")


# --- GitHub ------------------------------------------------------------------------------------

GITHUB_EVENTS = ("push", "ping")


def _github_read(headers: Headers, body: bytes, secrets: Secrets) -> Event:
    _require_signature(headers, "x-hub-signature-256", SIGNATURE_PREFIX, body, secrets.github)
    content_type = headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type != "application/json":
        raise MalformedError("GitHub webhooks must be sent as application/json")
    event = headers.get("x-github-event", "")
    if event not in GITHUB_EVENTS:
        raise MalformedError("GitHub event not handled (only push and ping)")
    payload = events.decode(body)
    if event == "ping":
        return Ping("github")
    return _github_like("github", payload, "repository")


# --- GitLab ------------------------------------------------------------------------------------

GITLAB_SYSTEM_PUSHES = ("push", "tag_push")
"""A System Hook carries every instance event; only these two are pushes."""


def _gitlab_authenticate(headers: Headers, secrets: Secrets) -> None:
    if secrets.gitlab and not events.same_secret(headers.get("x-gitlab-token", ""), secrets.gitlab):
        raise UnverifiedError("webhook token verification failed")


def _gitlab_read(headers: Headers, body: bytes, _secrets: Secrets) -> Event:
    event = headers.get("x-gitlab-event", "")
    if event not in ("Push Hook", "Tag Push Hook", "System Hook"):
        raise MalformedError("GitLab event not handled (only pushes)")
    payload = events.decode(body)
    if event == "System Hook" and text(payload, "event_name") not in GITLAB_SYSTEM_PUSHES:
        raise MalformedError("GitLab system event not handled (only pushes)")
    return _github_like("gitlab", payload, "project")


# --- Bitbucket Cloud ---------------------------------------------------------------------------


def _bitbucket_authenticate(headers: Headers, secrets: Secrets) -> None:
    uuid = secrets.bitbucket_uuid
    if uuid and not events.same_secret(headers.get("x-hook-uuid", ""), uuid):
        raise UnverifiedError("webhook UUID verification failed")


def _bitbucket_read(headers: Headers, body: bytes, _secrets: Secrets) -> Event:
    if headers.get("x-event-key", "") != "repo:push":
        raise MalformedError("Bitbucket event not handled (only repo:push)")
    payload = events.decode(body)
    changes = field(payload, "push", "changes")
    if not isinstance(changes, list) or not changes:
        raise MalformedError("the Bitbucket push lists no changes")
    url = text(payload, "repository", "links", "html", "href")
    # Argo CD asks Bitbucket's API for the main branch and the diffstat; tether calls out to
    # no address a payload names, so every push may touch the default branch, files unknown.
    return Push(
        provider="bitbucket",
        repo_urls=(url,) if url else (),
        revision=text(changes, 0, "new", "name"),
        touched_head=True,
        changed_files=(),
    )


# --- Bitbucket Server --------------------------------------------------------------------------

BITBUCKET_SERVER_CLONE_LINKS = ("http", "ssh")
"""Clone links worth matching; others (none today) would name no Git remote."""


def _bitbucket_server_read(headers: Headers, body: bytes, secrets: Secrets) -> Event:
    _require_signature(headers, "x-hub-signature", SIGNATURE_PREFIX, body, secrets.bitbucket_server)
    event = headers.get("x-event-key", "")
    if event == "diagnostics:ping":
        return Ping("bitbucketserver")
    if event != "repo:refs_changed":
        raise MalformedError("Bitbucket Server event not handled (only repo:refs_changed)")
    payload = events.decode(body)
    changes = field(payload, "changes")
    if not isinstance(changes, list) or not changes:
        raise MalformedError("the Bitbucket Server push lists no changes")
    clones = field(payload, "repository", "links", "clone")
    urls = tuple(
        text(link, "href")
        for link in (clones if isinstance(clones, list) else ())
        if text(link, "name") in BITBUCKET_SERVER_CLONE_LINKS and text(link, "href")
    )
    return Push(
        provider="bitbucketserver",
        repo_urls=urls,
        revision=events.revision_of(text(changes, 0, "ref", "id")),
        touched_head=True,
        changed_files=(),
    )


PROVIDERS: tuple[tuple[Provider, str], ...] = (
    # (provider, why it sits here): the first whose header is present wins, as in Argo CD.
    (
        Provider(
            "azuredevops", lambda h: "x-vss-activityid" in h, _azure_authenticate, _azure_read
        ),
        "its activity id header is sent by no other host",
    ),
    (
        Provider("gogs", lambda h: "x-gogs-event" in h, _no_header_check, _gogs_read),
        "before GitHub: Gitea sends X-Gogs-Event and X-GitHub-Event both, signed as Gogs",
    ),
    (
        Provider(
            "github",
            lambda h: h.get("x-github-event", "package") != "package",
            _no_header_check,
            _github_read,
        ),
        "`package` events are container registry pushes, which name no Git repository",
    ),
    (
        Provider("gitlab", lambda h: "x-gitlab-event" in h, _gitlab_authenticate, _gitlab_read),
        "its token header is checked before the body is read",
    ),
    (
        Provider(
            "bitbucket", lambda h: "x-hook-uuid" in h, _bitbucket_authenticate, _bitbucket_read
        ),
        "before Bitbucket Server: both send X-Event-Key, only Cloud sends X-Hook-UUID",
    ),
    (
        Provider(
            "bitbucketserver",
            lambda h: "x-event-key" in h,
            _no_header_check,
            _bitbucket_server_read,
        ),
        "last: X-Event-Key alone is the least specific claim",
    ),
)


def choose(headers: Headers) -> Provider:
    """The provider whose header the request carries, first in ``PROVIDERS`` order.

    Raises:
        MalformedError: no provider claims it (``Unknown webhook event``).
    """
    for provider, _reason in PROVIDERS:
        if provider.claims(headers):
            return provider
    raise MalformedError(UNKNOWN_EVENT)


def read(headers: Headers, body: bytes, secrets: Secrets) -> Event:
    """The event a whole request reports, verified: ``choose``, ``authenticate``, ``read``."""
    provider = choose(headers)
    provider.authenticate(headers, secrets)
    return provider.read(headers, body, secrets)
