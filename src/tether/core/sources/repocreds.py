"""Repository credentials from Argo CD-format Secrets, and the URL rules that pick them.

Owns decoding ``repository`` and ``repo-creds`` Secrets, choosing the credentials for a URL (exact
repository first, then the longest template prefix), and stripping userinfo from URLs for messages.
"""

from __future__ import annotations

import dataclasses
import re
import urllib.parse
from collections.abc import Iterable, Mapping
from typing import Any

from tether.model import secretdata
from tether.model.errors import InvalidInputError

SECRET_TYPE_LABEL = secretdata.SECRET_TYPE_LABEL

SECRET_TYPES = {
    "repository": "one repository, matched by its exact (normalised) URL",
    "repo-creds": "a credential template for every repository under its url (whole segments)",
}
"""Values of ``SECRET_TYPE_LABEL`` this module understands; other Secrets are ignored."""

REPO_TYPES = {
    "git": "a Git repository (the default when ``type`` is missing)",
    "helm": "a Helm chart repository or OCI registry",
}
"""Values of the ``type`` field; credentials never cross from one type to the other."""

OCI_ONLY = ("enableOCI", "insecureOCIForceHttp")
"""Fields that only mean something for a Helm repository that is an OCI registry."""

NOT_FOR_HELM = {
    "bearerToken": "is for Git (Bitbucket Data Center); helm repositories take username/password",
    "sshPrivateKey": "is for Git over SSH; helm repositories take username/password",
}
"""Secret fields tether refuses on ``type: helm`` rather than ignore (no way to honour them)."""

NOT_HONOURED = {
    "tlsClientCertData": "TLS client certificates are not sent to repositories yet",
    "tlsClientCertKey": "TLS client certificates are not sent to repositories yet",
    "githubAppID": "GitHub App authentication is not supported; use a token in password",
    "githubAppInstallationID": "GitHub App authentication is not supported",
    "githubAppPrivateKey": "GitHub App authentication is not supported",
    "githubAppEnterpriseBaseUrl": "GitHub App authentication is not supported",
    "gcpServiceAccountKey": "Google Cloud Source authentication is not supported",
    "proxy": "tether reaches repositories directly; a proxy would be silently bypassed",
    "noProxy": "tether reaches repositories directly; there is no proxy to bypass",
    "forceHttpBasicAuth": "basic auth is sent when the server asks; forcing it is not supported",
    "useAzureWorkloadIdentity": "Azure workload identity is not supported",
    "enableLfs": "Git LFS objects are not fetched",
}
"""Argo CD repository Secret fields tether cannot honour: a Secret setting one is refused by
name (a false or empty value is harmless and allowed), never used as if the field were absent."""

_TRUE = frozenset({"true", "yes", "1"})
_FALSE = frozenset({"", "false", "no", "0"})
_SCP_LIKE = re.compile(r"^(?P<user>[^@/:]+@)?(?P<host>[^/:]+):(?P<path>.*)$")


