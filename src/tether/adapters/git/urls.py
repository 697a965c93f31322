"""Which repository URLs and revisions tether hands to git, and the form each takes on argv.

Everything here refuses before git runs: option-looking input, unknown transports, local paths
(unless enabled), control characters. Messages carry the URL without its userinfo.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import urllib.parse

from tether.core.sources import repocreds
from tether.model.errors import GitError

MAX_URL_LENGTH = 2048
"""Real repository URLs are far shorter; a longer one is an attack or a mistake."""

REMOTE_SCHEMES = {
    "https": "the default for hosted Git",
    "http": "Argo CD allows it (in-cluster Git servers, tests on loopback)",
    "ssh": "key-based access",
    "git": "the anonymous git daemon protocol",
}
"""Transports always allowed. ``ext::``, ``fd::`` and other remote helpers never are."""

LOCAL_SCHEMES = {"file": "only with allow_local: a repository path on this machine"}
"""Transports that read this machine's disk; behind a setting (CVE-2022-39253)."""

_SCP_LIKE = re.compile(r"^(?:(?P<user>[A-Za-z0-9._~+-]+)@)?(?P<host>[A-Za-z0-9.-]+):(?P<path>.+)$")
_CONTROL = re.compile(r"[\x00-\x20\x7f]")
_REF_NAME = re.compile(r"^refs/[A-Za-z0-9._/+-]+$")
_HEX_SHA = re.compile(r"^[0-9a-f]{40}(?:[0-9a-f]{24})?$")
_SHORT_SHA = re.compile(r"^[0-9a-fA-F]{7,39}$")


@dataclasses.dataclass(frozen=True)
class RepoURL:
    """A validated repository URL.

    ``fetch_url`` goes on argv (no password in it); ``display`` goes in messages; ``key`` names
    the mirror directory. Userinfo found in the URL moves into ``username``/``password``.
    """

    original: str
    fetch_url: str
    display: str
    scheme: str
    key: str
    username: str = dataclasses.field(default="", repr=False)
    password: str = dataclasses.field(default="", repr=False)
    project: str = ""
    """The project whose scoped credentials reach it ("" for global or none)."""


def parse_repo_url(url: str, *, allow_local: bool = False) -> RepoURL:
    """Validate ``url`` and split it into the forms tether uses.

    Raises:
        GitError: the URL is refused; the message says why and shows no userinfo.
    """
    display = repocreds.redact_url(url)
    if not url or len(url) > MAX_URL_LENGTH:
        raise GitError(f"repository URL refused: empty or longer than {MAX_URL_LENGTH} characters")
    if url.startswith("-"):
        raise GitError(f"repository URL {display!r} refused: it must not start with '-'")
    if _CONTROL.search(url):
        raise GitError(f"repository URL {display!r} refused: it contains spaces or control chars")
    head = url.split("/", 1)[0]
    if "::" in head:
        raise GitError(f"repository URL {display!r} refused: git remote helpers are not allowed")
    if "://" in url:
        scheme = url.split("://", 1)[0].lower()
        if scheme in LOCAL_SCHEMES and not allow_local:
            raise GitError(
                f"repository URL {display!r} refused: file:// repositories are disabled "
                "(enable local repositories in settings)"
            )
        if scheme not in REMOTE_SCHEMES and scheme not in LOCAL_SCHEMES:
            raise GitError(f"repository URL {display!r} refused: unsupported scheme {scheme!r}")
        try:
            bare, username, password = repocreds.split_userinfo(url)
            parts = urllib.parse.urlsplit(bare)
        except ValueError:
            raise GitError(f"repository URL {display!r} refused: it does not parse") from None
        if scheme != "file" and not parts.hostname:
            raise GitError(f"repository URL {display!r} refused: it has no host")
        if scheme == "ssh" and username and not password:
            # ssh://git@host/...: the user is part of the address, not a secret.
            bare, display, username = url, url, ""
        return RepoURL(url, bare, display, scheme, _key(scheme, bare), username, password)
    if url.startswith("/"):
        if not allow_local:
            raise GitError(
                f"repository URL {display!r} refused: local paths are disabled "
                "(enable local repositories in settings)"
            )
        return RepoURL(url, url, display, "file", _key("file", url))
    if _SCP_LIKE.match(url):
        return RepoURL(url, url, display, "ssh", _key("ssh", url))
    raise GitError(f"repository URL {display!r} refused: not an https, http, ssh or git URL")


def _key(scheme: str, url: str) -> str:
    # Host names are case-insensitive, paths are not: Org/Repo and org/repo may differ, and two
    # repositories must never share a mirror (one could read the other's commits by SHA).
    text = url.rstrip("/")
    if "://" in text:
        parts = urllib.parse.urlsplit(text)
        text = urllib.parse.urlunsplit(parts._replace(netloc=parts.netloc.lower()))
    return hashlib.sha256(f"{scheme}\0{text}".encode()).hexdigest()[:32]


def is_full_sha(revision: str) -> bool:
    """A full SHA-1 (or SHA-256) object name in lower case."""
    return bool(_HEX_SHA.match(revision))


def is_short_sha(revision: str) -> bool:
    """An abbreviated hexadecimal commit name (Argo CD: at least 7 characters)."""
    return bool(_SHORT_SHA.match(revision))


def check_revision(revision: str, display: str) -> None:
    """Refuse revisions that could reach git as an option or that no ref can be named.

    Raises:
        GitError: the revision is refused; the message names the repository and the reason.
    """
    if len(revision) > 1024:
        raise GitError(f"revision for repository {display!r} refused: longer than 1024 characters")
    if revision.startswith("-"):
        raise GitError(
            f"revision {revision!r} for repository {display!r} refused: it starts with '-'"
        )
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in revision):
        raise GitError(
            f"revision for repository {display!r} refused: it contains control characters"
        )


def is_fetchable_ref(revision: str) -> bool:
    """A fully qualified ref name safe to use in a refspec (``refs/pull/7/head``)."""
    return (
        bool(_REF_NAME.match(revision))
        and ".." not in revision
        and "//" not in revision
        and not revision.endswith(("/", ".lock", "."))
        and "/." not in revision
    )
