"""What the commands that exist only against an API server share (account, proj, repo)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import click

from tether import bootstrap
from tether.cli.commands import connection

F = TypeVar("F", bound=Callable[..., Any])


@contextlib.contextmanager
def remote_client() -> Iterator[bootstrap.ApiClient]:
    """The command's API server client; a usage error in core mode."""
    api = connection.client()
    if api is None:
        raise click.UsageError(
            "this command talks to a tether API server: tether login SERVER first, "
            "or give --server and --auth-token"
        )
    with api:
        yield api


def format_option(*choices: str) -> Callable[[F], F]:
    """``-o/--output`` with ``choices``, the first the default; passed as ``fmt``."""
    return click.option(
        "-o",
        "--output",
        "fmt",
        type=click.Choice(list(choices)),
        default=choices[0],
        show_default=True,
    )
