"""The repo-server process: serve the render API on one address until SIGTERM or SIGINT.

Its own disk caches are pruned in the background, as the controller prunes its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import socket
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

import uvicorn
from fastapi import FastAPI

DEFAULT_LISTEN = "127.0.0.1:8081"
"""Loopback unless configured otherwise: exposing the render API is a decision."""

GRACEFUL_SHUTDOWN_S = 10
"""Renders in flight get this long to finish after SIGTERM; the controller retries the rest."""


@dataclasses.dataclass(frozen=True)
class Listen:
    """Where to serve, and the TLS certificate and key to serve with (plain HTTP without)."""

    host: str
    port: int
    tls_cert: str = ""
    tls_key: str = ""

    @classmethod
    def parse(cls, address: str, tls_cert: str = "", tls_key: str = "") -> Listen:
        """``HOST:PORT`` or ``[IPv6]:PORT``; port 0 picks a free port.

        Raises:
            ValueError: not ``HOST:PORT``, or a certificate without its key (or the reverse).
        """
        host, sep, port = address.rpartition(":")
        if not sep or not host or not port.isdigit() or int(port) > 65535:
            raise ValueError(f"expected HOST:PORT, got {address!r}")
        if bool(tls_cert) != bool(tls_key):
            raise ValueError("TLS needs both a certificate and its key")
        return cls(host.strip("[]"), int(port), tls_cert, tls_key)

    @property
    def scheme(self) -> str:
        """``https`` with a certificate, else ``http``."""
        return "https" if self.tls_cert else "http"


async def run(
    app: FastAPI,
    listen: Listen,
    *,
    background: Sequence[Callable[[], Coroutine[Any, Any, None]]] = (),
    listening: Callable[[str], None] = lambda _url: None,
) -> None:
    """Serve ``app`` until SIGTERM or SIGINT, running ``background`` jobs alongside.

    ``listening`` gets the URL once the socket accepts connections (with the real port when
    ``listen.port`` is 0).
    """
    sock = _bind(listen)
    host, port = sock.getsockname()[:2]
    config = uvicorn.Config(
        app,
        log_config=None,  # the process's logging, whose handlers scrub every line
        lifespan="off",
        proxy_headers=False,  # no proxy in front decides who the client is
        server_header=False,
        ssl_certfile=listen.tls_cert or None,
        ssl_keyfile=listen.tls_key or None,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
    )
    server = uvicorn.Server(config)
    jobs = [asyncio.create_task(job()) for job in background]
    shown = f"[{host}]" if ":" in host else host
    listening(f"{listen.scheme}://{shown}:{port}")
    try:
        await server.serve(sockets=[sock])
    finally:
        for job in jobs:
            job.cancel()
        for job in jobs:
            with contextlib.suppress(asyncio.CancelledError):
                await job
        sock.close()


def _bind(listen: Listen) -> socket.socket:
    family = socket.AF_INET6 if ":" in listen.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((listen.host, listen.port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    return sock