@dataclasses.dataclass(frozen=True, repr=False)
class RepoCredentials:
    """What tether may use to reach one repository. ``repr`` never shows a secret value."""

    url: str
    type: str = "git"
    name: str = ""
    project: str = ""
    username: str = ""
    password: str = ""
    """A password or a personal access token (Argo CD stores both in ``password``)."""
    bearer_token: str = ""
    """Sent as ``Authorization: Bearer``; Argo CD's ``bearerToken`` (Bitbucket Data Center)."""
    ssh_private_key: str = ""
    insecure: bool = False
    """Skip TLS verification (Argo CD's ``insecure``)."""
    insecure_ignore_host_key: bool = False
    """Accept any SSH host key (Argo CD's ``insecureIgnoreHostKey``)."""
    enable_oci: bool = False
    """A Helm repository that is an OCI registry (Argo CD's ``enableOCI``)."""
    insecure_oci_force_http: bool = False
    """Reach an OCI registry over plain HTTP (Argo CD's ``insecureOCIForceHttp``)."""
    source: str = ""
    """``namespace/name`` of the Secret it came from, for messages."""

    @property
    def has_credentials(self) -> bool:
        """Whether any secret is set (a repository Secret may only declare the URL)."""
        return bool(self.username or self.password or self.bearer_token or self.ssh_private_key)

    def __repr__(self) -> str:
        shown = {
            "url": redact_url(self.url),
            "type": self.type,
            "username": self.username,
            "password": "<set>" if self.password else "",
            "bearer_token": "<set>" if self.bearer_token else "",
            "ssh_private_key": "<set>" if self.ssh_private_key else "",
            "insecure": self.insecure,
            "insecure_ignore_host_key": self.insecure_ignore_host_key,
            "enable_oci": self.enable_oci,
            "insecure_oci_force_http": self.insecure_oci_force_http,
            "source": self.source,
        }
        return "RepoCredentials(" + ", ".join(f"{k}={v!r}" for k, v in shown.items()) + ")"

    __str__ = __repr__

    def with_secrets_of(self, template: RepoCredentials) -> RepoCredentials:
        """This repository with the secret fields of a matching template (Argo CD's inheritance)."""
        return dataclasses.replace(
            self,
            username=template.username,
            password=template.password,
            bearer_token=template.bearer_token,
            ssh_private_key=template.ssh_private_key,
            insecure=self.insecure or template.insecure,
            insecure_ignore_host_key=self.insecure_ignore_host_key
            or template.insecure_ignore_host_key,
            enable_oci=self.enable_oci or template.enable_oci,
            insecure_oci_force_http=self.insecure_oci_force_http
            or template.insecure_oci_force_http,
        )


def from_secret(secret: Mapping[str, Any]) -> tuple[str, RepoCredentials] | None:
    """Decode one Secret into ``(secret type, credentials)``; ``None`` if it is not a repo Secret.

    ``stringData`` wins over ``data`` field by field, as the API server merges them on write.

    Raises:
        InvalidInputError: a labelled Secret without ``url`` or with bad base64; the message names
            the Secret and the field, never a value.
    """
    metadata = secret.get("metadata") or {}
    kind = (metadata.get("labels") or {}).get(SECRET_TYPE_LABEL)
    if kind not in SECRET_TYPES:
        return None
    source = secretdata.source_of(secret)
    fields = secretdata.fields_of(secret, "repository")
    url = fields.get("url", "").strip()
    if not url:
        raise InvalidInputError(f"repository Secret {source} has no url")
    repo_type = fields.get("type", "").strip() or "git"
    if repo_type not in REPO_TYPES:
        raise InvalidInputError(f"repository Secret {source}: unknown type {repo_type!r}")
    for field, why in NOT_HONOURED.items():
        if fields.get(field, "").strip().lower() not in _FALSE:
            raise InvalidInputError(f"repository Secret {source}: {field} is not honoured ({why})")
    registry = repo_type == "helm" and oci_reference(url, repo_type) is not None
    for flag in OCI_ONLY:
        if fields.get(flag, "").strip().lower() in _TRUE and not registry:
            raise InvalidInputError(
                f"repository Secret {source}: {flag} needs type helm and a url without a scheme "
                "(registry/path) or with oci://"
            )
    if repo_type == "helm":
        for field, why in NOT_FOR_HELM.items():
            if fields.get(field, "").strip():
                raise InvalidInputError(f"repository Secret {source}: {field} {why}")
    enable_oci = fields.get("enableOCI", "").strip().lower() in _TRUE
    return kind, RepoCredentials(
        url=url,
        type=repo_type,
        name=fields.get("name", ""),
        project=fields.get("project", ""),
        username=fields.get("username", ""),
        password=fields.get("password", ""),
        bearer_token=fields.get("bearerToken", ""),
        ssh_private_key=fields.get("sshPrivateKey", ""),
        insecure=fields.get("insecure", "").strip().lower() in _TRUE,
        insecure_ignore_host_key=fields.get("insecureIgnoreHostKey", "").strip().lower() in _TRUE,
        enable_oci=enable_oci,
        insecure_oci_force_http=fields.get("insecureOCIForceHttp", "").strip().lower() in _TRUE,
        source=source,
    )


