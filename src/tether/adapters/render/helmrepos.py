"""Helm repositories and OCI registries: pulling charts and building remote dependencies.

Credentials come from repository Secrets (``type: helm``) and reach helm only through files in a
private directory made for one command and removed after it (``HELM_REPOSITORY_CONFIG``,
``HELM_REGISTRY_CONFIG``): never on a command line, never in helm's shared home. Pulled charts
are cached by repository, chart, version and the Secret that allowed the pull.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import hashlib
import hmac
import os
import re
import secrets
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import orjson

from tether.adapters import _disk, _process
from tether.adapters._network import resolve_host
from tether.adapters.commandline import CommandLine
from tether.core.sources import kubeyaml, remote
from tether.core.sources.repocreds import (
    RepoCredentials,
    oci_reference,
    redact_url,
    split_userinfo,
)
from tether.model.errors import InvalidInputError, RenderError

CredentialLookup = Callable[[str, str], "RepoCredentials | None"]
"""``(repository URL, project)`` to the Helm credentials that project may use there."""

EXACT_VERSION = re.compile(r"^v?\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.+-]+)?$")
"""Only exact versions can be served from the chart cache; constraints need the index."""

HTTP_SCHEMES = ("http", "https")
"""Schemes of a Helm repository reached by its index; ``oci://`` and no scheme are registries."""

URL_SOURCE = "spec.source.repoURL"
"""``RepoCredentials.source`` of credentials written into a repository URL's userinfo."""

_PROCESS_KEY = secrets.token_bytes(32)

_pull_locks: dict[tuple[int, str], asyncio.Lock] = {}
"""One pull per chart at a time, per event loop (an asyncio lock belongs to one loop)."""


@dataclasses.dataclass(frozen=True, repr=False)
class Repository:
    """One Helm repository as a render reaches it, with the credentials its project may use."""

    url: str
    """An HTTP repository's URL, or ``oci://host/path`` for a registry."""
    oci: bool
    creds: RepoCredentials | None

    @property
    def host(self) -> str:
        """The repository's host name, for address checks."""
        return remote.host_of(self.url) or ""

    @property
    def host_port(self) -> str:
        """A registry's ``host[:port]``, the key of its entry in helm's registry file."""
        return self.url.split("://", 1)[-1].split("/", 1)[0]

    @property
    def identity(self) -> str:
        """Which credentials allowed a pull: their Secret, project and user; never a secret.

        Credentials typed into the URL have no Secret to name: their password counts, keyed with
        this process's own random key, so knowing the user name is not enough to reuse a pull.
        """
        creds = self.creds
        if creds is None or not creds.has_credentials:
            return "anonymous"
        if creds.source == URL_SOURCE:
            proof = hmac.new(_PROCESS_KEY, creds.password.encode(), "sha256").hexdigest()
            return f"{URL_SOURCE}\n{creds.username}\n{proof}"
        return f"{creds.source}\n{creds.project}\n{creds.username}"

    def scrub(self, text: str) -> str:
        """``text`` without this repository's secrets (helm never prints them; belt and braces)."""
        if self.creds is not None:
            for value in (self.creds.password, self.creds.bearer_token):
                if value:
                    text = text.replace(value, "********")
        return text


def locate(
    url: str, lookup: CredentialLookup | None, project: str, policy: remote.RemotePolicy, field: str
) -> Repository:
    """The repository ``url`` names, checked against ``policy``, with its credentials.

    Credentials in the URL's userinfo serve when no Secret has any for it.

    Raises:
        InvalidInputError: a scheme helm cannot pull from, no host, a refused address.
    """
    reference = oci_reference(url)
    if reference is None:
        scheme = url.split("://", 1)[0].lower()
        if scheme not in HTTP_SCHEMES:
            raise InvalidInputError(
                f"{field}: {redact_url(url)!r}: not http(s)://, oci:// or a registry"
            )
        canonical = url.strip().rstrip("/")
    else:
        canonical = "oci://" + reference
    try:
        # Userinfo never reaches helm's command line (where /proc shows it): it becomes
        # credentials, written to the private configuration like a Secret's.
        bare, user, password = split_userinfo(canonical)
    except ValueError:
        raise InvalidInputError(f"{field}: {redact_url(url)!r} is not a valid URL") from None
    host = remote.host_of(bare)
    if not host:
        raise InvalidInputError(f"{field}: {redact_url(url)!r} names no host")
    remote.refuse_address(host, resolve_host(host), policy, field)
    creds = lookup(bare, project) if lookup is not None else None
    if (user or password) and (creds is None or not creds.has_credentials):
        creds = dataclasses.replace(
            creds or RepoCredentials(url=bare, type="helm"),
            username=user,
            password=password,
            source=URL_SOURCE,
            project="",
        )
    return Repository(bare, reference is not None, creds)


