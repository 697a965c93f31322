"""Turning a failed git call into a ``GitError`` a user can act on, without echoing git's stderr.

git's stderr can repeat a URL with its userinfo or a header, so it is matched, never quoted.
"""

from __future__ import annotations

import re

from tether.adapters import _process
from tether.model.errors import GitError

REASONS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(r"Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED", re.I),
        "the SSH host key is not trusted (add it to the known hosts: argocd-ssh-known-hosts-cm,"
        " or a repo-server's --ssh-known-hosts-file)",
    ),
    (
        re.compile(
            r"SSL certificate problem|server certificate verification failed"
            r"|certificate verify failed",
            re.I,
        ),
        "the server's TLS certificate is not trusted (add its CA for this host to "
        "argocd-tls-certs-cm, or a repo-server's --tls-certs-dir)",
    ),
    (
        re.compile(
            r"Authentication failed|could not read (Username|Password)|Permission denied"
            r"|HTTP Basic: Access denied|Invalid username or password|returned error: 40[13]"
            r"|terminal prompts disabled",
            re.I,
        ),
        "authentication failed",
    ),
    (
        re.compile(r"unable to update url base from redirection|returned error: 30[1-8]", re.I),
        "the server redirected; credentials are never sent to another address, so use the "
        "repository's final URL",
    ),
    (
        re.compile(r"transport '[^']*' not allowed|unsupported URL protocol", re.I),
        "the transport is not allowed",
    ),
    (
        re.compile(
            r"Could not resolve host|Connection refused|Failed to connect|unable to connect"
            r"|Connection timed out|Network is unreachable|No route to host|Connection reset"
            r"|Connection closed by|kex_exchange_identification|unable to access",
            re.I,
        ),
        "the server is unreachable",
    ),
    (
        re.compile(
            r"does not appear to be a git repository|Repository not found|returned error: 404"
            r"|not found: did you run git update-server-info|No such file or directory"
            r"|repository '[^']*' not found",
            re.I,
        ),
        "the repository does not exist on the server",
    ),
    (
        re.compile(r"couldn't find remote ref|not our ref|unknown revision|bad object", re.I),
        "unknown revision",
    ),
)
"""stderr patterns and the reason they stand for, first match wins. Host-key, certificate and auth
lines come before reachability because an SSH refusal also prints "Could not read from remote
repository", and a TLS refusal "unable to access"."""


def to_git_error(err: _process.ProcessError, display_url: str, action: str) -> GitError:
    """A ``GitError`` naming the repository, what tether was doing, and the reason."""
    if err.returncode is None:
        # Timeouts and runaway output come from the runner, not git: their text holds no secret.
        return GitError(f"{action} repository {display_url!r} failed: git {err.reason}")
    for pattern, reason in REASONS:
        if pattern.search(err.stderr):
            return GitError(f"{action} repository {display_url!r} failed: {reason}")
    return GitError(
        f"{action} repository {display_url!r} failed: git exited with code {err.returncode}"
    )
