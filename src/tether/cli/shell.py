"""Commands tether prints for people to paste: each must work in a fresh shell as printed."""

from __future__ import annotations

import pathlib
import shlex
import sys


def tether_command() -> str:
    """This tether, as a fresh shell finds it: the venv's script by its absolute path.

    ``uv run`` and a venv's ``bin`` are not on a new shell's PATH (uv itself lives in
    ``~/.local/bin``), so nothing tether prints names a bare ``tether`` or ``uv``.
    """
    script = pathlib.Path(sys.executable).with_name("tether")  # not resolved: the venv's own
    if script.is_file():
        return shlex.quote(str(script))
    return f"{shlex.quote(sys.executable)} -m tether"


def path(value: pathlib.Path | str) -> str:
    """A path as a shell word."""
    return shlex.quote(str(value))
