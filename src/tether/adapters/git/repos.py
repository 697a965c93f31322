"""``GitRepos`` over bare mirrors: resolve revisions, materialise commits read-only, diff them.

Layout under the cache directory: ``repos/<key>.git`` (one bare mirror per repository URL, key a
hash of the URL without userinfo), ``trees/<key>-<sha>`` (read-only trees, created by an atomic
rename so readers never see half a tree), ``bin/git-askpass`` (the credential helper, no secrets).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import fcntl
import hashlib
import logging
import os
import shutil
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Sequence

import cachetools

from tether.adapters import _disk, _process
from tether.adapters._network import resolve_host
from tether.adapters.commandline import CommandLine
from tether.adapters.git import auth, commits, failures, lsremote, trees, urls
from tether.core.sources import remote, renderconfig, repocreds
from tether.model.errors import GitError
from tether.model.revisions import RevisionMetadata

log = logging.getLogger(__name__)

RESOLVE_TTL_S = 180.0
"""How long a listing of a remote's refs is trusted: Argo CD polls Git every 3 minutes."""

LOCK_WAIT_S = 300.0
"""How long to wait for another process's fetch of the same repository before giving up."""

TREE_MIN_IDLE_S = 3600.0
"""A tree unused for an hour is safe to delete: no render holds a checkout that long."""

MIRROR_REFSPECS = ("+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*")
"""What every fetch mirrors; other refs (``refs/pull/7/head``) are fetched one by one on demand."""

MIRROR_ATTRIBUTES = "* -export-ignore -export-subst\n"
"""``info/attributes`` of every mirror: ``git archive`` must hand over the tree exactly as
committed, so a repository's own ``.gitattributes`` cannot hide files or rewrite them."""

CredentialLookup = Callable[[str, str], "repocreds.RepoCredentials | None"]
"""Credentials for a repository URL as an app of a project uses it, e.g.
``RepoCredentials.lookup(url, project)``."""

COMMITS_KEPT = 1024
"""Commits described (revision metadata) kept in memory, a few hundred bytes each."""
COMMIT_TTL_S = 300.0
"""How long a commit's description is reused: its tags are the only part that can change."""


@dataclasses.dataclass
class FetchStats:
    """Counters per repository, for metrics and for tests that check fetches are serialised."""

    fetches: int = 0
    in_flight: int = 0
    peak_in_flight: int = 0
    ls_remotes: int = 0


@dataclasses.dataclass(frozen=True)
class _Refs:
    at: float
    refs: dict[str, str]
    generation: int


