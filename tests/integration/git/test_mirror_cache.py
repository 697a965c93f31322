from __future__ import annotations

import asyncio
import base64
import fcntl
import logging
import os
import stat
import time
import urllib.parse
from pathlib import Path

import pytest

from tests.integration.git.conftest import GitServers
from tests.support import gitservers
from tether.adapters import _process
from tether.adapters.git import MirrorCache, repos, urls
from tether.core.sources import renderconfig, repocreds
from tether.model.errors import GitError

pytestmark = pytest.mark.timeout(90)


def git_lookup(store: repocreds.CredentialStore):
    """The store as the mirror cache asks it: by URL and project, for Git."""
    return lambda url, project: store.lookup(url, "git", project)


def credential_store(servers: GitServers, *, password: str | None = None, key: str | None = None):
    """Argo CD-format Secrets: a template for the private HTTP path, a repository for SSH."""
    return repocreds.CredentialStore.from_secrets(
        [
            {
                "metadata": {
                    "name": "http-creds",
                    "namespace": "tether",
                    "labels": {repocreds.SECRET_TYPE_LABEL: "repo-creds"},
                },
                "stringData": {
                    "url": servers.http.url("private/"),
                    "username": servers.http.username,
                    "password": password if password is not None else servers.http.password,
                },
            },
            {
                "metadata": {
                    "name": "ssh-repo",
                    "namespace": "tether",
                    "labels": {repocreds.SECRET_TYPE_LABEL: "repository"},
                },
                "stringData": {
                    "url": servers.ssh_url,
                    "sshPrivateKey": key if key is not None else servers.ssh.client_key,
                },
            },
        ]
    )


@pytest.fixture
def cache(tmp_path: Path, git_servers: GitServers) -> MirrorCache:
    return MirrorCache(
        str(tmp_path / "cache"),
        credentials=git_lookup(credential_store(git_servers)),
        trust=renderconfig.HostTrust(known_hosts=git_servers.ssh.known_hosts),
        timeout=30,
    )


@pytest.fixture
def logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    return caplog


def assert_no_secret(servers: GitServers, *texts: str) -> None:
    """The sensitive-string sweep: raw, base64 and URL-encoded forms of every secret."""
    password = servers.http.password
    secrets = [
        password,
        base64.b64encode(password.encode()).decode(),
        base64.b64encode(f"{servers.http.username}:{password}".encode()).decode(),
        urllib.parse.quote(password, safe=""),
        "canary",
        *servers.ssh.client_key.splitlines()[1:-1],
    ]
    for text in texts:
        for secret in secrets:
            assert secret not in text


def files_under(root: str) -> dict[str, str]:
    out = {}
    for dirpath, _, names in os.walk(root):
        for name in names:
            path = os.path.join(dirpath, name)
            out[os.path.relpath(path, root)] = Path(path).read_text()
    return out


@pytest.mark.parametrize("which", ["http_public", "http_private", "ssh_url", "git_url"])
async def test_each_protocol_resolves_head_and_checks_out_a_read_only_tree(
    cache, git_servers, which, logs
):
    url = getattr(git_servers, which)
    sha = await cache.resolve(url, "HEAD")
    assert sha == git_servers.seed.shas["c5"]
    tree = await cache.checkout(url, sha)
    assert files_under(tree) == {
        "README.md": "seed\n",
        "app/deploy.yaml": "replicas: 3\n",
        "app/config.yaml": "debug: false\n",
    }
    for dirpath, dirs, names in os.walk(tree):
        for name in [*dirs, *names]:
            assert os.stat(os.path.join(dirpath, name)).st_mode & 0o222 == 0
    assert await cache.checkout(url, sha) == tree
    assert_no_secret(git_servers, tree, *(r.getMessage() for r in logs.records))


@pytest.mark.parametrize(
    ("revision", "label"),
    [
        ("main", "c5"),
        ("", "c5"),
        ("dev", "dev1"),
        ("v1.0.0", "c1"),
        ("v1.1.0", "c2"),  # annotated: peeled to the commit
        ("refs/heads/dev", "dev1"),
        ("refs/tags/v2.0.0", "c5"),
        ("refs/pull/7/head", "pr7"),
    ],
)
async def test_branches_tags_and_qualified_refs_resolve_to_commits(
    cache, git_servers, revision, label
):
    sha = await cache.resolve(git_servers.http_public, revision)
    assert sha == git_servers.seed.shas[label]


