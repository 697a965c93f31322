"""The contexts file of the remote CLI: its shape, its mode, switching, and tokens kept out of
everything printed; no server."""

from __future__ import annotations

import stat

import pytest
import yaml
from click.testing import CliRunner

from tether.cli import contexts
from tether.cli.main import cli
from tether.model.errors import InvalidInputError

TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZG1pbjpsb2dpbiJ9.c2lnbmF0dXJlLXNlY3JldA"


def logged_in_twice() -> contexts.Config:
    config = contexts.Config()
    config.logged_in("prod", "prod.example:443", token=TOKEN)
    config.logged_in("local", "127.0.0.1:8080", token="other-token-value", plaintext=True)
    return config


def test_a_saved_config_is_readable_by_its_owner_only(tmp_path):
    path = tmp_path / "tether" / "config"

    contexts.save(logged_in_twice(), path)

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_saving_over_a_file_others_could_read_leaves_it_0600(tmp_path):
    path = tmp_path / "config"
    path.write_text("contexts: []\n")
    path.chmod(0o644)

    contexts.save(logged_in_twice(), path)

    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_the_file_has_argo_cds_shape_and_reads_back_the_same(tmp_path):
    path = tmp_path / "config"
    contexts.save(logged_in_twice(), path)

    doc = yaml.safe_load(path.read_text())

    assert doc["current-context"] == "local"
    assert doc["contexts"] == [
        {"name": "prod", "server": "prod.example:443", "user": "prod"},
        {"name": "local", "server": "127.0.0.1:8080", "user": "local"},
    ]
    assert {"server": "127.0.0.1:8080", "plain-text": True} in doc["servers"]
    assert {"name": "prod", "auth-token": TOKEN} in doc["users"]
    assert contexts.load(path) == logged_in_twice()


def test_the_last_login_is_current_and_switching_chooses_another():
    config = logged_in_twice()
    assert config.current_context == "local"

    config.switch("prod")

    resolved = config.resolve()
    assert resolved is not None
    assert resolved.server.server == "prod.example:443"
    assert resolved.user.auth_token == TOKEN


def test_switching_to_an_unknown_context_is_refused():
    with pytest.raises(InvalidInputError, match="no context named 'nope'"):
        logged_in_twice().switch("nope")


def test_logging_in_again_replaces_the_token_instead_of_adding_a_context():
    config = logged_in_twice()

    config.logged_in("prod", "prod.example:443", token="a-newer-token")

    assert [c.name for c in config.contexts] == ["local", "prod"]
    resolved = config.resolve("prod")
    assert resolved is not None
    assert resolved.user.auth_token == "a-newer-token"


def test_forgetting_a_token_keeps_the_context_for_the_next_login():
    config = logged_in_twice()

    config.forget_token("prod")

    resolved = config.resolve("prod")
    assert resolved is not None
    assert resolved.user.auth_token == ""
    assert TOKEN not in config.to_yaml()


def test_no_context_means_nothing_to_resolve():
    assert contexts.Config().resolve() is None


def test_a_token_is_never_part_of_a_repr():
    config = logged_in_twice()

    assert TOKEN not in repr(config)
    assert TOKEN not in repr(config.resolve("prod"))


def test_a_file_that_is_not_a_config_is_refused_naming_the_file(tmp_path):
    path = tmp_path / "config"
    path.write_text("contexts: [{server: x}]\n")

    with pytest.raises(InvalidInputError, match=f"{path}: an entry lacks 'name'"):
        contexts.load(path)


def test_tether_context_lists_the_contexts_and_marks_the_current_one_without_tokens(tmp_path):
    contexts.save(logged_in_twice(), tmp_path / "tether" / "config")
    env = {"XDG_CONFIG_HOME": str(tmp_path), "TETHER_CONFIG": ""}

    listed = CliRunner().invoke(cli, ["context"], env=env)

    assert listed.exit_code == 0, listed.output
    assert listed.output.splitlines() == [
        "CURRENT  NAME   SERVER",
        "         prod   prod.example:443",
        "*        local  127.0.0.1:8080",
    ]
    assert TOKEN not in listed.output


def test_tether_context_name_switches_and_saves(tmp_path):
    contexts.save(logged_in_twice(), tmp_path / "tether" / "config")
    env = {"XDG_CONFIG_HOME": str(tmp_path), "TETHER_CONFIG": ""}

    switched = CliRunner().invoke(cli, ["context", "prod"], env=env)

    assert switched.exit_code == 0, switched.output
    assert contexts.load(tmp_path / "tether" / "config").current_context == "prod"
    assert TOKEN not in switched.output
