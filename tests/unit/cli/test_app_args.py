"""Argument parsing of ``tether app`` and ``tether render``, and the wait conditions; no cluster."""

from __future__ import annotations

import pathlib

import pytest
from click.testing import CliRunner

from tether.cli.commands import app_common, app_ops, app_wait
from tether.cli.main import cli
from tether.model.errors import InvalidInputError, TetherError


def test_a_resource_selection_takes_group_kind_and_name():
    chosen = app_common.parse_resource("apps:Deployment:web")

    assert chosen.to_manifest() == {"group": "apps", "kind": "Deployment", "name": "web"}


def test_a_resource_selection_may_leave_out_the_group_and_name_a_namespace():
    chosen = app_common.parse_resource(":Service:team/web")

    assert chosen.to_manifest() == {"kind": "Service", "namespace": "team", "name": "web"}


@pytest.mark.parametrize("text", ["Deployment:web", "apps::web", "apps:Deployment:", "a:b:c:d"])
def test_a_malformed_resource_selection_is_refused_with_the_expected_form(text):
    with pytest.raises(InvalidInputError, match="GROUP:KIND:NAME"):
        app_common.parse_resource(text)


def test_a_sync_sets_only_the_options_given():
    operation = app_ops.sync_operation(None, False, False, (), (), None, False)

    assert operation.to_manifest() == {}


def test_a_sync_with_every_option_writes_argo_cds_fields():
    operation = app_ops.sync_operation(
        "v1.2.0", True, True, ("apps:Deployment:web",), ("Validate=false",), "apply", True
    )

    assert operation.to_manifest() == {
        "revision": "v1.2.0",
        "prune": True,
        "dryRun": True,
        "resources": [{"group": "apps", "kind": "Deployment", "name": "web"}],
        "syncOptions": ["Validate=false"],
        "syncStrategy": {"apply": {"force": True}},
    }


def test_force_without_a_strategy_forces_the_default_hook_strategy():
    forced = app_ops.strategy_of(None, True)
    assert forced is not None
    assert forced.to_manifest() == {"hook": {"force": True}}
    assert app_ops.strategy_of(None, False) is None


def app(**fields):
    return {"metadata": {"name": "web"}, **fields}


def test_waiting_for_everything_names_what_is_missing():
    awaited = app_wait.Awaited(sync=True, health=True, operation=True)
    busy = app(operation={"sync": {}}, status={"sync": {"status": "OutOfSync"}})

    assert awaited.unmet(busy) == ["operation requested", "sync OutOfSync", "health Unknown"]


def test_an_app_synced_healthy_and_idle_satisfies_every_wait():
    awaited = app_wait.Awaited(sync=True, health=True, operation=True)
    done = app(
        status={
            "sync": {"status": "Synced"},
            "health": {"status": "Healthy"},
            "operationState": {"phase": "Failed"},
        }
    )

    assert awaited.unmet(done) == []


def test_a_terminating_operation_is_not_done():
    busy = app(status={"operationState": {"phase": "Terminating"}})

    assert not app_wait.operation_done(busy)


def test_an_app_deleted_while_waiting_for_health_is_an_error():
    with pytest.raises(TetherError, match="deleted"):
        app_wait.Awaited(health=True).unmet(None)


def test_waiting_for_deletion_ends_when_the_app_is_gone():
    assert app_wait.Awaited(deleted=True).unmet(None) == []
    assert app_wait.Awaited(deleted=True).unmet(app()) == ["the Application still exists"]


def test_the_server_of_the_current_context_is_read_from_the_kubeconfig(tmp_path: pathlib.Path):
    config = tmp_path / "config"
    config.write_text(
        """
current-context: b
contexts:
- {name: a, context: {cluster: one}}
- {name: b, context: {cluster: two}}
clusters:
- {name: one, cluster: {server: "https://one:6443"}}
- {name: two, cluster: {server: "https://two:6443"}}
"""
    )

    assert app_common.server_of(str(config)) == "https://two:6443"
    assert app_common.server_of(str(tmp_path / "missing")).startswith("(from ")


def test_the_app_namespace_joins_the_control_plane_namespace_in_the_settings():
    target = app_common.target_of(None, "team", "tether")

    assert target.settings.app_namespaces == ("tether", "team")
    assert target.settings.control_plane_namespace == "tether"


def test_sync_refuses_a_malformed_resource_before_touching_a_cluster():
    result = CliRunner().invoke(
        cli, ["app", "sync", "web", "--resource", "nonsense", "--kubeconfig", "/nonexistent"]
    )

    assert isinstance(result.exception, InvalidInputError)


def test_every_app_subcommand_is_registered():
    result = CliRunner().invoke(cli, ["app", "--help"])

    assert result.exit_code == 0
    for name in (
        "list",
        "get",
        "diff",
        "sync",
        "wait",
        "history",
        "rollback",
        "delete",
        "terminate-op",
        "refresh",
    ):
        assert f"  {name} " in result.output


def test_render_needs_a_file():
    result = CliRunner().invoke(cli, ["render"])

    assert result.exit_code == 2
    assert "-f" in result.output


def test_render_names_the_file_that_cannot_be_read(tmp_path: pathlib.Path):
    missing = tmp_path / "app.yaml"

    result = CliRunner().invoke(cli, ["render", "-f", str(missing), "--repo-root", str(tmp_path)])

    assert result.exit_code == 1
    assert str(missing) in result.output
