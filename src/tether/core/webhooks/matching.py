"""Which Applications a push concerns: its repository, a revision it moved, a watched file.

Watched files are the app's ``manifest-generate-paths``, when it lists any.

Any one source matching is enough. Helm chart sources never match: a Git push changes no chart
repository.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Sequence

from tether.core.sources import generatepaths, repocreds, semver
from tether.core.webhooks.events import Push
from tether.model.application import Application
from tether.model.errors import InvalidInputError
from tether.model.source import ApplicationSource

REF_PREFIXES = ("refs/heads/", "refs/tags/")
"""A targetRevision may spell a branch or a tag in full; a push names them without the prefix."""

REPO_SCHEMES: dict[str, str] = {
    # scheme a repoURL may use -> why a payload's web URL names the same repository
    "http": "the host's web and smart-HTTP Git share host and path",
    "https": "as http",
    "ssh": "hosts serve SSH clones at the same path (GitHub's ssh.github.com:443 included)",
    "git": "the Git daemon's protocol; tether's addition, Argo CD only knows the three above",
}

HEAD_REVISIONS = ("", "HEAD")
"""Revisions that follow the default branch: only a push to it concerns them."""


def repo_pattern(url: str) -> re.Pattern[str] | None:
    """The repoURLs that name the repository a payload's ``url`` names, as a pattern.

    Any scheme of ``REPO_SCHEMES`` or none, any user, an ``ssh.`` or ``altssh.`` host prefix,
    any port, ``:`` or ``/`` before the path, a trailing ``.git``; the host and the path are
    exact and case is ignored. ``None`` when ``url`` names no host and path.
    """
    try:
        parts = urllib.parse.urlsplit(repocreds.normalize_url(url))
        host = parts.hostname or ""
    except ValueError:
        return None
    path = parts.path.strip("/")
    if not host or not path:
        return None
    return re.compile(
        rf"(?:(?:{'|'.join(REPO_SCHEMES)})://)?(?:[^@/]+@)?(?:(?:alt)?ssh\.)?"
        rf"{re.escape(host)}(?::\d+)?[:/]{re.escape(path)}(?:\.git)?",
        re.IGNORECASE,
    )


def revision_matches(target: str | None, push: Push) -> bool:
    """Whether a source tracking ``target`` is moved by ``push``.

    ``HEAD`` (or nothing) follows the default branch; a full ``refs/heads/`` or ``refs/tags/``
    name is compared without its prefix; otherwise the names must be equal, or ``target`` is a
    semver constraint the pushed ref, read as a version, satisfies (``1.*`` and ``v1.1.0``).
    """
    wanted = (target or "").strip()
    if wanted in HEAD_REVISIONS:
        return push.touched_head
    for prefix in REF_PREFIXES:
        if wanted.startswith(prefix):
            wanted = wanted[len(prefix) :]
            break
    if wanted == push.revision:
        return True
    version = semver.parse_version(push.revision)
    if version is None:
        return False
    try:
        return semver.parse_constraint(wanted).allows(version)
    except InvalidInputError:
        return False


class Matcher:
    """One push, ready to be asked about many Applications."""

    def __init__(self, push: Push) -> None:
        self.push = push
        self._patterns = [p for p in (repo_pattern(url) for url in push.repo_urls) if p]

    def names_repo(self, repo_url: str) -> bool:
        """Whether the push is to the repository ``repo_url`` names."""
        url = repo_url.strip()
        return any(pattern.fullmatch(url) for pattern in self._patterns)

    def moves(self, source: ApplicationSource, watched: Sequence[str]) -> bool:
        """Whether the push changes what ``source`` renders."""
        if source.is_helm_chart or not self.names_repo(source.repo_url):
            return False
        if not revision_matches(source.target_revision, self.push):
            return False
        if not watched or not self.push.changed_files:
            return True  # nothing says which files matter, or the push does not say which changed
        return generatepaths.touches(self.push.changed_files, source.path or "", watched)

    def concerns(self, app: Application) -> bool:
        """Whether ``app`` should be refreshed: any one of its sources is moved by the push.

        Watched paths are read relative to the moved source's path only (Argo CD joins them
        with every source's path, so a file of one repository could count for another's).
        """
        watched = generatepaths.watched_paths(app.metadata.annotations or {})
        return any(self.moves(source, watched) for source in app.spec.effective_sources())
