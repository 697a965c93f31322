"""A real Dex (built from Go modules like the control plane) on loopback, for SSO tests.

Memory storage, the password database with one static user in group ``tether-admins`` (its
bcrypt hash made here from a random password), the password grant for headless tokens, and the
static clients a test names. Started on a free port; stopped by ``stop``.
"""

from __future__ import annotations

import dataclasses
import html
import re
import secrets
import socket
import ssl
import time
import urllib.parse
from pathlib import Path
from typing import Any

import bcrypt
import httpx2
import yaml

from tether import bootstrap
from tether.adapters import _process
from tether.adapters.devcluster import tools

USER_EMAIL = "alice@example.test"
USER_ID = "00000000-0000-4000-8000-000000000001"
USER_GROUP = "tether-admins"
HEADLESS_SCOPES = "openid email profile groups federated:id"


@dataclasses.dataclass(frozen=True)
class Client:
    """A static OAuth client of Dex."""

    id: str
    secret: str
    redirect_uris: tuple[str, ...] = ()
    public: bool = False
    """A public client (a CLI): no secret at the token endpoint, PKCE instead."""


@dataclasses.dataclass
class Dex:
    """A running Dex."""

    issuer: str
    password: str
    directory: Path
    daemon: _process.Daemon

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after a grace period."""
        self.daemon.stop(grace=5)

    def output(self) -> str:
        """What Dex logged."""
        return Path(self.daemon.log_path).read_text(errors="replace")

    def password_token(self, client: Client, scope: str = HEADLESS_SCOPES) -> dict[str, Any]:
        """Tokens for the static user by the password grant (no browser)."""
        response = httpx2.post(
            self.issuer + "/token",
            data={
                "grant_type": "password",
                "username": USER_EMAIL,
                "password": self.password,
                "scope": scope,
            },
            auth=(client.id, client.secret),
            timeout=10,
        )
        response.raise_for_status()
        answer: dict[str, Any] = response.json()
        return answer


def free_port() -> int:
    """A port nothing listens on now (Dex's issuer URL must name its port before it starts)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start(
    directory: Path,
    clients: list[Client],
    *,
    port: int = 0,
    tls: tuple[Path, Path, Path] | None = None,
    timeout: float = 60.0,
) -> Dex:
    """Start Dex with ``clients`` and wait until its discovery document answers.

    Each start signs with fresh keys (memory storage), so a restart on the same ``port`` is a
    key rotation as the issuer's clients see it. Call it from the test's own thread: Dex is
    told to die with the thread that spawned it. ``tls`` is (certificate, key, CA) to serve
    HTTPS with.
    """
    bootstrap.build_tools("dex")
    directory.mkdir(parents=True, exist_ok=True)
    password = secrets.token_urlsafe(16)
    port = port or free_port()
    scheme = "https" if tls else "http"
    issuer = f"{scheme}://127.0.0.1:{port}/dex"
    web: dict[str, str] = {scheme: f"127.0.0.1:{port}"}
    if tls:
        web |= {"tlsCert": str(tls[0]), "tlsKey": str(tls[1])}
    config = {
        "issuer": issuer,
        "storage": {"type": "memory"},
        "web": web,
        "logger": {"level": "info"},
        "oauth2": {
            "skipApprovalScreen": True,
            "grantTypes": ["authorization_code", "refresh_token", "password"],
            "passwordConnector": "local",
        },
        "enablePasswordDB": True,
        "staticPasswords": [
            {
                "email": USER_EMAIL,
                "hash": bcrypt.hashpw(password.encode(), bcrypt.gensalt(10)).decode(),
                "username": "alice",
                "userID": USER_ID,
                "groups": [USER_GROUP],
            }
        ],
        "staticClients": [
            {
                "id": c.id,
                "name": c.id,
                "secret": c.secret,
                "public": c.public,
                "redirectURIs": list(c.redirect_uris) or ["http://127.0.0.1/unused"],
            }
            for c in clients
        ],
    }
    path = directory / "dex.yaml"
    path.write_text(yaml.safe_dump(config))
    daemon = _process.spawn(
        "dex",
        [tools.path_of("dex"), "serve", str(path)],
        log_path=str(directory / "dex.log"),
        die_with_parent=True,
    )
    dex = Dex(issuer, password, directory, daemon)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not daemon.alive():
            break
        try:
            verify = ssl.create_default_context(cafile=str(tls[2])) if tls else True
            well_known = issuer + "/.well-known/openid-configuration"
            if httpx2.get(well_known, timeout=2, verify=verify).is_success:
                return dex
        except httpx2.HTTPError:
            pass
        time.sleep(0.05)
    output = dex.output()[-3000:]
    dex.stop()
    raise RuntimeError(f"Dex did not start:\n{output}")


def play_browser(url: str, password: str) -> httpx2.Response:
    """Visit ``url`` as a user would: Dex's login form filled in, redirects followed home."""
    with httpx2.Client(timeout=30) as http:
        response = http.get(url)
        while response.status_code in (302, 303):
            response = http.get(
                urllib.parse.urljoin(str(response.url), response.headers["location"])
            )
        assert response.status_code == 200, response.text
        form = re.search(r'<form method="post" action="([^"]+)"', response.text)
        assert form is not None, "Dex's login form"
        action = urllib.parse.urljoin(str(response.url), html.unescape(form.group(1)))
        response = http.post(action, data={"login": USER_EMAIL, "password": password})
        while response.status_code in (302, 303):
            response = http.get(
                urllib.parse.urljoin(str(response.url), response.headers["location"])
            )
        return response
