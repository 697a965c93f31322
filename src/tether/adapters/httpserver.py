"""Serving an ASGI app over HTTP(S) with uvicorn: the repo-server's and the API server's socket.

The socket is bound before uvicorn starts, so port 0 yields a real port a caller can be told.
A server either owns the process's signals (SIGTERM/SIGINT end it, as for ``tether server``) or
is stopped by an event its host sets (the API inside ``tether run``, beside the controller).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import socket
from collections.abc import Callable, Coroutine, Generator, Sequence
from typing import Any

import uvicorn

GRACEFUL_SHUTDOWN_S = 10
"""Requests in flight get this long to finish after the stop; callers retry the rest."""


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

    @property
    def loopback(self) -> bool:
        """Whether only this machine can reach the address."""
        return self.host in ("localhost", "::1") or self.host.startswith("127.")


class _HostedServer(uvicorn.Server):
    """A uvicorn server that leaves the process's signals to its host."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


async def serve(
    app: Any,
    listen: Listen,
    *,
    background: Sequence[Callable[[], Coroutine[Any, Any, None]]] = (),
    listening: Callable[[str], None] = lambda _url: None,
    stop: asyncio.Event | None = None,
) -> None:
    """Serve ``app`` until SIGTERM or SIGINT (or until ``stop`` is set, when given).

    ``background`` jobs run alongside and are cancelled at the end; ``listening`` gets the URL
    once the socket accepts connections (with the real port when ``listen.port`` is 0).
    """
    sock = _bind(listen)
    host, port = sock.getsockname()[:2]
    config = uvicorn.Config(
        app,
        log_config=None,  # the process's logging, whose handlers scrub every line
        lifespan="on",  # routers bring their own workers (webhooks) and stop them at the end
        proxy_headers=False,  # no proxy in front decides who the client is
        server_header=False,
        ssl_certfile=listen.tls_cert or None,
        ssl_keyfile=listen.tls_key or None,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
    )
    server = uvicorn.Server(config) if stop is None else _HostedServer(config)
    jobs = [asyncio.create_task(job()) for job in background]
    if stop is not None:
        jobs.append(asyncio.create_task(_exit_when(stop, server)))
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


async def _exit_when(stop: asyncio.Event, server: uvicorn.Server) -> None:
    await stop.wait()
    server.should_exit = True


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
