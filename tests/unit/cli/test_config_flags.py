"""Flags given on the command line win over Argo CD's ConfigMaps; defaults do not."""

from __future__ import annotations

import click
from click.testing import CliRunner

from tether.cli.commands import controller as controller_command


def test_run_marks_only_the_flags_given_as_explicit() -> None:
    seen: list[frozenset[str]] = []

    @click.command()
    @click.option("--resync", type=int, default=180)
    @click.option("--workers", type=int, default=20)
    def probe(resync: int, workers: int) -> None:
        seen.append(controller_command.explicit_fields(click.get_current_context()))

    CliRunner().invoke(probe, ["--workers", "20"], catch_exceptions=False)
    CliRunner().invoke(probe, ["--resync", "60"], catch_exceptions=False)
    CliRunner().invoke(probe, [], catch_exceptions=False)
    assert seen == [frozenset({"workers"}), frozenset({"resync_period"}), frozenset()]


def test_run_refuses_a_replica_name_that_cannot_name_a_lease() -> None:
    result = CliRunner().invoke(
        controller_command.run, ["--sharding", "--replica-name", "Shard_0", "--no-api"]
    )
    assert result.exit_code == 2
    assert "RFC 1123" in result.output
