"""``tether`` imports a subcommand only to run it, and its help lines say what each one says."""

from __future__ import annotations

import subprocess
import sys

import click
from click.testing import CliRunner

from tether.cli import main


def test_each_lazy_subcommand_is_the_command_its_help_line_describes() -> None:
    ctx = click.Context(main.cli)
    for name, (_module, _attribute, line) in main.SUBCOMMANDS.items():
        command = main.cli.get_command(ctx, name)
        assert command is not None, name
        assert command.name == name
        assert command.get_short_help_str(limit=200) == line, name


def test_help_lists_every_command_without_importing_any_of_them() -> None:
    code = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from tether.cli.main import cli\n"
        "result = CliRunner().invoke(cli, ['--help'])\n"
        "assert result.exit_code == 0, result.output\n"
        "loaded = [m for m in sys.modules if m.startswith(('tether.cli.commands.', "
        "'tether.bootstrap', 'tether.api', 'fastapi'))]\n"
        "print(result.output)\n"
        "assert not loaded, loaded\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=60
    )
    assert done.returncode == 0, done.stderr
    for name in main.SUBCOMMANDS:
        assert f"  {name} " in done.stdout


def test_a_lazy_subcommand_runs_when_named() -> None:
    result = CliRunner().invoke(main.cli, ["render", "--help"])
    assert result.exit_code == 0, result.output
    assert "--repo-root" in result.output