class MirrorCache:
    """Implements ``ports.GitRepos`` with the git CLI, one bare mirror per repository."""

    def __init__(
        self,
        cache_dir: str,
        *,
        credentials: CredentialLookup | None = None,
        trust: renderconfig.HostTrust | Callable[[], renderconfig.HostTrust] = (
            renderconfig.NO_TRUST
        ),
        allow_local: bool = False,
        resolve_ttl: float | Callable[[], float] = RESOLVE_TTL_S,
        timeout: float = _process.DEFAULT_TIMEOUT_S,
        git: str = "git",
        clock: Callable[[], float] = time.monotonic,
        observe: Callable[[str, str, float], None] | None = None,
    ) -> None:
        """Create (or reuse) the cache under ``cache_dir``.

        Args:
            cache_dir: Directory for mirrors and trees; created if missing.
            credentials: Looks up credentials by repository URL; ``None`` means anonymous.
            trust: SSH host keys and per-host TLS CAs, or a function giving the current ones
                (asked on every call, so a changed ConfigMap applies without a restart).
            allow_local: Permit ``file://`` URLs and absolute paths (development and tests).
            resolve_ttl: Seconds a remote's ref listing is reused without ``refresh`` (or what
                says it now: it follows the resync period, which may change while running).
            timeout: Seconds any single git call may take.
            git: The git binary.
            clock: Monotonic seconds, for the TTL.
            observe: Hears each remote request: the repository (as displayed, without
                credentials), ``ls-remote`` or ``fetch``, and the seconds it took.
        """
        self._root = os.path.abspath(cache_dir)
        self._repos_dir = os.path.join(self._root, "repos")
        self._trees_dir = os.path.join(self._root, "trees")
        for path in (self._root, self._repos_dir, self._trees_dir):
            os.makedirs(path, mode=0o700, exist_ok=True)
        self._askpass = auth.install_askpass(os.path.join(self._root, "bin"))
        self._credentials = credentials
        self._trust = trust if callable(trust) else (lambda: trust)
        # Repository URLs are the AppProject's to allow (a Git server on loopback is a normal
        # development setup); link-local and metadata addresses are never reached.
        self._network = remote.RemotePolicy(allow_loopback=True)
        self._allow_local = allow_local
        self._resolve_ttl = resolve_ttl
        self._timeout = timeout
        self._git = git
        self._clock = clock
        self._observe = observe
        self._commits: cachetools.TTLCache[tuple[urls.RepoURL, str], RevisionMetadata] = (
            cachetools.TTLCache(maxsize=COMMITS_KEPT, ttl=COMMIT_TTL_S, timer=clock)
        )
        self._fetch_locks: dict[str, asyncio.Lock] = {}
        self._refs_locks: dict[str, asyncio.Lock] = {}
        self._tree_locks: dict[str, asyncio.Lock] = {}
        self._refs: dict[str, _Refs] = {}
        self._listings_started: dict[str, int] = {}
        self._stats: dict[str, FetchStats] = {}
        self._known_commits: set[tuple[str, str]] = set()

    def _ttl(self) -> float:
        ttl = self._resolve_ttl
        return ttl() if callable(ttl) else ttl

    def stats(self, repo_url: str) -> FetchStats:
        """Fetch counters of one repository."""
        key = urls.parse_repo_url(repo_url, allow_local=self._allow_local).key
        return self._stats.setdefault(key, FetchStats())

    async def resolve(
        self, repo_url: str, revision: str, *, refresh: bool = False, project: str = ""
    ) -> str:
        """Resolve HEAD, a branch, a tag, a semver range, a ref or a (short) SHA to a full SHA.

        The commit is in the mirror when this returns, so ``checkout`` needs no network.
        Names are looked up as Argo CD does: a semver range over tags first, then ``HEAD``, a
        fully qualified ref, a branch, a tag (peeled), and last an abbreviated SHA.
        """
        repo = self._parse(repo_url, project)
        urls.check_revision(revision, repo.display)
        rev = revision.strip() or "HEAD"
        if urls.is_full_sha(rev.lower()):
            await self._ensure_commit(repo, rev.lower(), None, rev)
            return rev.lower()
        refs = await self._list_refs(repo, refresh)
        found, ref = lsremote.pick(refs, rev)
        if found is None and urls.is_short_sha(rev):
            found = await self._resolve_short(repo, rev)
        if found is None:
            raise GitError(
                f"revision {rev!r} not found in repository {repo.display!r}: unknown revision"
            )
        await self._ensure_commit(repo, found, ref, rev)
        return found

    async def checkout(self, repo_url: str, sha: str, *, project: str = "") -> str:
        """A read-only directory with the tree of ``sha``, materialised once and then reused."""
        repo = self._parse(repo_url, project)
        sha = self._full_sha(repo, sha)
        dest = os.path.join(self._trees_dir, f"{repo.key}-{sha}")
        if os.path.isdir(dest):
            _disk.touch(dest)
            return dest
        async with self._lock(self._tree_locks, f"{repo.key}-{sha}"):
            if os.path.isdir(dest):
                return dest
            await self._ensure_commit(repo, sha, None, sha)
            # Under the fetch lock: an archive racing a fetch of the same mirror failed under
            # load (git exit 255); an archive takes milliseconds, so readers barely wait.
            async with self._fetch_lock(repo):
                archive = await self._run(
                    repo,
                    self._git_command("archive", "--format=tar").positional(sha, field="sha"),
                    action="checkout of",
                    network=False,
                )
            tmp = tempfile.mkdtemp(dir=self._trees_dir, prefix=f".{repo.key}-{sha}.tmp-")
            try:
                await asyncio.to_thread(
                    trees.extract_read_only, archive.stdout, tmp, repo.display, sha
                )
                try:
                    os.utime(tmp)
                    os.rename(tmp, dest)
                except OSError:
                    if not os.path.isdir(dest):  # another process won the race: same content
                        raise
                    _disk.force_rmtree(tmp)
            except BaseException:
                _disk.force_rmtree(tmp)
                raise
        return dest

    async def commit(self, repo_url: str, sha: str, *, project: str = "") -> RevisionMetadata:
        """Author, date, tags and message of commit ``sha`` (fetched into the mirror if missing).

        Kept a few minutes per mirror: a live page asks again on every change of its app, and a
        commit never changes (only its tags may, and they may lag this long).
        """
        repo = self._parse(repo_url, project)
        sha = self._full_sha(repo, sha)
        found = self._commits.get((repo, sha))
        if found is not None:
            return found
        await self._ensure_commit(repo, sha, None, sha)
        done = await self._run(
            repo, commits.log_command(self._git, sha), action="reading", network=False
        )
        found = self._commits[(repo, sha)] = commits.parse(done.stdout)
        return found

    def prune_trees(self, keep: int, *, min_idle_s: float = TREE_MIN_IDLE_S) -> list[str]:
        """Delete the least recently used trees beyond the newest ``keep``; returns their paths.

        Trees used in the last ``min_idle_s`` seconds stay (a render may be reading them), as do
        the mirrors: they are the fetch cache.
        """
        return _disk.prune_least_recent(
            _disk.subdirectories(self._trees_dir), keep=keep, min_idle_s=min_idle_s, now=time.time()
        )

    async def changed_paths(
        self, repo_url: str, old_sha: str, new_sha: str, *, project: str = ""
    ) -> list[str]:
        """Paths added, changed or removed between two commits (both sides of a rename)."""
        repo = self._parse(repo_url, project)
        old, new = self._full_sha(repo, old_sha), self._full_sha(repo, new_sha)
        await self._ensure_commit(repo, old, None, old)
        await self._ensure_commit(repo, new, None, new)
        command = self._git_command(
            "diff", "--name-only", "-z", "--no-renames", "--no-ext-diff", "--no-textconv"
        )
        command.positional(old, field="sha").positional(new, field="sha")
        done = await self._run(repo, command, action="diff in", network=False)
        return [p for p in done.stdout.decode(errors="surrogateescape").split("\0") if p]

    # --- internals ---------------------------------------------------------------------------

    def _parse(self, repo_url: str, project: str = "") -> urls.RepoURL:
        """The repository as ``project`` reaches it.

        Credentials scoped to a project get a mirror (and trees) of their own, so a commit they
        fetched is never checked out for another project's app that has no such access.
        """
        repo = urls.parse_repo_url(repo_url, allow_local=self._allow_local)
        creds = self._credentials(repo.fetch_url, project) if self._credentials else None
        if creds is None or not creds.project:
            return repo
        scope = hashlib.sha256(creds.project.encode()).hexdigest()[:12]
        return dataclasses.replace(repo, key=f"{repo.key}-p{scope}", project=creds.project)

    def _full_sha(self, repo: urls.RepoURL, sha: str) -> str:
        if not urls.is_full_sha(sha.lower()):
            raise GitError(
                f"repository {repo.display!r}: {sha[:80]!r} is not a full commit SHA "
                "(resolve the revision first)"
            )
        return sha.lower()

    def _mirror(self, repo: urls.RepoURL) -> str:
        return os.path.join(self._repos_dir, f"{repo.key}.git")

    def _lock(self, locks: dict[str, asyncio.Lock], key: str) -> asyncio.Lock:
        return locks.setdefault(key, asyncio.Lock())

    def _git_command(self, *words: str) -> CommandLine:
        """A git command line whose arguments the caller appends (the mirror is set by ``_run``)."""
        return CommandLine(self._git, *words)

    async def _run(
        self,
        repo: urls.RepoURL,
        command: CommandLine,
        *,
        action: str,
        network: bool,
        check: bool = True,
    ) -> _process.Completed:
        mirror = self._mirror(repo)
        creds = self._lookup(repo) if network else None
        if network:
            self._refuse_address(repo)
        git, *args = command.argv
        argv = [git, f"--git-dir={mirror}", *args]
        trust = self._trust() if network else renderconfig.NO_TRUST
        with auth.git_env(
            repo,
            creds,
            askpass=self._askpass,
            known_hosts=trust.known_hosts,
            allow_local=self._allow_local,
            ca=trust.ca_for(repo.fetch_url),
        ) as env:
            try:
                return await _process.run(
                    argv, cwd=mirror, env=env, timeout=self._timeout, check=check
                )
            except _process.ProcessError as err:
                # ``from None``: the ProcessError holds git's raw stderr, which may echo secrets.
                raise failures.to_git_error(err, repo.display, action) from None
            except OSError:
                raise GitError(
                    f"{action} repository {repo.display!r} failed: git cannot run"
                ) from None

    def _refuse_address(self, repo: urls.RepoURL) -> None:
        """Never fetch from a link-local or cloud-metadata address."""
        host = remote.host_of(repo.fetch_url)
        if host:
            field = f"repository {repo.display!r}"
            remote.refuse_address(host, resolve_host(host), self._network, field)

    def _lookup(self, repo: urls.RepoURL) -> repocreds.RepoCredentials | None:
        if self._credentials is None:
            return None
        return self._credentials(repo.fetch_url, repo.project)

    async def _init_mirror(self, repo: urls.RepoURL) -> str:
        mirror = self._mirror(repo)
        if os.path.isdir(mirror):
            return mirror
        tmp = tempfile.mkdtemp(dir=self._repos_dir, prefix=f".{repo.key}.init-")
        try:
            done = await _process.run(
                CommandLine(self._git, "init", "--bare", "--quiet").positional(tmp, field="").argv,
                env=_process.base_env(
                    {"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}
                ),
                timeout=self._timeout,
                check=False,
            )
            if done.returncode != 0:
                raise GitError(f"could not create a mirror for repository {repo.display!r}")
            os.makedirs(os.path.join(tmp, "info"), exist_ok=True)
            with open(os.path.join(tmp, "info", "attributes"), "w", encoding="utf-8") as out:
                out.write(MIRROR_ATTRIBUTES)
            try:
                os.rename(tmp, mirror)
            except OSError:
                if not os.path.isdir(mirror):
                    raise
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return mirror

    async def _list_refs(self, repo: urls.RepoURL, refresh: bool) -> dict[str, str]:
        cached = self._refs.get(repo.key)
        if not refresh and cached is not None and self._clock() - cached.at < self._ttl():
            return cached.refs
        # Listings are numbered as they start; only one that started after this call asked is
        # fresh enough for a refresh. A burst of webhooks then costs two ls-remotes, not one each.
        asked = self._listings_started.get(repo.key, 0)
        async with self._lock(self._refs_locks, repo.key):
            cached = self._refs.get(repo.key)
            if cached is not None and (
                cached.generation >= asked
                or (not refresh and self._clock() - cached.at < self._ttl())
            ):
                return cached.refs
            generation = self._listings_started.get(repo.key, 0)
            self._listings_started[repo.key] = generation + 1
            await self._init_mirror(repo)
            self._stats.setdefault(repo.key, FetchStats()).ls_remotes += 1
            log.debug("listing refs of %s", repo.display)
            command = self._git_command("ls-remote").end_of_options()
            command.positional(repo.fetch_url, field="repoURL")
            async with self._observed(repo, "ls-remote"):
                done = await self._run(repo, command, action="listing refs of", network=True)
            refs = lsremote.parse(done.stdout)
            self._refs[repo.key] = _Refs(self._clock(), refs, generation)
            return refs

    async def _has_commit(self, repo: urls.RepoURL, sha: str) -> bool:
        # Commits are immutable and mirrors are never pruned: one seen stays, so a resync that
        # resolves the same commit again costs no git process.
        if (repo.key, sha) in self._known_commits:
            return True
        if not os.path.isdir(self._mirror(repo)):
            return False
        command = self._git_command("cat-file", "-e").positional(f"{sha}^{{commit}}", field="sha")
        done = await self._run(repo, command, action="reading", network=False, check=False)
        if done.returncode == 0:
            self._known_commits.add((repo.key, sha))
        return done.returncode == 0

    async def _ensure_commit(
        self, repo: urls.RepoURL, sha: str, ref: str | None, revision: str
    ) -> None:
        if await self._has_commit(repo, sha):
            return
        async with self._fetch_lock(repo):
            if await self._has_commit(repo, sha):
                return
            extra = (
                [f"+{ref}:{ref}"]
                if ref and not ref.startswith(("refs/heads/", "refs/tags/"))
                else []
            )
            await self._fetch(repo, [*MIRROR_REFSPECS, *extra])
            if await self._has_commit(repo, sha):
                return
            # Not on any branch or tag: servers that allow it hand over a commit by its SHA.
            with contextlib.suppress(GitError):
                await self._fetch(repo, [sha])
            if await self._has_commit(repo, sha):
                return
        raise GitError(
            f"revision {revision[:80]!r} not found in repository {repo.display!r}: unknown revision"
        )

    async def _resolve_short(self, repo: urls.RepoURL, short: str) -> str | None:
        for attempt in range(2):
            if attempt:
                async with self._fetch_lock(repo):
                    await self._fetch(repo, list(MIRROR_REFSPECS))
            command = self._git_command("rev-parse", "--verify", "--quiet")
            command.end_of_options("--end-of-options")
            command.positional(f"{short.lower()}^{{commit}}", field="targetRevision")
            done = await self._run(repo, command, action="reading", network=False, check=False)
            if done.returncode == 0:
                return done.stdout.decode().strip()
        return None

    async def _fetch(self, repo: urls.RepoURL, refspecs: Sequence[str]) -> None:
        """Fetch into the mirror; the caller holds the fetch lock."""
        stats = self._stats.setdefault(repo.key, FetchStats())
        stats.fetches += 1
        stats.in_flight += 1
        stats.peak_in_flight = max(stats.peak_in_flight, stats.in_flight)
        log.debug("fetching %s", repo.display)
        try:
            command = self._git_command(
                "fetch",
                "--quiet",
                "--prune",
                "--no-tags",
                "--no-write-fetch-head",
                "--no-recurse-submodules",
                "--no-auto-gc",
            ).end_of_options()
            command.positional(repo.fetch_url, field="repoURL")
            for refspec in refspecs:
                command.positional(refspec, field="targetRevision")
            async with self._observed(repo, "fetch"):
                await self._run(repo, command, action="fetching", network=True)
        finally:
            stats.in_flight -= 1

    @contextlib.asynccontextmanager
    async def _observed(self, repo: urls.RepoURL, request_type: str) -> AsyncIterator[None]:
        """Time one remote request for ``observe``, failed or not (Argo CD counts both)."""
        started = self._clock()
        try:
            yield
        finally:
            if self._observe is not None:
                self._observe(repo.display, request_type, self._clock() - started)

    @contextlib.asynccontextmanager
    async def _fetch_lock(self, repo: urls.RepoURL) -> AsyncIterator[None]:
        """One fetch per repository at a time: an asyncio lock here, ``flock`` across processes."""
        mirror = await self._init_mirror(repo)
        async with self._lock(self._fetch_locks, repo.key):
            fd = os.open(f"{mirror}.lock", os.O_RDWR | os.O_CREAT, 0o600)
            try:
                deadline = self._clock() + LOCK_WAIT_S
                while True:
                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                        break
                    except BlockingIOError:
                        if self._clock() > deadline:
                            raise GitError(
                                f"fetching repository {repo.display!r} failed: another process "
                                f"held its lock for {LOCK_WAIT_S:g}s"
                            ) from None
                        await asyncio.sleep(0.05)
                yield
            finally:
                os.close(fd)  # closing the descriptor releases the flock