@pytest.mark.parametrize(
    ("constraint", "label"),
    [
        ("1.x", "c3"),
        (">=1.0.0 <2.0.0", "c3"),
        ("~1.1", "c2"),
        ("^1.1", "c3"),
        ("1.0 - 1.1", "c2"),
        ("*", "c5"),
        ("*-0", "c5"),
        (">=1.3.0-0, <1.3.1-0", "c4"),
    ],
)
async def test_semver_constraints_pick_the_highest_matching_tag(
    cache, git_servers, constraint, label
):
    assert await cache.resolve(git_servers.git_url, constraint) == git_servers.seed.shas[label]


async def test_a_constraint_no_tag_satisfies_is_an_unknown_revision(cache, git_servers):
    with pytest.raises(GitError, match=r"'>=3' not found in repository .*unknown revision"):
        await cache.resolve(git_servers.git_url, ">=3")


async def test_short_and_full_shas_resolve_to_the_full_sha(cache, git_servers):
    shas = git_servers.seed.shas
    assert await cache.resolve(git_servers.ssh_url, shas["c2"][:7]) == shas["c2"]
    assert await cache.resolve(git_servers.ssh_url, shas["dev1"][:10].upper()) == shas["dev1"]
    assert await cache.resolve(git_servers.ssh_url, shas["c1"]) == shas["c1"]


async def test_a_pull_request_ref_is_fetched_explicitly_and_checked_out(cache, git_servers):
    sha = await cache.resolve(git_servers.http_private, "refs/pull/7/head")
    assert sha == git_servers.seed.shas["pr7"]
    tree = await cache.checkout(git_servers.http_private, sha)
    assert Path(tree, "app/deploy.yaml").read_text() == "replicas: 7\n"


async def test_changed_paths_lists_what_differs_between_two_commits(cache, git_servers):
    shas = git_servers.seed.shas
    url = git_servers.http_public
    await cache.resolve(url, "main")
    assert sorted(await cache.changed_paths(url, shas["c1"], shas["c5"])) == [
        "app/config.yaml",
        "app/deploy.yaml",
    ]
    assert await cache.changed_paths(url, shas["c2"], shas["c3"]) == ["app/service.yaml"]
    assert await cache.changed_paths(url, shas["c3"], shas["c3"]) == []


async def test_basic_auth_with_the_right_password_succeeds_and_leaves_no_secret_on_disk(
    cache, git_servers, tmp_path, logs
):
    sha = await cache.resolve(git_servers.http_private, "v1.2.0")
    assert sha == git_servers.seed.shas["c3"]
    await cache.checkout(git_servers.http_private, sha)
    for dirpath, _, names in os.walk(tmp_path / "cache"):
        assert git_servers.http.password not in dirpath
        for name in names:
            path = os.path.join(dirpath, name)
            if os.path.isfile(path) and not os.path.islink(path):
                assert git_servers.http.password.encode() not in Path(path).read_bytes()
    assert_no_secret(git_servers, *(r.getMessage() for r in logs.records))


async def test_a_wrong_password_fails_as_authentication_naming_the_repo_but_no_password(
    tmp_path, git_servers, logs
):
    wrong = "wrong-canary-password"
    cache = MirrorCache(
        str(tmp_path / "cache"),
        credentials=git_lookup(credential_store(git_servers, password=wrong)),
        timeout=30,
    )
    with pytest.raises(GitError) as caught:
        await cache.resolve(git_servers.http_private, "main")
    message = str(caught.value)
    assert git_servers.http_private in message
    assert "authentication failed" in message
    assert wrong not in message
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    assert_no_secret(git_servers, message, *(r.getMessage() for r in logs.records))


async def test_no_credentials_for_a_private_repo_fails_as_authentication(tmp_path, git_servers):
    cache = MirrorCache(str(tmp_path / "cache"), timeout=30)
    with pytest.raises(GitError, match="authentication failed"):
        await cache.resolve(git_servers.http_private, "main")


async def test_credentials_in_the_url_work_and_never_appear_in_errors(tmp_path, git_servers):
    cache = MirrorCache(str(tmp_path / "cache"), timeout=30)
    http = git_servers.http
    good = f"http://{http.username}:{http.password}@127.0.0.1:{http.port}/git/private/app.git"
    assert await cache.resolve(good, "main") == git_servers.seed.shas["c5"]
    bad = f"http://{http.username}:canary-in-url@127.0.0.1:{http.port}/git/private/app.git"
    with pytest.raises(GitError) as caught:
        await cache.resolve(bad, "main", refresh=True)
    assert "authentication failed" in str(caught.value)
    assert "canary-in-url" not in str(caught.value)
    assert f"127.0.0.1:{http.port}/git/private/app.git" in str(caught.value)


