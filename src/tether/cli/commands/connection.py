"""How a command reaches Applications: through an API server, or straight to Kubernetes (core).

The mode: ``--core`` or ``TETHER_CORE=1`` is core (Kubernetes credentials, as before the API
server existed). Otherwise a command is remote when a context is current (``tether login``) or
``--server``/``--auth-token`` are given; with none of them it is core, so users who never logged
in (and scripts written before) keep working unchanged.
"""

from __future__ import annotations

import dataclasses
import enum
import os
from collections.abc import Callable
from typing import Any, TypeVar

import click

from tether import bootstrap
from tether.cli import contexts

F = TypeVar("F", bound=Callable[..., Any])

CORE_ENV = "TETHER_CORE"
SERVER_ENV = "TETHER_SERVER"
TOKEN_ENV = "TETHER_AUTH_TOKEN"
CONTEXT_ENV = "TETHER_CONTEXT"

_META = "tether.connection"
"""Where the connection options are kept in click's context (they are not parameters)."""

_TRUE = frozenset({"1", "true", "yes", "on"})


class Mode(enum.Enum):
    """Where a command's requests go."""

    CORE = "core"
    REMOTE = "remote"


def core_forced(core: bool, core_env: str) -> bool:
    """Whether ``--core`` or ``$TETHER_CORE`` (1, true, yes, on) ask for core mode."""
    return core or core_env.strip().lower() in _TRUE


def choose(*, core: bool, core_env: str, server: str, token: str, context: str) -> Mode:
    """The mode of the given flags, ``$TETHER_CORE`` and the current (or named) context."""
    if core_forced(core, core_env):
        return Mode.CORE
    if server or token or context:
        return Mode.REMOTE
    return Mode.CORE


@dataclasses.dataclass(frozen=True)
class Connection:
    """One API server and the token to call it with."""

    server: str
    token: str = dataclasses.field(repr=False)
    insecure: bool = False
    plaintext: bool = False
    context: str = ""

    def client(self) -> bootstrap.ApiClient:
        """A client of this server as this user."""
        return bootstrap.api_client(
            self.server, self.token, insecure=self.insecure, plaintext=self.plaintext
        )


def _remember(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    ctx.meta.setdefault(_META, {})[param.name or ""] = value
    return value


_OPTIONS = (
    click.option(
        "--core",
        is_flag=True,
        expose_value=False,
        callback=_remember,
        help=f"Talk to Kubernetes directly, not to an API server (also ${CORE_ENV}=1).",
    ),
    click.option(
        "--server",
        envvar=SERVER_ENV,
        default="",
        expose_value=False,
        callback=_remember,
        help="The API server, HOST:PORT (default: the current context's).",
    ),
    click.option(
        "--auth-token",
        envvar=TOKEN_ENV,
        default="",
        expose_value=False,
        callback=_remember,
        help=f"The token to call the API server with (default: the context's; ${TOKEN_ENV}).",
    ),
    click.option(
        "--context",
        "context_name",
        envvar=CONTEXT_ENV,
        default="",
        expose_value=False,
        callback=_remember,
        help="The tether context to use (default: the current one; see tether context).",
    ),
    click.option(
        "--insecure",
        is_flag=True,
        expose_value=False,
        callback=_remember,
        help="Accept any TLS certificate from the API server.",
    ),
    click.option(
        "--plaintext",
        is_flag=True,
        expose_value=False,
        callback=_remember,
        help="Speak plain HTTP to the API server.",
    ),
)


def connection_options(func: F) -> F:
    """Add the options that choose the API server (or ``--core``) of a command.

    They are not passed to the command; ``remote()`` reads them.
    """
    for option in reversed(_OPTIONS):
        func = option(func)
    return func


def remote(config: contexts.Config | None = None) -> Connection | None:
    """The API server this command calls, or ``None`` for core mode (see the module's rules)."""
    given = click.get_current_context().meta.get(_META, {})
    server = str(given.get("server") or "")
    token = str(given.get("auth_token") or "")
    name = str(given.get("context_name") or "")
    core = bool(given.get("core"))
    core_env = os.environ.get(CORE_ENV, "")
    if core_forced(core, core_env):
        return None  # core by choice: the contexts file is not even read
    config = config if config is not None else contexts.load()
    current = name or config.current_context
    mode = choose(core=core, core_env=core_env, server=server, token=token, context=current)
    if mode is Mode.CORE:
        return None
    resolved = config.resolve(current) if current else None
    if server and (resolved is None or resolved.server.server != server):
        resolved = config.for_server(server)
    insecure = bool(given.get("insecure"))
    plaintext = bool(given.get("plaintext"))
    if resolved is not None:
        server = resolved.server.server
        token = token or resolved.user.auth_token
        insecure = insecure or resolved.server.insecure
        plaintext = plaintext or resolved.server.plaintext
    if not server:
        raise click.UsageError("--auth-token needs --server (or a context: tether login)")
    return Connection(server, token, insecure, plaintext, resolved.context.name if resolved else "")


def client() -> bootstrap.ApiClient | None:
    """A client of the command's API server, or ``None`` in core mode."""
    connection = remote()
    return None if connection is None else connection.client()
