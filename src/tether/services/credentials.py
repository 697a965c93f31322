"""Repository credentials from Argo CD-format Secrets in the control-plane namespace.

Read whole on every change of those Secrets and swapped in at once; a malformed Secret is skipped
and named, never quoted, and the others keep working.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tether import ports
from tether.core.sources import repocreds
from tether.model.errors import TetherError


class RepoCredentials:
    """The credentials the Git adapter asks for by URL; reloaded from Secrets."""

    def __init__(self) -> None:
        self._store = repocreds.CredentialStore()
        self.problems: list[str] = []
        """Why Secrets were skipped at the last load, one message each."""

    def lookup(self, url: str, project: str = "") -> repocreds.RepoCredentials | None:
        """The credentials for a Git repository URL as an app of ``project`` uses it."""
        return self._store.lookup(url, "git", project)

    def secret_values(self) -> frozenset[str]:
        """Every secret the credentials hold, for scrubbing messages."""
        return self._store.secret_values()

    def load(self, secrets: Sequence[Mapping[str, Any]]) -> None:
        """Rebuild from Secrets; a malformed one is skipped and named, never quoted."""
        good: list[Mapping[str, Any]] = []
        problems = []
        for secret in secrets:
            try:
                repocreds.CredentialStore.from_secrets([secret])
            except TetherError as err:
                name = (secret.get("metadata") or {}).get("name", "?")
                problems.append(f"repository Secret {name}: {err}")
                continue
            good.append(secret)
        self._store = repocreds.CredentialStore.from_secrets(good)
        self.problems = problems

    async def reload(self, cluster: ports.Cluster, namespace: str) -> list[str]:
        """Read the repository Secrets of ``namespace`` again; returns the problems found."""
        secrets, _ = await cluster.list("v1", "Secret", namespace)
        wanted = [s for s in secrets if _credential_type(s) in repocreds.SECRET_TYPES]
        self.load(wanted)
        return list(self.problems)


def _credential_type(secret: Mapping[str, Any]) -> str:
    labels = (secret.get("metadata") or {}).get("labels") or {}
    return str(labels.get(repocreds.SECRET_TYPE_LABEL, ""))