async def test_an_ssh_key_that_is_not_authorised_fails_as_authentication(tmp_path, git_servers):
    other = tmp_path / "other_key"
    _process.run_sync(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)])
    cache = MirrorCache(
        str(tmp_path / "cache"),
        credentials=git_lookup(credential_store(git_servers, key=other.read_text())),
        trust=renderconfig.HostTrust(known_hosts=git_servers.ssh.known_hosts),
        timeout=30,
    )
    with pytest.raises(GitError) as caught:
        await cache.resolve(git_servers.ssh_url, "main")
    assert "authentication failed" in str(caught.value)
    assert_no_secret(git_servers, str(caught.value))


@pytest.mark.parametrize(
    "known_hosts", ["", "[127.0.0.1]:1 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA"]
)
async def test_an_unknown_ssh_host_key_is_refused(tmp_path, git_servers, known_hosts):
    cache = MirrorCache(
        str(tmp_path / "cache"),
        credentials=git_lookup(credential_store(git_servers)),
        trust=renderconfig.HostTrust(known_hosts=known_hosts),
        timeout=30,
    )
    with pytest.raises(GitError, match="SSH host key is not trusted") as caught:
        await cache.resolve(git_servers.ssh_url, "main")
    assert git_servers.ssh_url in str(caught.value)


async def test_insecure_ignore_host_key_accepts_any_host_key(tmp_path, git_servers):
    creds = repocreds.RepoCredentials(
        url=git_servers.ssh_url,
        ssh_private_key=git_servers.ssh.client_key,
        insecure_ignore_host_key=True,
    )
    cache = MirrorCache(
        str(tmp_path / "cache"),
        credentials=lambda _url, _project: creds,
        timeout=30,
    )
    assert await cache.resolve(git_servers.ssh_url, "main") == git_servers.seed.shas["c5"]


@pytest.mark.parametrize(
    "url_for",
    [
        lambda port: f"http://127.0.0.1:{port}/git/public/app.git",
        lambda port: f"git://127.0.0.1:{port}/public/app.git",
        lambda port: f"ssh://git@127.0.0.1:{port}/srv/app.git",
    ],
)
async def test_an_unreachable_server_gives_a_clear_error(cache, url_for):
    url = url_for(gitservers.free_port())
    with pytest.raises(GitError) as caught:
        await cache.resolve(url, "main")
    assert (
        str(caught.value) == f"listing refs of repository {url!r} failed: the server is unreachable"
    )


async def test_a_missing_repository_and_an_unknown_revision_give_clear_errors(cache, git_servers):
    missing = git_servers.http.url("public/nope.git")
    with pytest.raises(GitError, match="the repository does not exist on the server"):
        await cache.resolve(missing, "main")
    with pytest.raises(GitError) as caught:
        await cache.resolve(git_servers.http_public, "no-such-branch")
    assert str(caught.value) == (
        f"revision 'no-such-branch' not found in repository {git_servers.http_public!r}: "
        "unknown revision"
    )
    with pytest.raises(GitError, match="unknown revision"):
        await cache.resolve(git_servers.http_public, "0" * 40)
    with pytest.raises(GitError, match="is not a full commit SHA"):
        await cache.checkout(git_servers.http_public, "main")


async def test_file_urls_and_local_paths_are_refused_unless_enabled(tmp_path, git_servers):
    local = git_servers.root / "public" / "app.git"
    refusing = MirrorCache(str(tmp_path / "refusing"), timeout=30)
    for url in (f"file://{local}", str(local)):
        with pytest.raises(GitError, match="disabled"):
            await refusing.resolve(url, "main")
    allowing = MirrorCache(str(tmp_path / "allowing"), allow_local=True, timeout=30)
    for url in (f"file://{local}", str(local)):
        assert await allowing.resolve(url, "main") == git_servers.seed.shas["c5"]


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("-oProxyCommand=touch {canary}", "must not start with '-'"),
        ("--upload-pack=touch {canary}", "must not start with '-'"),
        ("ext::sh -c touch% {canary}", "spaces or control"),
        ("ext::sh", "remote helpers"),
        ("fd::17", "remote helpers"),
        ("ftp://127.0.0.1/x.git", "unsupported scheme"),
        ("http://127.0.0.1/x.git\n", "spaces or control"),
    ],
)
async def test_argument_and_transport_injection_in_urls_is_refused(cache, tmp_path, url, reason):
    canary = tmp_path / "canary"
    with pytest.raises(GitError, match=reason):
        await cache.resolve(url.format(canary=canary), "main")
    assert not canary.exists()


