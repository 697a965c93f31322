"""The repo-server's flags and token file are checked before anything starts."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from tether import bootstrap
from tether.cli.main import cli
from tether.model.errors import TetherError
from tether.services.credentials import RepoCredentials
from tether.settings import Settings


def test_a_controller_given_a_repo_server_needs_its_token_file():
    result = CliRunner().invoke(cli, ["run", "--repo-server", "http://127.0.0.1:1"])
    assert result.exit_code == 2
    assert "--repo-server needs --repo-server-token-file" in result.output


def test_a_token_file_without_a_repo_server_is_refused(tmp_path):
    token = tmp_path / "token"
    token.write_text("x" * 32)
    result = CliRunner().invoke(cli, ["run", "--repo-server-token-file", str(token)])
    assert result.exit_code == 2
    assert "need --repo-server" in result.output


def test_a_repo_server_needs_a_certificate_and_its_key_together(tmp_path):
    token = tmp_path / "token"
    token.write_text("x" * 32)
    result = CliRunner().invoke(
        cli, ["repo-server", "--token-file", str(token), "--tls-cert", str(token)]
    )
    assert result.exit_code == 2
    assert "both a certificate and its key" in result.output


def test_a_token_is_read_without_its_surrounding_whitespace(tmp_path):
    path = tmp_path / "token"
    path.write_text("  0123456789abcdef0123\n")
    assert bootstrap.read_token_file(str(path)) == "0123456789abcdef0123"


@pytest.mark.parametrize("content", ["", "short-canary", "two tokens-canary-0123456789"])
def test_an_unfit_token_is_refused_without_being_quoted(tmp_path, content):
    path = tmp_path / "token"
    path.write_text(content)
    with pytest.raises(TetherError) as caught:
        bootstrap.read_token_file(str(path))
    assert "canary" not in str(caught.value)
    assert str(path) in str(caught.value)


def test_a_missing_token_file_is_named(tmp_path):
    with pytest.raises(TetherError, match="cannot read the token file"):
        bootstrap.read_token_file(str(tmp_path / "absent"))


@pytest.mark.parametrize(
    "url", ["127.0.0.1:8081", "ftp://127.0.0.1:8081", "http://", "http://user:pw@127.0.0.1:8081"]
)
def test_a_repo_server_url_must_be_http_or_https_without_credentials(tmp_path, url):
    path = tmp_path / "token"
    path.write_text("0123456789abcdef0123")
    settings = Settings(repo_server=url, repo_server_token_file=str(path))
    with pytest.raises(TetherError, match="http"):
        bootstrap.repo_server_client(settings, RepoCredentials())


@pytest.mark.parametrize(
    "flag",
    [["--allow-local-repos"], ["--remote-host", "example.com"], ["--plugin-dir", "plugins"]],
)
def test_rendering_policy_flags_go_to_the_repo_server_not_a_controller_that_uses_one(
    tmp_path, flag
):
    token = tmp_path / "token"
    token.write_text("x" * 32)
    argv = ["run", "--repo-server", "http://127.0.0.1:1", "--repo-server-token-file", str(token)]
    result = CliRunner().invoke(cli, [*argv, *flag])
    assert result.exit_code == 2
    assert "pass --allow-local-repos, --remote-host and --plugin-dir to the repo-server" in (
        result.output
    )