@dataclasses.dataclass(frozen=True)
class CredentialStore:
    """Every repository and template known at one moment; rebuilt, never mutated, on change."""

    repositories: tuple[RepoCredentials, ...] = ()
    templates: tuple[RepoCredentials, ...] = ()

    @classmethod
    def from_secrets(cls, secrets: Iterable[Mapping[str, Any]]) -> CredentialStore:
        """Build the store from Secrets; unlabelled ones are skipped, bad ones raise."""
        repositories: list[RepoCredentials] = []
        templates: list[RepoCredentials] = []
        for secret in secrets:
            decoded = from_secret(secret)
            if decoded is None:
                continue
            kind, creds = decoded
            (repositories if kind == "repository" else templates).append(creds)
        return cls(tuple(repositories), tuple(templates))

    def lookup(self, url: str, repo_type: str = "git", project: str = "") -> RepoCredentials | None:
        """The credentials for ``url`` as used by an app of ``project``.

        Its repository Secret first, else the template whose URL covers it with the most path
        segments (same scheme and host, whole segments: a template for ``https://h/org`` serves
        ``https://h/org/app`` but neither ``https://h/organisation`` nor ``https://h.evil``).
        A Secret with a ``project`` serves only that project's apps, and wins over a global one
        for them. A repository Secret without secrets of its own inherits them from the template.
        """
        repo = self._repository_for(url, repo_type, project)
        template = self._template_for(url, repo_type, project)
        if repo is not None:
            if not repo.has_credentials and template is not None:
                return repo.with_secrets_of(template)
            return repo
        if template is None:
            return None
        return dataclasses.replace(template, url=url)

    def subset_for(
        self, urls: Iterable[str], repo_type: str = "git", project: str = ""
    ) -> CredentialStore:
        """Only the entries ``lookup`` picks for ``urls`` as an app of ``project`` uses them.

        What a repo-server is handed with one render: it answers ``lookup`` for those URLs exactly
        as this store does (entries keep their order, so ties fall the same way), and holds
        nothing of any other repository or project. A URL counts with and without its userinfo,
        as the Git adapter looks credentials up by the URL it fetches from.
        """
        repositories: set[int] = set()
        templates: set[int] = set()
        for given in urls:
            try:
                bare = split_userinfo(given)[0]
            except ValueError:
                bare = given
            for url in {given, bare}:
                repo = self._repository_for(url, repo_type, project)
                template = self._template_for(url, repo_type, project)
                if repo is not None:
                    repositories.add(id(repo))
                if template is not None and (repo is None or not repo.has_credentials):
                    templates.add(id(template))
        return CredentialStore(
            tuple(r for r in self.repositories if id(r) in repositories),
            tuple(t for t in self.templates if id(t) in templates),
        )

    def _repository_for(self, url: str, repo_type: str, project: str) -> RepoCredentials | None:
        """The repository Secret for ``url``: the project's own first, then a global one."""
        key = normalize_url(_canonical(url, repo_type))
        repositories = [
            r
            for r in self.repositories
            if r.type == repo_type
            and normalize_url(_canonical(r.url, repo_type)) == key
            and r.project in ("", project)
        ]
        repositories.sort(key=lambda r: not r.project)  # the project's own first
        return repositories[0] if repositories else None

    def _template_for(self, url: str, repo_type: str, project: str) -> RepoCredentials | None:
        target = _segments(_canonical(url, repo_type))
        best: tuple[bool, int] | None = None
        chosen: RepoCredentials | None = None
        for template in self.templates:
            if template.type != repo_type or template.project not in ("", project):
                continue
            prefix = _segments(_canonical(template.url, repo_type))
            if target is None or prefix is None or not _covers(prefix, target):
                continue
            rank = (bool(template.project), len(prefix[2]))
            if best is None or rank > best:
                best, chosen = rank, template
        return chosen

    def visible_to(self, repo_type: str, project: str) -> CredentialStore:
        """Every entry of ``repo_type`` an app of ``project`` may use, in order.

        What a repo-server is handed for Helm: a chart's dependencies are only known once its
        Chart.yaml is read there, so it gets every Helm repository the project could name.
        """
        return CredentialStore(
            tuple(
                r for r in self.repositories if r.type == repo_type and r.project in ("", project)
            ),
            tuple(t for t in self.templates if t.type == repo_type and t.project in ("", project)),
        )

    def merged(self, other: CredentialStore) -> CredentialStore:
        """This store's entries, then ``other``'s (lookups filter by type, so types never mix)."""
        return CredentialStore(
            self.repositories + other.repositories, self.templates + other.templates
        )

    def secret_values(self) -> frozenset[str]:
        """Every secret any credential holds, for scrubbing messages."""
        return frozenset(
            value
            for creds in (*self.repositories, *self.templates)
            for value in (creds.password, creds.bearer_token, creds.ssh_private_key)
            if value
        )


