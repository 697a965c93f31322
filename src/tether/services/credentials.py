"""Repository credentials: the controller's, from Argo CD-format Secrets, and a repo-server's.

The controller reads its Secrets whole on every change and swaps them in at once; a malformed
Secret is skipped and named, never quoted, and the others keep working. A repo-server has no
Secrets: each render request brings the few entries it needs, which live for that request only.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from tether.core.sources import repocreds
from tether.model import secretdata
from tether.model.application import Application
from tether.model.errors import TetherError


class RepoCredentials:
    """The credentials the Git adapter and helm's pulls ask for by URL; reloaded from Secrets."""

    def __init__(self) -> None:
        self._store = repocreds.CredentialStore()
        self.problems: list[str] = []
        """Why Secrets were skipped at the last load, one message each."""

    def lookup(self, url: str, project: str = "") -> repocreds.RepoCredentials | None:
        """The credentials for a Git repository URL as an app of ``project`` uses it."""
        return self._store.lookup(url, "git", project)

    def lookup_helm(self, url: str, project: str = "") -> repocreds.RepoCredentials | None:
        """A Helm repository's or OCI registry's credentials (``type: helm``) for ``project``."""
        return self._store.lookup(url, "helm", project)

    def secret_values(self) -> frozenset[str]:
        """Every secret the credentials hold, for scrubbing messages."""
        return self._store.secret_values()

    def for_application(self, app: Application) -> repocreds.CredentialStore:
        """Only what rendering ``app`` may use, as its project sees them.

        Its Git sources' entries, and the Helm repositories its project may use: a chart's
        remote dependencies are only known from its Chart.yaml, read where it renders (Argo CD
        hands its repo-server the project's Helm repositories for the same reason). What the
        controller hands a repo-server with the render request.
        """
        project = app.spec.project_name
        urls = [s.repo_url for s in app.effective_sources() if not s.is_helm_chart]
        git = self._store.subset_for(urls, "git", project)
        return git.merged(self._store.visible_to("helm", project))

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

    def load_labelled(self, secrets: Sequence[Mapping[str, Any]]) -> list[str]:
        """Rebuild from the repository Secrets among ``secrets``; returns the problems found."""
        wanted = [s for s in secrets if secretdata.secret_type(s) in repocreds.SECRET_TYPES]
        self.load(wanted)
        return list(self.problems)


class RequestCredentials:
    """A repo-server's credentials: those its current request brought, and nobody else's.

    The Git adapter's lookup answers from a context variable set around each request, so two
    renders running at once (each in its own task, with its own context) never see each other's.
    """

    def __init__(self) -> None:
        # No default: outside a request there are no credentials at all.
        self._current: contextvars.ContextVar[repocreds.CredentialStore | None] = (
            contextvars.ContextVar("tether_request_credentials", default=None)
        )

    def lookup(self, url: str, project: str = "") -> repocreds.RepoCredentials | None:
        """The credentials for a Git repository URL, from the current request's entries only."""
        store = self._current.get()
        return None if store is None else store.lookup(url, "git", project)

    def lookup_helm(self, url: str, project: str = "") -> repocreds.RepoCredentials | None:
        """The credentials for a Helm repository, from the current request's entries only."""
        store = self._current.get()
        return None if store is None else store.lookup(url, "helm", project)

    def secret_values(self) -> frozenset[str]:
        """Every secret the current request brought, for scrubbing what goes back and to logs."""
        store = self._current.get()
        return frozenset() if store is None else store.secret_values()

    @contextlib.contextmanager
    def scoped(self, store: repocreds.CredentialStore) -> Iterator[None]:
        """Make ``store`` the credentials of everything run inside this block (and its tasks)."""
        token = self._current.set(store)
        try:
            yield
        finally:
            self._current.reset(token)
