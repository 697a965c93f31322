"""Every command `tether demo` ends with pastes into a fresh shell and does what it says."""

from __future__ import annotations

import os
import shlex
import shutil
from pathlib import Path

import click
import pytest

from tether.cli import shell
from tether.cli.commands import demo
from tether.cli.main import cli

FRESH_PATH = "/usr/bin:/bin"
"""A new login shell's PATH: no venv, no ~/.local/bin (where uv lives)."""

PREREQUISITES = {
    "kubectl": "the Kubernetes CLI the instructions use to look around",
    "git": "tether needs it anyway (its Git adapter runs it)",
    "base64": "coreutils, to decode the admin password",
}
"""Programs the instructions may name bare: installed system-wide, found on FRESH_PATH."""


@pytest.fixture
def commands(tmp_path: Path) -> list[str]:
    kubeconfig = tmp_path / "demo dir" / "kubeconfig"  # a space, to prove the quoting
    kubeconfig.parent.mkdir()
    kubeconfig.write_text("")
    steps = demo.next_steps(kubeconfig, tmp_path / "demo dir", tmp_path / "work", _tether())
    return [command for command, _ in steps]


def _tether() -> str:
    # Under pytest sys.executable is the venv's python: the same lookup the demo makes.
    return shell.tether_command()


def simple_commands(line: str) -> list[list[str]]:
    """A pasted line's simple commands (split at ``&&`` and ``|``), each as argv."""
    words = shlex.split(line)
    parts: list[list[str]] = [[]]
    for word in words:
        if word in ("&&", "|"):
            parts.append([])
        else:
            parts[-1].append(word)
    return parts


def test_the_tether_the_demo_names_is_an_absolute_path_that_exists():
    program = shlex.split(shell.tether_command())[0]
    assert os.path.isabs(program) and os.access(program, os.X_OK), program
    assert "uv" not in shlex.split(shell.tether_command())


def test_every_program_resolves_in_a_fresh_shell(commands: list[str]):
    for line in commands:
        for argv in simple_commands(line):
            program = argv[0]
            if os.path.isabs(program):
                assert os.access(program, os.X_OK), (line, program)
            else:
                assert program in PREREQUISITES, f"{program!r} is not on a fresh PATH: {line}"
                assert shutil.which(program, path=FRESH_PATH), (program, FRESH_PATH)


def test_each_kubectl_names_its_kubeconfig_and_at_most_one_namespace(commands: list[str]):
    kubectl = [a for line in commands for a in simple_commands(line) if a[0] == "kubectl"]
    assert kubectl
    for argv in kubectl:
        assert "--kubeconfig" in argv, argv
        namespaces = [a for a in argv if a in ("-n", "--namespace") or a.startswith("--namespace=")]
        assert len(namespaces) <= 1, argv


def test_the_demo_shows_each_namespace_it_deployed_to(commands: list[str]):
    shown = {
        argv[argv.index("-n") + 1]
        for line in commands
        for argv in simple_commands(line)
        if argv[:1] == ["kubectl"] and "all" in argv
    }
    assert shown == set(demo.DEMO_NAMESPACES)


def test_every_tether_command_parses_as_the_cli_defines_it(commands: list[str]):
    tether = shlex.split(shell.tether_command())
    for line in commands:
        for argv in simple_commands(line):
            if argv[: len(tether)] != tether:
                continue
            group: click.Command = cli
            args = argv[len(tether) :]
            while isinstance(group, click.Group):
                name, *args = args
                found = group.get_command(click.Context(group), name)
                assert found is not None, (line, name)
                group = found
            group.make_context(group.name or "", list(args))  # raises on an unknown option