@contextlib.contextmanager
def private_config(
    parent: str,
    repositories: Sequence[Repository],
    *,
    pass_credentials: bool = False,
    ca: str = "",
) -> Iterator[tuple[dict[str, str], dict[str, str]]]:
    """Helm's repository and registry files for one command, in a directory only we can read.

    Yields the environment to add and each HTTP repository's name in the repository file. The
    directory (``mkdtemp``: mode 0700, files 0600) is removed when the block ends. ``ca`` (PEM),
    when given, is written beside them (``ca_file_in``) and trusted by the HTTP repositories.
    """
    os.makedirs(parent, exist_ok=True)
    private = tempfile.mkdtemp(prefix="helm-auth-", dir=parent)
    try:
        ca_file = os.path.join(private, CA_FILE) if ca else ""
        if ca:
            _write_private(ca_file, ca.encode())
        names: dict[str, str] = {}
        entries: list[dict[str, Any]] = []
        auths: dict[str, dict[str, str]] = {}
        for index, repo in enumerate(repositories):
            creds = repo.creds
            if repo.oci:
                if creds is not None and (creds.username or creds.password):
                    pair = f"{creds.username}:{creds.password}".encode()
                    auths[repo.host_port] = {"auth": base64.b64encode(pair).decode()}
                continue
            name = f"repo{index}"
            names[repo.url] = name
            entries.append(
                {
                    "name": name,
                    "url": repo.url,
                    "username": creds.username if creds else "",
                    "password": creds.password if creds else "",
                    "insecure_skip_tls_verify": bool(creds and creds.insecure),
                    "pass_credentials_all": pass_credentials,
                    "caFile": ca_file,
                }
            )
        repo_file = os.path.join(private, "repositories.yaml")
        registry_file = os.path.join(private, "registry.json")
        _write_private(repo_file, orjson.dumps({"apiVersion": "", "repositories": entries}))
        _write_private(registry_file, orjson.dumps({"auths": auths}))
        yield (
            {
                "HELM_REPOSITORY_CONFIG": repo_file,
                "HELM_REPOSITORY_CACHE": os.path.join(private, "cache"),
                "HELM_REGISTRY_CONFIG": registry_file,
            },
            names,
        )
    finally:
        shutil.rmtree(private, ignore_errors=True)


CA_FILE = "ca.pem"
"""The operator's CA for the repository's host, beside the private repository file."""


def ca_file_in(extra: Mapping[str, str]) -> str:
    """Where ``private_config`` wrote its CA, from the environment it yielded."""
    return os.path.join(os.path.dirname(extra["HELM_REPOSITORY_CONFIG"]), CA_FILE)


def _update_failure(err: _process.ProcessError) -> str:
    """Why ``helm repo update`` failed, from stdout and stderr.

    helm says why on stdout ("...Unable to get an update ...", then the cause indented, e.g. a
    certificate it cannot verify), and only that it failed on stderr.
    """
    why = [line for line in err.stdout.splitlines() if line.startswith(("...Unable", "\t", " "))]
    return "\n".join([*why, err.stderr])