@pytest.mark.parametrize(
    "revision", ["--upload-pack=touch {canary}", "-c core.sshCommand=touch {canary}"]
)
async def test_option_looking_revisions_are_refused(cache, git_servers, tmp_path, revision):
    canary = tmp_path / "canary"
    with pytest.raises(GitError, match="starts with '-'"):
        await cache.resolve(git_servers.http_public, revision.format(canary=canary))
    assert not canary.exists()


async def test_concurrent_resolves_fetch_one_at_a_time_and_readers_never_see_partial_trees(
    cache, git_servers
):
    url = git_servers.http_public
    shas = git_servers.seed.shas
    trees_dir = Path(cache._trees_dir)
    seen_partial: list[str] = []
    done = asyncio.Event()

    async def watch() -> None:
        while not done.is_set():
            seen_partial.extend(
                entry
                for entry in os.listdir(trees_dir)
                if not entry.startswith(".") and not (trees_dir / entry / "README.md").exists()
            )
            await asyncio.sleep(0)

    async def one(revision: str) -> tuple[str, dict[str, str]]:
        sha = await cache.resolve(url, revision, refresh=True)
        return sha, files_under(await cache.checkout(url, sha))

    watcher = asyncio.create_task(watch())
    revisions = ["main", "dev", "v1.0.0", "v1.1.0", "refs/pull/7/head", shas["c2"][:8]] * 3
    results = await asyncio.gather(*(one(r) for r in revisions))
    done.set()
    await watcher
    assert seen_partial == []
    assert cache.stats(url).peak_in_flight == 1
    assert cache.stats(url).ls_remotes <= 2  # a burst of refreshes shares listings
    assert {sha for sha, _ in results} == {shas[k] for k in ("c5", "dev1", "c1", "c2", "pr7")}
    by_sha = dict(results)
    assert by_sha[shas["pr7"]]["app/deploy.yaml"] == "replicas: 7\n"
    assert all(not name.startswith(".") for name in os.listdir(trees_dir))


async def test_resolutions_are_cached_until_the_ttl_passes_or_a_refresh(tmp_path, git_servers):
    seed = gitservers.create_seed_repo(tmp_path / "moving")
    git_servers.publish(seed, "public/moving.git")
    url = git_servers.daemon.url("public/moving.git")
    now = [1000.0]
    cache = MirrorCache(
        str(tmp_path / "cache"),
        resolve_ttl=180,
        clock=lambda: now[0],
        timeout=30,
    )
    assert await cache.resolve(url, "main") == seed.shas["c5"]
    new = seed.commit("c6", {"app/deploy.yaml": "replicas: 6\n"})
    git_servers.publish(seed, "public/moving.git")
    assert await cache.resolve(url, "main") == seed.shas["c5"]
    assert await cache.resolve(url, "main", refresh=True) == new
    seed.commit("c7", {"app/deploy.yaml": "replicas: 7\n"})
    git_servers.publish(seed, "public/moving.git")
    now[0] += 181
    assert await cache.resolve(url, "main") == seed.shas["c7"]
    tree = await cache.checkout(url, seed.shas["c7"])
    assert Path(tree, "app/deploy.yaml").read_text() == "replicas: 7\n"


async def test_trees_keep_export_ignored_files_and_refuse_symlinks_out_of_the_repo(
    tmp_path, git_servers
):
    seed = gitservers.create_seed_repo(tmp_path / "attrs")
    ok = seed.commit("attrs", {".gitattributes": "app/* export-ignore\n"})
    os.symlink("/etc/passwd", seed.work / "escape")
    bad = seed.commit("symlink", {})
    git_servers.publish(seed, "public/attrs.git")
    url = git_servers.daemon.url("public/attrs.git")
    cache = MirrorCache(str(tmp_path / "cache"), timeout=30)
    await cache.resolve(url, "main")
    tree = await cache.checkout(url, ok)
    assert Path(tree, "app/deploy.yaml").read_text() == "replicas: 3\n"
    with pytest.raises(GitError, match="'escape' links to an absolute path"):
        await cache.checkout(url, bad)
    assert not any(
        stat.S_ISLNK(os.lstat(p).st_mode) for p in Path(cache._trees_dir).glob("*/escape")
    )


