"""``tether account``: local accounts at the API server (passwords, API tokens, permissions).

Always remote (accounts live in the server's argocd-cm and argocd-secret). Only
``generate-token`` prints a token: the new API token, which is its purpose.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
import urllib.parse
from typing import Any

import click

from tether.cli import contexts, output
from tether.cli.commands import connection
from tether.cli.commands.remote_common import format_option, remote_client
from tether.model.errors import InvalidInputError

ACCOUNTS = "/api/v1/account"

_DURATION = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


def seconds_of(text: str) -> int:
    """``90s``, ``30m``, ``24h``, ``7d``, combinations (``1h30m``) or plain seconds; 0 is none.

    Raises:
        InvalidInputError: not a duration.
    """
    text = text.strip()
    if text.isdigit():
        return int(text)
    found = _DURATION.match(text)
    if not text or found is None:
        raise InvalidInputError(f"{text!r} is not a duration (e.g. 90s, 30m, 24h, 7d)")
    days, hours, minutes, secs = (int(g or 0) for g in found.groups())
    return ((days * 24 + hours) * 60 + minutes) * 60 + secs


def _me(api: Any) -> str:
    info = api.get("/api/v1/session/userinfo")
    name = str(info.get("username") or "") if isinstance(info, dict) else ""
    if not name:
        raise click.UsageError("the server does not say who you are: name an --account")
    return name


account_option = click.option(
    "-a", "--account", default="", help="The account (default: the one logged in)."
)


@click.group("account")
def account() -> None:
    """Local accounts at the API server: passwords, API tokens and what they may do."""


@account.command("list")
@connection.connection_options
@format_option("table", "json", "yaml")
def list_(fmt: str) -> None:
    """Every local account, whether it is enabled and what it may do."""
    with remote_client() as api:
        items = api.get(ACCOUNTS).get("items") or []
    if fmt != "table":
        click.echo(output.dump(items, fmt))
        return
    rows = [
        (str(a.get("name", "")), _yes(a.get("enabled")), ", ".join(a.get("capabilities") or []))
        for a in items
    ]
    click.echo(output.table(("NAME", "ENABLED", "CAPABILITIES"), rows))


def _yes(value: Any) -> str:
    return "true" if value else "false"


@account.command()
@connection.connection_options
@account_option
@format_option("table", "json", "yaml")
def get(account: str, fmt: str) -> None:
    """One account, with its API tokens (their ids and times, never their values)."""
    with remote_client() as api:
        name = account or _me(api)
        found = api.get(f"{ACCOUNTS}/{urllib.parse.quote(name, safe='')}")
    if fmt != "table":
        click.echo(output.dump(found, fmt))
        return
    click.echo(f"Name:          {found.get('name', name)}")
    click.echo(f"Enabled:       {_yes(found.get('enabled'))}")
    click.echo(f"Capabilities:  {', '.join(found.get('capabilities') or [])}")
    tokens = found.get("tokens") or []
    click.echo("")
    if not tokens:
        click.echo("Tokens:        NONE")
        return
    rows = [
        (str(t.get("id", "")), _time(t.get("issuedAt")), _time(t.get("expiresAt")) or "never")
        for t in tokens
    ]
    click.echo(output.table(("ID", "ISSUED AT", "EXPIRING AT"), rows))


def _time(seconds: Any) -> str:
    try:
        value = int(seconds)
    except (TypeError, ValueError):
        return ""
    if value <= 0:
        return ""
    return datetime.datetime.fromtimestamp(value, datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@account.command("generate-token")
@connection.connection_options
@account_option
@click.option("-e", "--expires-in", default="0", help="Lifetime, e.g. 24h (0: never expires).")
@click.option("--id", "token_id", default="", help="The token's id (default: a new UUID).")
def generate_token(account: str, expires_in: str, token_id: str) -> None:
    """Make an API token for an account (with the apiKey capability) and print it."""
    seconds = seconds_of(expires_in)
    with remote_client() as api:
        name = account or _me(api)
        body: dict[str, Any] = {"expiresIn": seconds}
        if token_id:
            body["id"] = token_id
        answer = api.call(
            "POST", f"{ACCOUNTS}/{urllib.parse.quote(name, safe='')}/token", body=body
        )
    click.echo(str(answer.get("token") or ""))


@account.command("delete-token")
@connection.connection_options
@account_option
@click.argument("token_id", metavar="ID")
def delete_token(account: str, token_id: str) -> None:
    """Revoke an API token by its id."""
    with remote_client() as api:
        name = account or _me(api)
        quoted = urllib.parse.quote(name, safe="")
        api.call("DELETE", f"{ACCOUNTS}/{quoted}/token/{urllib.parse.quote(token_id, safe='')}")
    click.echo(f"token {token_id} of {name} deleted")


@account.command("can-i")
@connection.connection_options
@click.argument("action")
@click.argument("resource")
@click.argument("subresource", default="", required=False)
def can_i(action: str, resource: str, subresource: str) -> None:
    """Whether you may ACTION RESOURCE [SUBRESOURCE]: prints yes or no (exit 0 either way).

    e.g. ``tether account can-i sync applications 'default/*'``.
    """
    path = "/".join(urllib.parse.quote(p, safe="") for p in (resource, action))
    with remote_client() as api:
        answer = api.get(f"{ACCOUNTS}/can-i/{path}/{urllib.parse.quote(subresource, safe='/*')}")
    click.echo(str(answer.get("value") or "no"))


@account.command("update-password")
@connection.connection_options
@account_option
@click.option("--current-password", default="", help="Your password (prompted for if missing).")
@click.option("--new-password", default="", help="The new password (prompted for if missing).")
def update_password(account: str, current_password: str, new_password: str) -> None:
    """Change an account's password; your own needs your current one, and logs you in again."""
    current_password = current_password or click.prompt("Current password (yours)", hide_input=True)
    new_password = new_password or click.prompt(
        "New password", hide_input=True, confirmation_prompt=True
    )
    connected = connection.remote()
    if connected is None:
        raise click.UsageError("not logged in to an API server (tether login SERVER)")
    with connected.client() as api:
        me = _me(api)
        name = account or me
        body = {"name": name, "currentPassword": current_password, "newPassword": new_password}
        api.call("PUT", f"{ACCOUNTS}/password", body=body)
    click.echo(f"password of {name} updated")
    if name != me or not connected.context:
        return
    # Tokens issued before the change are dead now: log in again with the new password.
    with dataclasses.replace(connected, token="").client() as api:
        answer = api.call(
            "POST", "/api/v1/session", body={"username": me, "password": new_password}
        )
    config = contexts.load()
    resolved = config.resolve(connected.context)
    assert resolved is not None
    config.logged_in(
        resolved.context.name,
        resolved.server.server,
        token=str(answer.get("token") or ""),
        insecure=resolved.server.insecure,
        plaintext=resolved.server.plaintext,
    )
    contexts.save(config)
    click.echo(f"context '{connected.context}' logged in again")