def _write_private(path: str, content: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(content)


def transport_flags(command: CommandLine, repositories: Sequence[Repository]) -> None:
    """How helm reaches registries: plain HTTP or unverified TLS only when a Secret says so.

    helm takes these flags for every repository of one command, so repositories that disagree
    are refused: one registry's plain HTTP must not carry another's credentials in the clear.

    Raises:
        InvalidInputError: naming the repositories that need different transports.
    """

    def plain_http(repo: Repository) -> bool:
        return bool(repo.creds and repo.creds.insecure_oci_force_http)

    def insecure(repo: Repository) -> bool:
        return bool(repo.creds and repo.creds.insecure)

    registries = [r for r in repositories if r.oci]
    for flag, wants, among in (
        ("--plain-http", plain_http, registries),
        ("--insecure-skip-tls-verify", insecure, list(repositories)),
    ):
        chosen = {wants(r) for r in among}
        if len(chosen) > 1:
            names = ", ".join(sorted(redact_url(r.url) for r in among))
            raise InvalidInputError(
                f"Chart.yaml dependencies: {names} need different transports ({flag} for some "
                "of them by their repository Secrets); helm takes one for all"
            )
        if chosen == {True}:
            command.word(flag)


async def pull(
    helm: str,
    repo_url: str,
    chart: str,
    version: str,
    *,
    cache_dir: str,
    env: dict[str, str],
    pass_credentials: bool,
    timeout: float,
    policy: remote.RemotePolicy,
    lookup: CredentialLookup | None = None,
    project: str = "",
    ca: str = "",
) -> str:
    """A chart from a Helm repository or OCI registry, unpacked under the chart cache.

    ``ca`` (PEM) is trusted for the repository's host instead of the system's CAs, as Argo CD
    does for a host in ``argocd-tls-certs-cm``.

    The cache is keyed by repository, chart, version and ``Repository.identity``: an app whose
    project has no credentials for the repository never gets a chart another project pulled
    with its own. The repository itself is the AppProject's to allow; ``policy`` only keeps the
    pull off the addresses tether never reaches (link-local, metadata, loopback unless allowed).
    """
    if chart.startswith("-") or "/" in chart or ".." in chart or not chart:
        raise InvalidInputError(f"spec.source.chart: invalid chart name {chart!r}")
    repo = locate(repo_url, lookup, project, policy, "spec.source.repoURL")
    key = hashlib.sha256(f"{repo.url}\n{chart}\n{repo.identity}".encode()).hexdigest()[:24]
    base = os.path.join(cache_dir, "charts", key)
    constraint = "" if version in ("", "HEAD", "*") else version
    exact = os.path.join(base, constraint.lstrip("v"), chart)
    if EXACT_VERSION.match(constraint) and os.path.isfile(os.path.join(exact, "Chart.yaml")):
        _disk.touch(os.path.dirname(exact))  # its use, for prune_charts
        return exact
    lock = _pull_locks.setdefault((id(asyncio.get_running_loop()), key), asyncio.Lock())
    async with lock:
        os.makedirs(base, exist_ok=True)
        staging = tempfile.mkdtemp(prefix="pull-", dir=base)
        try:
            await _pull_into(helm, repo, chart, constraint, staging, cache_dir, env, timeout,
                             pass_credentials, ca)  # fmt: skip
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        pulled = os.path.join(staging, chart)
        resolved = str(read_chart(pulled).get("version", "unknown")).lstrip("v")
        final = os.path.join(base, resolved)
        if os.path.isdir(final):
            shutil.rmtree(staging, ignore_errors=True)
            _disk.touch(final)
        else:
            os.replace(staging, final)
        return os.path.join(final, chart)


async def _pull_into(
    helm: str,
    repo: Repository,
    chart: str,
    constraint: str,
    staging: str,
    cache_dir: str,
    env: dict[str, str],
    timeout: float,
    pass_credentials: bool,
    ca: str,
) -> None:
    where = f"helm pull {chart} from {redact_url(repo.url)}"
    with private_config(cache_dir, [repo], pass_credentials=pass_credentials, ca=ca) as (
        extra,
        names,
    ):
        run_env = {**env, **extra}
        if repo.oci:
            command = CommandLine(helm, "pull")
            command.positional(f"{repo.url}/{chart}", field="spec.source.chart")
            transport_flags(command, [repo])
        else:
            # The index first, with the private repository file's credentials ...
            update = CommandLine(helm, "repo", "update", "--fail-on-repo-update-fail")
            update.positional(names[repo.url], field="spec.source.repoURL")
            try:
                await _process.run(update.argv, env=run_env, timeout=timeout)
            except _process.ProcessError as err:
                reason = repo.scrub(f"{err.reason}{_process.tail(_update_failure(err))}")
                raise RenderError(f"{where}: cannot read its index: {reason}") from None
            # ... then the chart by the name it has there, so the same entry authenticates it.
            command = CommandLine(helm, "pull")
            command.positional(f"{names[repo.url]}/{chart}", field="spec.source.chart")
        command.word("--untar").flag("--untardir", staging, field="spec.source.chart")
        if constraint:
            command.flag("--version", constraint, field="spec.source.targetRevision")
        if ca:
            command.flag("--ca-file", ca_file_in(extra), field="argocd-tls-certs-cm")
        try:
            await _process.run(command.argv, env=run_env, timeout=timeout)
        except _process.ProcessError as err:
            reason = repo.scrub(f"{err.reason}{_process.tail(err.stderr)}")
            raise RenderError(f"{where}: {reason}") from None


async def build_dependencies(
    helm: str,
    chart_dir: str,
    repositories: Sequence[Repository],
    *,
    cache_dir: str,
    env: dict[str, str],
    timeout: float,
) -> None:
    """``helm dependency build`` in a scratch copy, remote repositories with their credentials."""
    with private_config(cache_dir, repositories) as (extra, _names):
        command = CommandLine(helm, "dependency", "build")
        if not any(not r.oci for r in repositories):
            command.word("--skip-refresh")  # no index to read: local and OCI dependencies only
        transport_flags(command, repositories)
        command.positional(chart_dir, field="spec.source.path")
        try:
            await _process.run(command.argv, env={**env, **extra}, timeout=timeout)
        except _process.ProcessError as err:
            reason = f"{err.reason}{_process.tail(err.stderr)}"
            for repo in repositories:
                reason = repo.scrub(reason)
            raise RenderError(f"helm dependency build {reason}") from None


def read_chart(chart_dir: str) -> dict[str, Any]:
    """A chart's Chart.yaml as a mapping."""
    path = os.path.join(chart_dir, "Chart.yaml")
    if not os.path.isfile(path):
        raise InvalidInputError("spec.source.path: no Chart.yaml in the chart directory")
    with open(path, "rb") as handle:
        docs = kubeyaml.parse_yaml(handle.read(), "Chart.yaml")
    return docs[0] if docs else {}


def prune_charts(cache_dir: str, keep: int, *, min_idle_s: float, now: float) -> list[str]:
    """Delete the least recently used pulled chart versions beyond the newest ``keep``."""
    versions = _disk.subdirectories(os.path.join(cache_dir, "charts"), depth=2)
    return _disk.prune_least_recent(versions, keep=keep, min_idle_s=min_idle_s, now=now)