async def test_a_fetch_waits_while_another_process_holds_the_repository_lock(cache, git_servers):
    url = git_servers.git_url
    await cache.resolve(url, "main")
    mirror = cache._mirror(urls.parse_repo_url(url))
    fd = os.open(f"{mirror}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        task = asyncio.create_task(cache.resolve(url, "refs/pull/7/head"))
        await asyncio.sleep(0.5)
        assert not task.done()
    finally:
        os.close(fd)
    assert await task == git_servers.seed.shas["pr7"]


async def test_credentials_never_follow_a_redirect_to_another_host(tmp_path):
    trap = gitservers.RecordingHTTPServer()
    front = gitservers.RecordingHTTPServer(redirect_to=trap.url().rstrip("/"))
    with trap, front:
        url = front.url("org/app.git")
        creds = repocreds.RepoCredentials(url=url, username="u", password="redirect-canary")
        cache = MirrorCache(
            str(tmp_path / "cache"),
            credentials=lambda _url, _project: creds,
            timeout=30,
        )
        with pytest.raises(GitError) as caught:
            await cache.resolve(url, "main")
    assert "the server redirected" in str(caught.value)
    assert "redirect-canary" not in str(caught.value)
    assert front.seen, "git never reached the first server"
    assert trap.seen == []


async def test_after_a_restart_a_commit_only_on_a_pull_ref_is_checked_out_by_its_sha(
    tmp_path, git_servers
):
    # git's upload-pack (protocol v2) serves any reachable commit by SHA; Argo CD relies on it
    # when a resumed sync names a pinned SHA that no branch or tag holds.
    cache = MirrorCache(str(tmp_path / "fresh"), timeout=30)
    sha = git_servers.seed.shas["pr7"]
    tree = await cache.checkout(git_servers.http_public, sha)
    assert Path(tree, "app/deploy.yaml").read_text() == "replicas: 7\n"
    assert await cache.resolve(git_servers.git_url, sha) == sha


async def test_prune_deletes_least_recently_used_trees_but_never_recent_ones(cache, git_servers):
    url = git_servers.git_url
    shas = git_servers.seed.shas
    trees = [
        await cache.checkout(url, await cache.resolve(url, shas[k])) for k in ("c1", "c2", "c3")
    ]
    for age, tree in zip((300, 200, 100), trees, strict=True):
        os.utime(tree, (time.time() - 7200 - age, time.time() - 7200 - age))
    await cache.checkout(url, shas["c1"])  # a hit makes c1 the most recently used
    assert cache.prune_trees(keep=0) == [trees[2], trees[1]]
    assert sorted(os.listdir(cache._trees_dir)) == [os.path.basename(trees[0])]
    assert cache.prune_trees(keep=0) == []


async def test_project_scoped_credentials_fetch_for_their_project_only(tmp_path, git_servers):
    """A commit fetched with team-a's credentials is never checked out for team-b."""
    scoped = repocreds.CredentialStore.from_secrets(
        [
            {
                "metadata": {
                    "name": "team-a",
                    "namespace": "tether",
                    "labels": {repocreds.SECRET_TYPE_LABEL: "repo-creds"},
                },
                "stringData": {
                    "url": git_servers.http.url("private/"),
                    "username": git_servers.http.username,
                    "password": git_servers.http.password,
                    "project": "team-a",
                },
            }
        ]
    )
    cache = MirrorCache(str(tmp_path / "cache"), credentials=git_lookup(scoped), timeout=30)
    sha = await cache.resolve(git_servers.http_private, "main", project="team-a")
    assert os.path.isdir(await cache.checkout(git_servers.http_private, sha, project="team-a"))
    with pytest.raises(GitError, match="authentication failed"):
        await cache.resolve(git_servers.http_private, "main", project="team-b")
    with pytest.raises(GitError, match="authentication failed"):
        await cache.checkout(git_servers.http_private, sha, project="team-b")


async def test_a_commits_description_is_reused_until_the_ttl_passes(tmp_path, git_servers):
    seed = gitservers.create_seed_repo(tmp_path / "described")
    git_servers.publish(seed, "public/described.git")
    url = git_servers.daemon.url("public/described.git")
    now = [1000.0]
    cache = MirrorCache(str(tmp_path / "cache"), clock=lambda: now[0], timeout=30)
    sha = seed.shas["c5"]
    first = await cache.commit(url, sha)
    assert first.message == "c5"
    mirrors, away = tmp_path / "cache" / "repos", tmp_path / "away"
    mirrors.rename(away)  # git could not read the commit now
    assert await cache.commit(url, sha) == first  # answered from memory
    now[0] += repos.COMMIT_TTL_S + 1
    with pytest.raises(GitError):
        await cache.commit(url, sha)  # past the TTL, git is asked again
    away.rename(mirrors)
    assert await cache.commit(url, sha) == first
