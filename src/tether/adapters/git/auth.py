"""The environment each git call runs in: isolation from host config, and credentials.

Secrets reach git only through the child's environment (``GIT_ASKPASS`` reads them from there,
``http.extraHeader`` comes in through ``GIT_CONFIG_*``) or a 0600 key file that lives outside the
cache for the length of one call. Never argv, never a file in the cache, never a log line.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import tempfile
from collections.abc import Iterator

from tether.adapters import _process
from tether.adapters.git import urls
from tether.core.sources import repocreds

ASKPASS_SCRIPT = """#!/bin/sh
# git runs this for a username or password; the answers are in this process's environment.
case "$1" in
  Username*) printf '%s\\n' "${TETHER_GIT_USERNAME-}" ;;
  *) printf '%s\\n' "${TETHER_GIT_PASSWORD-}" ;;
esac
"""
"""Holds no secret itself, so it may live in the cache directory."""

SSH_CONNECT_TIMEOUT_S = 15
"""An SSH server that has not answered in 15 s is unreachable for a GitOps poll."""


def install_askpass(directory: str) -> str:
    """Write the askpass helper into ``directory`` (idempotent) and return its path."""
    os.makedirs(directory, mode=0o755, exist_ok=True)
    path = os.path.join(directory, "git-askpass")
    try:
        with open(path, encoding="utf-8") as existing:
            if existing.read() == ASKPASS_SCRIPT:
                return path
    except FileNotFoundError:
        pass
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".askpass-")
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(ASKPASS_SCRIPT)
    os.chmod(tmp, 0o755)
    os.replace(tmp, path)
    return path


@contextlib.contextmanager
def git_env(
    repo: urls.RepoURL,
    creds: repocreds.RepoCredentials | None,
    *,
    askpass: str,
    known_hosts: str,
    allow_local: bool,
    ca: str = "",
) -> Iterator[dict[str, str]]:
    """The environment for one git call against ``repo``; temporary key files die on exit.

    ``ca``: PEM certificates trusted for the repository's host instead of the system's CAs
    (``argocd-tls-certs-cm``), as Argo CD does.
    """
    username = (creds.username if creds else "") or repo.username
    password = (creds.password if creds else "") or repo.password
    config: list[tuple[str, str]] = [
        # A reset list: no host credential helper may store or supply secrets.
        ("credential.helper", ""),
        ("protocol.file.allow", "always" if allow_local else "never"),
        ("gc.auto", "0"),  # a gc during a reader's git archive could drop its objects
        ("core.hooksPath", os.devnull),
    ]
    env = {
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_PROTOCOL_FROM_USER": "0",
        "GIT_ALLOW_PROTOCOL": ":".join([*urls.REMOTE_SCHEMES, *(["file"] if allow_local else [])]),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_ASKPASS": askpass,
        "GIT_SSH_VARIANT": "ssh",
        "GIT_HTTP_LOW_SPEED_LIMIT": "1000",
        "GIT_HTTP_LOW_SPEED_TIME": "30",
        "TETHER_GIT_USERNAME": username,
        "TETHER_GIT_PASSWORD": password,
    }
    if creds is not None and creds.insecure:
        config.append(("http.sslVerify", "false"))
    if creds is not None and creds.bearer_token:
        config.append(("http.extraHeader", f"Authorization: Bearer {creds.bearer_token}"))
    if username or password or (creds is not None and creds.has_credentials):
        # Credentials are for this host only; a redirect must not carry them elsewhere.
        config.append(("http.followRedirects", "false"))
    tmpdir = tempfile.mkdtemp(prefix="tether-git-")
    try:
        env["GIT_SSH_COMMAND"] = _ssh_command(tmpdir, creds, known_hosts)
        if ca:
            ca_file = os.path.join(tmpdir, "ca.pem")
            _write_private(ca_file, ca)
            config.append(("http.sslCAInfo", ca_file))
        env["GIT_CONFIG_COUNT"] = str(len(config))
        for i, (key, value) in enumerate(config):
            env[f"GIT_CONFIG_KEY_{i}"] = key
            env[f"GIT_CONFIG_VALUE_{i}"] = value
        yield _process.base_env(env)
    finally:
        shutil.rmtree(tmpdir, ignore_errors=True)


def _ssh_command(tmpdir: str, creds: repocreds.RepoCredentials | None, known_hosts: str) -> str:
    argv = [
        "ssh",
        "-F",
        os.devnull,
        "-o",
        "BatchMode=yes",
        "-o",
        "IdentitiesOnly=yes",
        "-o",
        "IdentityAgent=none",
        "-o",
        f"ConnectTimeout={SSH_CONNECT_TIMEOUT_S}",
        "-o",
        f"GlobalKnownHostsFile={os.devnull}",
    ]
    if creds is not None and creds.insecure_ignore_host_key:
        argv += ["-o", "StrictHostKeyChecking=no", "-o", f"UserKnownHostsFile={os.devnull}"]
    else:
        known = os.path.join(tmpdir, "known_hosts")
        _write_private(known, known_hosts)
        argv += ["-o", "StrictHostKeyChecking=yes", "-o", f"UserKnownHostsFile={known}"]
    if creds is not None and creds.ssh_private_key:
        key = os.path.join(tmpdir, "identity")
        _write_private(key, creds.ssh_private_key)
        argv += ["-i", key]
    else:
        argv += ["-o", "PubkeyAuthentication=no"]
    return shlex.join(argv)


def _write_private(path: str, text: str) -> None:
    if text and not text.endswith("\n"):
        text += "\n"  # OpenSSH refuses a key whose last line has no newline
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
