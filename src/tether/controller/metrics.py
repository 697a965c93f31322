"""The controller's HTTP endpoint: ``/metrics`` (Prometheus), ``/healthz`` and ``/readyz``.

Served from a thread of its own, so a probe is answered even while the event loop is busy;
``/healthz`` fails when the loop has not beaten for ``STALE_AFTER_S`` (stuck, not slow).
"""

from __future__ import annotations

import enum
import http.server
import socket
import threading
import time
from collections.abc import Callable
from typing import Protocol

from prometheus_client import CollectorRegistry, exposition

from tether import bootstrap
from tether.controller.collector import ArgoCollector
from tether.controller.loop import Controller

STALE_AFTER_S = 30.0
"""A loop silent this long is stuck: the heartbeat comes every second, a reconcile awaits I/O."""

BEAT_EVERY_S = 1.0


class Phase(enum.Enum):
    """Where the process stands, as ``/readyz`` reads it."""

    STARTING = "starting"
    """Checking the CRDs; not ready."""
    STANDBY = "standby"
    """Waiting for the Lease: ready (a standby replica is what it should be)."""
    SYNCING = "syncing"
    """Leading, listing every type into the cache: not ready yet."""
    RECONCILING = "reconciling"
    """Leading, cache synced, workers running: ready."""
    STOPPING = "stopping"


READY = {Phase.STANDBY, Phase.RECONCILING}


class Probes:
    """The heartbeat and phase the probes answer from; the event loop writes, the server reads."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._beat = clock()
        self.phase = Phase.STARTING

    def beat(self) -> None:
        """The event loop is alive now."""
        self._beat = self._clock()

    def healthy(self) -> tuple[bool, str]:
        """Whether the loop beat lately, and what to say."""
        silent = self._clock() - self._beat
        if silent > STALE_AFTER_S:
            return False, f"event loop silent for {silent:.0f}s"
        return True, "ok"

    def ready(self) -> tuple[bool, str]:
        """Whether this replica is ready, and its phase."""
        healthy, why = self.healthy()
        if not healthy:
            return False, why
        return self.phase in READY, self.phase.value


class Server(Protocol):
    """A running metrics endpoint."""

    port: int

    def close(self) -> None:
        """Stop serving."""
        ...


def _handler(
    registry: CollectorRegistry, probes: Probes
) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                accept = self.headers.get("Accept") or ""
                encoder, content_type = exposition.choose_encoder(accept)
                self._send(200, content_type, encoder(registry))
            elif path in ("/healthz", "/readyz"):
                ok, why = probes.healthy() if path == "/healthz" else probes.ready()
                self._send(200 if ok else 503, "text/plain; charset=utf-8", why.encode() + b"\n")
            else:
                self._send(404, "text/plain; charset=utf-8", b"not found\n")

        def _send(self, code: int, content_type: str, body: bytes) -> None:
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: ARG002
            return  # a line per scrape and probe is noise

    return Handler


def serve(
    address: str, controller: Controller, rt: bootstrap.Runtime, probes: Probes | None = None
) -> Server:
    """Serve ``/metrics``, ``/healthz`` and ``/readyz`` on ``host:port`` (port 0: a free one)."""
    host, _, port = address.rpartition(":")
    registry = CollectorRegistry()
    registry.register(ArgoCollector(controller, rt))
    handler = _handler(registry, probes or Probes())
    host = host.strip("[]") or "127.0.0.1"

    class HttpServer(http.server.ThreadingHTTPServer):
        address_family = socket.AF_INET6 if ":" in host else socket.AF_INET

    server = HttpServer((host, int(port)), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="metrics", daemon=True)
    thread.start()

    class Running:
        port = server.server_address[1]

        def close(self) -> None:
            server.shutdown()
            server.server_close()
            thread.join(5)

    return Running()
