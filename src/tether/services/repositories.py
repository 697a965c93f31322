"""Repository Secrets as the API edits them: read them by URL, write one whole, delete one.

The Secrets are Argo CD's (label ``argocd.argoproj.io/secret-type: repository``), the ones the
controller reads its Git and Helm credentials from (``services.credentials``), so either tool
can read what the other wrote. Only the fields tether honours may be written (``FIELDS``).
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
from collections.abc import Mapping
from typing import Any

from tether import ports
from tether.core.sources import repocreds
from tether.model import secretdata
from tether.model.errors import InvalidInputError
from tether.model.resources import metadata_of

SECRET_TYPE = "repository"

FIELDS: dict[str, str] = {
    # Secret key: what it means to tether (services.credentials reads each of them).
    "url": "the repository's URL, its identity",
    "type": "git or helm; credentials never cross from one to the other",
    "name": "a display name",
    "project": "the AppProject whose apps alone may use these credentials",
    "username": "HTTPS basic-auth user",
    "password": "HTTPS password or token (write-only)",
    "bearerToken": "HTTPS bearer token (write-only)",
    "sshPrivateKey": "SSH key (write-only)",
    "insecure": "skip TLS verification",
    "insecureIgnoreHostKey": "accept any SSH host key",
    "enableOCI": "a Helm repository that is an OCI registry (url without scheme or oci://)",
    "insecureOCIForceHttp": "reach that OCI registry over plain HTTP",
}
"""The repository Secret's keys tether reads; any other is refused on write."""

WRITE_ONLY = frozenset({"password", "bearerToken", "sshPrivateKey"})
"""Keys never sent back to a caller (Argo CD's ``Repository.Sanitized``)."""


@dataclasses.dataclass(frozen=True)
class StoredRepo:
    """One repository Secret and its decoded fields."""

    secret: Mapping[str, Any]
    fields: Mapping[str, str]

    @property
    def url(self) -> str:
        """The repository URL."""
        return self.fields.get("url", "")

    @property
    def project(self) -> str:
        """The project it is scoped to (``""``: every project)."""
        return self.fields.get("project", "")

    @property
    def name(self) -> str:
        """The Secret's name."""
        return str(metadata_of(self.secret).get("name", ""))


async def stored(cluster: ports.Cluster, namespace: str) -> list[StoredRepo]:
    """Every readable repository Secret of ``namespace`` (malformed ones skipped)."""
    secrets, _ = await cluster.list("v1", "Secret", namespace)
    found = []
    for secret in secrets:
        if secretdata.secret_type(secret) != SECRET_TYPE:
            continue
        try:
            fields = secretdata.fields_of(secret, "repository")
        except InvalidInputError:
            continue
        if fields.get("url"):
            found.append(StoredRepo(secret, fields))
    return sorted(found, key=lambda r: (r.url, r.project))


def find(repos: list[StoredRepo], url: str, project: str | None = None) -> StoredRepo | None:
    """The Secret of ``url`` (normalised as the controller matches it), in ``project`` if given."""
    wanted = repocreds.normalize_url(url)
    for repo in repos:
        if repocreds.normalize_url(repo.url) == wanted and project in (None, repo.project):
            return repo
    return None


def secret_name(url: str, project: str) -> str:
    """``repo-<hash>``: stable per URL and project, as Argo CD names its repository Secrets."""
    return "repo-" + hashlib.sha256(f"{project}\n{url}".encode()).hexdigest()[:10]


def secret_for(fields: Mapping[str, str], namespace: str, name: str) -> dict[str, Any]:
    """The repository Secret holding ``fields`` (empty ones left out).

    Raises:
        InvalidInputError: a key tether does not read, or a Secret the controller would refuse.
    """
    unknown = sorted(set(fields) - set(FIELDS))
    if unknown:
        raise InvalidInputError(f"repository field {unknown[0]} is not supported by tether")
    data = {k: base64.b64encode(v.encode()).decode() for k, v in sorted(fields.items()) if v}
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {secretdata.SECRET_TYPE_LABEL: SECRET_TYPE},
        },
        "type": "Opaque",
        "data": data,
    }
    repocreds.from_secret(secret)  # refuses what the controller would refuse
    return secret


async def write(
    cluster: ports.Cluster,
    namespace: str,
    fields: Mapping[str, str],
    existing: StoredRepo | None,
    *,
    field_manager: str,
) -> StoredRepo:
    """Create the repository Secret, or replace ``existing``'s content whole."""
    if existing is None:
        secret = secret_for(
            fields, namespace, secret_name(fields["url"], fields.get("project", ""))
        )
        written = await cluster.create(secret, field_manager=field_manager)
    else:
        secret = secret_for(fields, namespace, existing.name)
        kept = {k: v for k, v in metadata_of(existing.secret).items() if k != "managedFields"}
        secret["metadata"] = {
            **kept,
            "labels": {**(kept.get("labels") or {}), **secret["metadata"]["labels"]},
        }
        written = await cluster.update(secret, field_manager=field_manager)
    return StoredRepo(written, secretdata.fields_of(written, "repository"))


async def delete(cluster: ports.Cluster, repo: StoredRepo) -> None:
    """Delete the repository's Secret."""
    meta = metadata_of(repo.secret)
    await cluster.delete(
        "v1", "Secret", str(meta.get("name")), str(meta.get("namespace")), propagation="Background"
    )
