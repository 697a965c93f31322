"""The controller's client of a ``tether repo-server``, and the bearer token both sides read."""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable

from tether.adapters.reposerver import RepoServerClient
from tether.core.sources.rendering import DEFAULT_BUILD_OPTIONS, BuildOptions
from tether.model.errors import TetherError
from tether.services.credentials import RepoCredentials
from tether.settings import Settings


def repo_server_client(
    settings: Settings,
    credentials: RepoCredentials,
    options: Callable[[], BuildOptions] = lambda: DEFAULT_BUILD_OPTIONS,
) -> RepoServerClient:
    """The controller's client of ``settings.repo_server``.

    It sends each app its credentials, and every render the build options ``options`` gives
    (``argocd-cm``'s, which the repo-server cannot read).
    """
    if not settings.repo_server_token_file:
        raise TetherError("a repo-server needs a token file (--repo-server-token-file)")
    parts = urllib.parse.urlsplit(settings.repo_server)
    if parts.scheme not in ("http", "https") or not parts.hostname or "@" in parts.netloc:
        raise TetherError("the repo-server URL must be http(s)://host:port, without credentials")
    return RepoServerClient(
        settings.repo_server,
        read_token_file(settings.repo_server_token_file),
        credentials.for_application,
        ca_file=settings.repo_server_ca,
        timeout=settings.repo_server_timeout,
        options=options,
    )


MIN_TOKEN_LENGTH = 16
"""A shared bearer token shorter than this is guessable; ``openssl rand -hex 32`` makes one."""


def read_token_file(path: str) -> str:
    """The bearer token in ``path`` (surrounding whitespace dropped); never quoted in errors."""
    try:
        with open(path, encoding="utf-8") as file:
            token = file.read().strip()
    except (OSError, UnicodeDecodeError) as err:
        raise TetherError(f"cannot read the token file {path}: {type(err).__name__}") from None
    if len(token) < MIN_TOKEN_LENGTH or any(c.isspace() for c in token):
        raise TetherError(
            f"the token file {path} must hold one token of at least {MIN_TOKEN_LENGTH} "
            "characters without spaces"
        )
    return token
