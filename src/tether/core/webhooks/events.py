"""A webhook as tether reads it: the push (or ping) it reports and the secrets that verify it.

Also the errors a request can earn, and the few safe readers every provider's payload goes through.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

import orjson

from tether.model.errors import InvalidInputError, TetherError

Headers = Mapping[str, str]
"""Request headers with lower-case names (the first value of a repeated header)."""


class WebhookError(TetherError):
    """A webhook tether refuses; the message names the reason, never a payload value."""


class MalformedError(WebhookError, InvalidInputError):
    """The request is not a webhook tether can read (400)."""


class UnverifiedError(WebhookError):
    """A secret is configured and the request does not prove it knows it (401)."""


@dataclasses.dataclass(frozen=True)
class Push:
    """What a push changed, as every provider reports it."""

    provider: str
    repo_urls: tuple[str, ...]
    """The pushed repository's URLs as the host spells them (a web page, clone links)."""
    revision: str
    """The pushed ref without its ``refs/<kind>/`` prefix, so a branch and a tag of the same
    name look alike (as in Argo CD)."""
    touched_head: bool
    """Whether the push is to the default branch (apps tracking ``HEAD`` care); ``True`` when the
    provider does not say."""
    changed_files: tuple[str, ...]
    """Files added, modified or removed; empty when the provider does not list them."""


@dataclasses.dataclass(frozen=True)
class Ping:
    """A provider checking that the hook works; nothing to refresh."""

    provider: str


Event = Push | Ping


SECRET_KEYS: dict[str, str] = {
    # field of Secrets -> argocd-secret key, Argo CD's names so an existing Secret works as is
    "github": "webhook.github.secret",  # HMAC-SHA256 key of X-Hub-Signature-256
    "gitlab": "webhook.gitlab.secret",  # the token GitLab echoes in X-Gitlab-Token
    "bitbucket_uuid": "webhook.bitbucket.uuid",  # the hook's UUID, echoed in X-Hook-UUID
    "bitbucket_server": "webhook.bitbucketserver.secret",  # HMAC-SHA256 key of X-Hub-Signature
    "gogs": "webhook.gogs.secret",  # HMAC-SHA256 key of X-Gogs-Signature (Gitea too)
    "azure_username": "webhook.azuredevops.username",  # HTTP Basic user name
    "azure_password": "webhook.azuredevops.password",  # HTTP Basic password
}


@dataclasses.dataclass(frozen=True, repr=False)
class Secrets:
    """The per-provider webhook secrets; an empty one means that provider is not verified.

    Without a secret every request claiming to be from that provider is accepted, as Argo CD
    does: a webhook only chooses apps to refresh, and a refresh only compares with Git again.
    """

    github: str = ""
    gitlab: str = ""
    bitbucket_uuid: str = ""
    bitbucket_server: str = ""
    gogs: str = ""
    azure_username: str = ""
    azure_password: str = ""

    @classmethod
    def from_fields(cls, fields: Mapping[str, str]) -> Secrets:
        """The secrets among ``argocd-secret``'s decoded fields."""
        return cls(**{attr: fields.get(key, "") for attr, key in SECRET_KEYS.items()})

    def __repr__(self) -> str:
        configured = [attr for attr in SECRET_KEYS if getattr(self, attr)]
        return f"Secrets(configured={configured})"


def decode(body: bytes) -> dict[str, Any]:
    """The body as a JSON object.

    Raises:
        MalformedError: it is not JSON (too deep included), or not an object.
    """
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise MalformedError("the payload is not valid JSON") from None
    if not isinstance(payload, dict):
        raise MalformedError("the payload is not a JSON object")
    return payload


def field(value: Any, *path: str | int) -> Any:
    """The value at ``path`` (keys of objects, indexes of arrays), ``None`` where it breaks off."""
    for step in path:
        if isinstance(step, int):
            if not isinstance(value, list) or not -len(value) <= step < len(value):
                return None
            value = value[step]
        elif isinstance(value, dict):
            value = value.get(step)
        else:
            return None
    return value


def text(value: Any, *path: str | int) -> str:
    """The string at ``path``; ``""`` when it is missing or not a string."""
    found = field(value, *path)
    return found if isinstance(found, str) else ""


def revision_of(ref: str) -> str:
    """A ref without its first two segments: ``refs/heads/feature/x`` is ``feature/x``."""
    return ref.split("/", 2)[-1]


def changed_files(commits: Any) -> tuple[str, ...]:
    """Every file the commits of a GitHub-like payload add, modify or remove, once each."""
    files: dict[str, None] = {}
    for commit in commits if isinstance(commits, list) else ():
        for kind in ("added", "modified", "removed"):
            listed = field(commit, kind)
            for path in listed if isinstance(listed, list) else ():
                if isinstance(path, str) and path:
                    files[path] = None
    return tuple(files)


def _bytes(value: str) -> bytes:
    # Header values are arbitrary text (lone surrogates included): never a reason to fail.
    return value.encode("utf-8", "surrogatepass")


def same_secret(given: str, expected: str) -> bool:
    """Constant-time equality of two secrets, their lengths hidden behind SHA-512 digests."""
    return hmac.compare_digest(
        hashlib.sha512(_bytes(given)).digest(), hashlib.sha512(_bytes(expected)).digest()
    )


def signed(body: bytes, key: str, given_hex: str) -> bool:
    """Whether ``given_hex`` is the hex HMAC-SHA256 of ``body`` under ``key`` (constant time)."""
    expected = hmac.new(_bytes(key), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(_bytes(expected), _bytes(given_hex.strip().lower()))