def oci_reference(url: str, repo_type: str = "helm") -> str | None:
    """``host[:port]/path`` of a Helm OCI registry URL, ``None`` for any other URL.

    ``oci://registry/path`` is one; so is ``registry/path`` without a scheme (Argo CD's form with
    ``enableOCI``), since a Helm repository reached over HTTP always has ``http(s)://``.
    """
    if repo_type != "helm":
        return None
    text = url.strip()
    if text[:6].lower() == "oci://":
        return text[6:].rstrip("/")
    if "://" in text:
        return None
    return text.rstrip("/")


def _canonical(url: str, repo_type: str) -> str:
    """The form lookups compare: a Helm OCI registry as ``oci://...``, however it is written."""
    reference = oci_reference(url, repo_type)
    return url if reference is None else "oci://" + reference


def normalize_url(url: str) -> str:
    """Argo CD's comparison form: lower case, no trailing ``/`` or ``.git``, scp-style as ssh://."""
    text = url.strip().lower()
    m = _SCP_LIKE.match(text)
    if m is not None and "://" not in text:
        text = f"ssh://{m.group('user') or ''}{m.group('host')}/{m.group('path').lstrip('/')}"
    text = text.rstrip("/")
    return text.removesuffix(".git")


def _segments(url: str) -> tuple[str, str, tuple[str, ...]] | None:
    """``(scheme, host:port, path segments)`` of a URL in comparison form; ``None`` if unparsable.

    Argo CD matches templates by string prefix, so ``https://git.example.com`` also served
    ``https://git.example.com.evil.net``; tether compares whole parts instead.
    """
    try:
        parts = urllib.parse.urlsplit(normalize_url(url))
        port = parts.port
    except ValueError:
        return None
    if not parts.scheme or not parts.hostname:
        return None
    host = parts.hostname + (f":{port}" if port else "")
    return parts.scheme, host, tuple(s for s in parts.path.split("/") if s)


def _covers(
    prefix: tuple[str, str, tuple[str, ...]], target: tuple[str, str, tuple[str, ...]]
) -> bool:
    return prefix[:2] == target[:2] and target[2][: len(prefix[2])] == prefix[2]


def split_userinfo(url: str) -> tuple[str, str, str]:
    """``(url without userinfo, username, password)`` for URLs with a ``scheme://`` part."""
    parts = urllib.parse.urlsplit(url)
    if not parts.scheme or "@" not in parts.netloc:
        return url, "", ""
    userinfo, _, hostport = parts.netloc.rpartition("@")
    user, _, password = userinfo.partition(":")
    bare = urllib.parse.urlunsplit(parts._replace(netloc=hostport))
    return bare, urllib.parse.unquote(user), urllib.parse.unquote(password)


def redact_url(url: str) -> str:
    """The URL fit for a message: all userinfo dropped, since a username may be a token too."""
    try:
        return split_userinfo(url)[0]
    except ValueError:
        return "<unparsable URL>"
