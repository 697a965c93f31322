"""Which way a command goes (core or an API server), which server and token it takes, and that
the token never shows in what a failing command prints; no server runs."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

from tether.cli import contexts
from tether.cli.commands import connection
from tether.cli.main import cli

Mode = connection.Mode
TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.dG9wLXNlY3JldC1zaWduYXR1cmU"


@pytest.mark.parametrize(
    ("core", "core_env", "server", "token", "context", "mode"),
    [
        (False, "", "", "", "", Mode.CORE),  # never logged in: as before the API server
        (False, "", "", "", "prod", Mode.REMOTE),  # a current context
        (False, "", "api:443", "", "", Mode.REMOTE),
        (False, "", "", TOKEN, "", Mode.REMOTE),
        (True, "", "", "", "prod", Mode.CORE),  # --core beats a context
        (False, "1", "", "", "prod", Mode.CORE),
        (False, "true", "api:443", TOKEN, "prod", Mode.CORE),
        (False, "0", "", "", "prod", Mode.REMOTE),
    ],
)
def test_the_mode_follows_the_flag_the_environment_and_the_context(
    core, core_env, server, token, context, mode
):
    assert (
        connection.choose(core=core, core_env=core_env, server=server, token=token, context=context)
        is mode
    )


@click.command()
@connection.connection_options
def probe() -> None:
    found = connection.remote()
    if found is None:
        click.echo("core")
    else:
        has_token = "with a token" if found.token == TOKEN else f"token {found.token!r}"
        click.echo(f"{found.server} {has_token} insecure={found.insecure} ctx={found.context}")


@pytest.fixture
def env(tmp_path, monkeypatch):
    for name in ("TETHER_CORE", "TETHER_SERVER", "TETHER_AUTH_TOKEN", "TETHER_CONTEXT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("TETHER_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    return tmp_path


def logged_in(tmp_path):
    config = contexts.Config()
    config.logged_in("prod", "prod.example:443", token=TOKEN, insecure=True)
    config.logged_in("local", "127.0.0.1:1", token="local-token", plaintext=True)
    contexts.save(config, tmp_path / "tether" / "config")


def test_without_a_login_a_command_runs_in_core_mode(env):
    assert CliRunner().invoke(probe, []).output == "core\n"


def test_the_current_context_gives_the_server_its_token_and_its_tls_choice(env):
    logged_in(env)

    shown = CliRunner().invoke(probe, ["--context", "prod"])

    assert shown.output == "prod.example:443 with a token insecure=True ctx=prod\n"


def test_a_server_given_by_flag_takes_the_token_of_its_context(env):
    logged_in(env)  # current: local

    shown = CliRunner().invoke(probe, ["--server", "prod.example:443"])

    assert shown.output == "prod.example:443 with a token insecure=True ctx=prod\n"


def test_an_unknown_server_gets_only_the_token_given(env):
    logged_in(env)

    shown = CliRunner().invoke(probe, ["--server", "elsewhere:443"])

    assert shown.output == "elsewhere:443 token '' insecure=False ctx=\n"


def test_core_flag_and_environment_win_over_a_login(env, monkeypatch):
    logged_in(env)

    assert CliRunner().invoke(probe, ["--core"]).output == "core\n"
    monkeypatch.setenv("TETHER_CORE", "1")
    assert CliRunner().invoke(probe, []).output == "core\n"


def test_a_token_without_a_server_or_context_is_a_usage_error(env):
    shown = CliRunner().invoke(probe, ["--auth-token", TOKEN])

    assert shown.exit_code == 2
    assert "--auth-token needs --server" in shown.output
    assert TOKEN not in shown.output


def test_tether_app_list_without_a_login_goes_to_kubernetes(env, tmp_path):
    missing = tmp_path / "no-kubeconfig"

    listed = CliRunner().invoke(cli, ["app", "list", "--kubeconfig", str(missing)])

    assert listed.exit_code != 0
    assert "kubeconfig" in str(listed.exception) or "kubeconfig" in listed.output


def test_core_mode_by_choice_reads_no_contexts_file(env):
    broken = env / "tether" / "config"
    broken.parent.mkdir(parents=True)
    broken.write_text("contexts: {not: a list}\n")

    assert CliRunner().invoke(probe, ["--core"]).output == "core\n"
    refused = CliRunner().invoke(probe, [])
    assert refused.exit_code != 0
    assert "contexts must be a list" in str(refused.exception)
