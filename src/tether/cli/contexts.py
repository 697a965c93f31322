"""The CLI's contexts file: which API servers a user logged in to, as whom, and the current one.

``$XDG_CONFIG_HOME/tether/config`` (``~/.config/tether/config``; ``$TETHER_CONFIG`` overrides),
YAML in the shape of Argo CD's CLI config (``contexts``, ``servers``, ``users``,
``current-context``), written with mode 0600 because it holds session tokens. Tokens are never
part of a ``repr`` or of anything this module prints.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import pathlib
import tempfile
from typing import Any

import yaml

from tether.model.errors import InvalidInputError

FILE_MODE = 0o600
DIRECTORY_MODE = 0o700


def default_path() -> pathlib.Path:
    """Where the contexts file lives for this user."""
    explicit = os.environ.get("TETHER_CONFIG")
    if explicit:
        return pathlib.Path(explicit)
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return pathlib.Path(base) / "tether" / "config"


@dataclasses.dataclass
class Server:
    """How to reach one API server."""

    server: str
    insecure: bool = False
    plaintext: bool = False


@dataclasses.dataclass
class User:
    """A login at one server: its session token (and an SSO refresh token)."""

    name: str
    auth_token: str = dataclasses.field(default="", repr=False)
    refresh_token: str = dataclasses.field(default="", repr=False)


@dataclasses.dataclass
class Context:
    """A name for a server and a user at it."""

    name: str
    server: str
    user: str


@dataclasses.dataclass(frozen=True)
class Resolved:
    """A context with its server and user looked up."""

    context: Context
    server: Server
    user: User


@dataclasses.dataclass
class Config:
    """The whole file."""

    current_context: str = ""
    contexts: list[Context] = dataclasses.field(default_factory=list)
    servers: list[Server] = dataclasses.field(default_factory=list)
    users: list[User] = dataclasses.field(default_factory=list)

    def context(self, name: str) -> Context | None:
        """The context called ``name``."""
        return next((c for c in self.contexts if c.name == name), None)

    def resolve(self, name: str = "") -> Resolved | None:
        """The context ``name`` (the current one when empty) with its server and user.

        Raises:
            InvalidInputError: a named context does not exist, or names a missing server.
        """
        wanted = name or self.current_context
        if not wanted:
            return None
        context = self.context(wanted)
        if context is None:
            raise InvalidInputError(f"no context named {wanted!r} (see tether context)")
        server = next((s for s in self.servers if s.server == context.server), None)
        if server is None:
            raise InvalidInputError(f"context {wanted!r} names server {context.server!r}, unknown")
        user = next((u for u in self.users if u.name == context.user), User(context.user))
        return Resolved(context, server, user)

    def for_server(self, server: str) -> Resolved | None:
        """The first context at ``server`` (a ``--server`` without a token uses its login)."""
        for context in self.contexts:
            if context.server == server:
                return self.resolve(context.name)
        return None

    def logged_in(
        self,
        name: str,
        server: str,
        *,
        token: str,
        refresh_token: str = "",
        insecure: bool = False,
        plaintext: bool = False,
    ) -> None:
        """Record a login: context ``name`` at ``server`` with ``token``; it becomes current."""
        self.servers = [s for s in self.servers if s.server != server]
        self.servers.append(Server(server, insecure=insecure, plaintext=plaintext))
        self.users = [u for u in self.users if u.name != name]
        self.users.append(User(name, token, refresh_token))
        self.contexts = [c for c in self.contexts if c.name != name]
        self.contexts.append(Context(name, server, name))
        self.current_context = name

    def forget_token(self, name: str) -> None:
        """Drop the tokens of context ``name``'s user; the context stays for the next login."""
        context = self.context(name)
        if context is None:
            raise InvalidInputError(f"no context named {name!r} (see tether context)")
        for user in self.users:
            if user.name == context.user:
                user.auth_token = ""
                user.refresh_token = ""

    def switch(self, name: str) -> None:
        """Make ``name`` the current context.

        Raises:
            InvalidInputError: there is no such context.
        """
        if self.context(name) is None:
            raise InvalidInputError(f"no context named {name!r} (see tether context)")
        self.current_context = name

    def to_yaml(self) -> str:
        """The file's text, in Argo CD's key names."""
        doc: dict[str, Any] = {
            "contexts": [
                {"name": c.name, "server": c.server, "user": c.user} for c in self.contexts
            ],
            "current-context": self.current_context,
            "servers": [_server_doc(s) for s in self.servers],
            "users": [_user_doc(u) for u in self.users],
        }
        return yaml.safe_dump(doc, sort_keys=False, default_flow_style=False)


def _server_doc(server: Server) -> dict[str, Any]:
    doc: dict[str, Any] = {"server": server.server}
    if server.insecure:
        doc["insecure"] = True
    if server.plaintext:
        doc["plain-text"] = True
    return doc


def _user_doc(user: User) -> dict[str, Any]:
    doc: dict[str, Any] = {"name": user.name}
    if user.auth_token:
        doc["auth-token"] = user.auth_token
    if user.refresh_token:
        doc["refresh-token"] = user.refresh_token
    return doc


def parse(text: str, where: str = "config") -> Config:
    """A ``Config`` from the file's text (an empty file is an empty config).

    Raises:
        InvalidInputError: not YAML, or an entry of the wrong shape (named without values).
    """
    try:
        doc = yaml.safe_load(text) or {}
    except yaml.YAMLError as err:
        raise InvalidInputError(f"{where}: not YAML ({type(err).__name__})") from None
    if not isinstance(doc, dict):
        raise InvalidInputError(f"{where}: expected a mapping")
    try:
        return Config(
            current_context=str(doc.get("current-context") or ""),
            contexts=[
                Context(str(c["name"]), str(c["server"]), str(c.get("user") or c["name"]))
                for c in _entries(doc, "contexts")
            ],
            servers=[
                Server(
                    str(s["server"]),
                    insecure=bool(s.get("insecure")),
                    plaintext=bool(s.get("plain-text")),
                )
                for s in _entries(doc, "servers")
            ],
            users=[
                User(
                    str(u["name"]),
                    str(u.get("auth-token") or ""),
                    str(u.get("refresh-token") or ""),
                )
                for u in _entries(doc, "users")
            ],
        )
    except KeyError as err:
        raise InvalidInputError(f"{where}: an entry lacks {err.args[0]!r}") from None


def _entries(doc: dict[str, Any], key: str) -> list[dict[str, Any]]:
    items = doc.get(key) or []
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise InvalidInputError(f"config: {key} must be a list of mappings")
    return items


def load(path: pathlib.Path | None = None) -> Config:
    """The config at ``path`` (the default file); empty when there is none yet."""
    path = path or default_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Config()
    except OSError as err:
        raise InvalidInputError(f"cannot read {path}: {err.strerror or err}") from None
    return parse(text, str(path))


def save(config: Config, path: pathlib.Path | None = None) -> pathlib.Path:
    """Write ``config`` to ``path`` atomically, readable by its owner only; the path written."""
    path = path or default_path()
    path.parent.mkdir(mode=DIRECTORY_MODE, parents=True, exist_ok=True)
    fd, scratch = tempfile.mkstemp(prefix=".config-", dir=path.parent)  # created 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(config.to_yaml())
        os.chmod(scratch, FILE_MODE)
        os.replace(scratch, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(scratch)
        raise
    return path
