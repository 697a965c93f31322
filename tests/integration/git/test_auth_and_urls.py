from __future__ import annotations

import os
import shlex
import stat
from pathlib import Path

import pytest
from hypothesis import given, strategies as st

from tether import ports
from tether.adapters import _process
from tether.adapters.git import MirrorCache, auth, urls
from tether.core.sources import repocreds
from tether.model.errors import GitError

pytestmark = pytest.mark.timeout(30)

TOKEN = "bearer-canary-token"
PASSWORD = "askpass-canary-password"


def config_of(env: dict[str, str]) -> dict[str, str]:
    return {
        env[f"GIT_CONFIG_KEY_{i}"]: env[f"GIT_CONFIG_VALUE_{i}"]
        for i in range(int(env["GIT_CONFIG_COUNT"]))
    }


def test_a_bearer_token_travels_as_an_extra_header_in_the_environment_only(tmp_path):
    repo = urls.parse_repo_url("https://git.example/org/app.git")
    creds = repocreds.RepoCredentials(url=repo.fetch_url, bearer_token=TOKEN)
    askpass = auth.install_askpass(str(tmp_path / "bin"))
    with auth.git_env(repo, creds, askpass=askpass, known_hosts="", allow_local=False) as env:
        config = config_of(env)
    assert config["http.extraHeader"] == f"Authorization: Bearer {TOKEN}"
    assert config["http.followRedirects"] == "false"
    assert config["protocol.file.allow"] == "never"
    assert config["credential.helper"] == ""
    assert env["GIT_TERMINAL_PROMPT"] == "0"
    assert env["GIT_PROTOCOL_FROM_USER"] == "0"
    assert env["GIT_ALLOW_PROTOCOL"] == "https:http:ssh:git"
    assert TOKEN not in env["GIT_SSH_COMMAND"]


def test_the_askpass_helper_answers_from_its_environment_and_holds_no_secret(tmp_path):
    repo = urls.parse_repo_url("https://git.example/org/app.git")
    creds = repocreds.RepoCredentials(url=repo.fetch_url, username="deployer", password=PASSWORD)
    askpass = auth.install_askpass(str(tmp_path / "bin"))
    assert PASSWORD not in Path(askpass).read_text()
    with auth.git_env(repo, creds, askpass=askpass, known_hosts="", allow_local=False) as env:
        user = _process.run_sync([askpass, "Username for 'https://git.example': "], env=env)
        password = _process.run_sync(
            [askpass, "Password for 'https://deployer@git.example': "], env=env
        )
    assert user.stdout == b"deployer\n"
    assert password.stdout == PASSWORD.encode() + b"\n"


def test_an_ssh_key_lives_in_a_private_file_only_for_the_call(tmp_path):
    repo = urls.parse_repo_url("ssh://git@git.example/org/app.git")
    creds = repocreds.RepoCredentials(url=repo.fetch_url, ssh_private_key="KEY-canary")
    askpass = auth.install_askpass(str(tmp_path / "bin"))
    with auth.git_env(repo, creds, askpass=askpass, known_hosts="h k v", allow_local=False) as env:
        argv = shlex.split(env["GIT_SSH_COMMAND"])
        key = argv[argv.index("-i") + 1]
        assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
        assert Path(key).read_text() == "KEY-canary\n"
        assert not key.startswith(str(tmp_path))
        assert "StrictHostKeyChecking=yes" in argv
        assert "IdentitiesOnly=yes" in argv
    assert not os.path.exists(key)
    assert "KEY-canary" not in env["GIT_SSH_COMMAND"]


def test_insecure_ignore_host_key_skips_host_key_checking(tmp_path):
    repo = urls.parse_repo_url("git@git.example:org/app.git")
    creds = repocreds.RepoCredentials(url=repo.fetch_url, insecure_ignore_host_key=True)
    askpass = auth.install_askpass(str(tmp_path / "bin"))
    with auth.git_env(repo, creds, askpass=askpass, known_hosts="", allow_local=True) as env:
        argv = shlex.split(env["GIT_SSH_COMMAND"])
        assert config_of(env)["protocol.file.allow"] == "always"
    assert "StrictHostKeyChecking=no" in argv
    assert f"UserKnownHostsFile={os.devnull}" in argv


@pytest.mark.parametrize(
    ("url", "scheme", "display"),
    [
        ("https://git.example/org/app.git", "https", "https://git.example/org/app.git"),
        ("http://127.0.0.1:8080/x.git", "http", "http://127.0.0.1:8080/x.git"),
        ("ssh://git@git.example:2222/org/app", "ssh", "ssh://git@git.example:2222/org/app"),
        ("git@git.example:org/app.git", "ssh", "git@git.example:org/app.git"),
        ("git://git.example/app.git", "git", "git://git.example/app.git"),
        ("https://u:pw@git.example/app.git", "https", "https://git.example/app.git"),
    ],
)
def test_supported_urls_parse_and_display_without_passwords(url, scheme, display):
    parsed = urls.parse_repo_url(url)
    assert (parsed.scheme, parsed.display) == (scheme, display)
    assert "pw" not in parsed.fetch_url
    assert "pw" not in parsed.key


def test_mirror_keys_ignore_credentials_and_host_case_but_not_path_case():
    key = urls.parse_repo_url("https://git.example/Org/App.git").key
    assert urls.parse_repo_url("https://u:p@GIT.example/Org/App.git/").key == key
    assert urls.parse_repo_url("https://git.example/org/app.git").key != key


@given(st.text(max_size=60))
def test_no_url_starting_with_a_dash_or_holding_a_control_char_is_ever_accepted(text):
    for url in (f"-{text}", f"https://h/{text}\n", f"ext::{text}"):
        with pytest.raises(GitError):
            urls.parse_repo_url(url, allow_local=True)


@given(st.text(max_size=60))
def test_whatever_is_accepted_is_a_known_transport_and_never_an_option(text):
    try:
        parsed = urls.parse_repo_url(text)
    except GitError as err:
        assert "refused" in str(err)
        return
    assert not parsed.fetch_url.startswith("-")
    assert parsed.scheme in urls.REMOTE_SCHEMES


@pytest.mark.parametrize(
    ("ref", "ok"),
    [
        ("refs/pull/7/head", True),
        ("refs/merge-requests/3/head", True),
        ("refs/heads/../../x", False),
        ("refs/pull//head", False),
        ("refs/x.lock", False),
        ("refs/heads/a b", False),
        ("HEAD", False),
    ],
)
def test_only_plain_fully_qualified_refs_are_fetched_by_name(ref, ok):
    assert urls.is_fetchable_ref(ref) is ok


def test_the_mirror_cache_implements_the_git_port(tmp_path):
    repos: ports.GitRepos = MirrorCache(str(tmp_path / "cache"))
    assert callable(repos.resolve)
