"""``tether login``, ``logout`` and ``context``: sessions at API servers, kept as contexts.

A login stores the server's session token in the contexts file (``tether.cli.contexts``) and
makes its context current, so ``tether app`` commands go to that server from then on. No
command here prints a token.
"""

from __future__ import annotations

import click

from tether.cli import contexts, output
from tether.cli.commands import connection, sso
from tether.model.errors import RemoteError

SESSION = "/api/v1/session"


@click.command()
@click.argument("server")
@click.option("--username", default="", help="The account (prompted for when missing).")
@click.option("--password", default="", help="Its password (prompted for, hidden, when missing).")
@click.option("--sso", "use_sso", is_flag=True, help="Sign in through the server's OIDC provider.")
@click.option(
    "--sso-port",
    type=click.IntRange(1, 65535),
    default=sso.DEFAULT_PORT,
    show_default=True,
    help="The loopback port the browser is sent back to after an SSO sign-in.",
)
@click.option("--name", "context_name", default="", help="The context's name (default: SERVER).")
@click.option("--insecure", is_flag=True, help="Accept any TLS certificate from the server.")
@click.option("--plaintext", is_flag=True, help="Speak plain HTTP to the server.")
def login(
    server: str,
    username: str,
    password: str,
    use_sso: bool,
    sso_port: int,
    context_name: str,
    insecure: bool,
    plaintext: bool,
) -> None:
    """Log in to the API server at SERVER (HOST:PORT) and make it the current context."""
    name = context_name or server
    target = connection.Connection(server, "", insecure, plaintext)
    refresh_token = ""
    if use_sso:
        if username or password:
            raise click.UsageError("--sso signs in through the browser: no --username/--password")
        token, refresh_token, username = sso.sign_in(target, sso_port)
    else:
        username = username or click.prompt("Username")
        password = password or click.prompt("Password", hide_input=True)
        with target.client() as api:
            answer = api.call("POST", SESSION, body={"username": username, "password": password})
        token = str(answer.get("token") or "")
        if not token:
            raise RemoteError(f"{server} answered the login without a token")
    config = contexts.load()
    config.logged_in(
        name,
        server,
        token=token,
        refresh_token=refresh_token,
        insecure=insecure,
        plaintext=plaintext,
    )
    contexts.save(config)
    click.echo(f"'{username}' logged in to {server}; context '{name}' is current")


@click.command()
@click.argument("context_name", metavar="[CONTEXT]", required=False, default="")
def logout(context_name: str) -> None:
    """End the session of CONTEXT (the current one) at its server and forget its token."""
    config = contexts.load()
    resolved = config.resolve(context_name)
    if resolved is None:
        raise click.UsageError("no current context: nothing to log out of")
    if resolved.user.auth_token:
        current = connection.Connection(
            resolved.server.server,
            resolved.user.auth_token,
            resolved.server.insecure,
            resolved.server.plaintext,
        )
        try:
            with current.client() as api:
                api.call("DELETE", SESSION)
        except RemoteError as err:
            # The token is forgotten either way; the server's copy expires on its own.
            click.echo(f"warning: the server did not end the session: {err}", err=True)
    config.forget_token(resolved.context.name)
    contexts.save(config)
    click.echo(f"logged out of context '{resolved.context.name}' ({resolved.server.server})")


@click.command("context")
@click.argument("context_name", metavar="[CONTEXT]", required=False, default="")
def context(context_name: str) -> None:
    """List the contexts, or make CONTEXT the current one."""
    config = contexts.load()
    if context_name:
        config.switch(context_name)
        contexts.save(config)
        click.echo(f"switched to context '{context_name}'")
        return
    rows = [
        ("*" if c.name == config.current_context else "", c.name, c.server) for c in config.contexts
    ]
    click.echo(output.table(("CURRENT", "NAME", "SERVER"), rows))


COMMANDS = (login, logout, context)
