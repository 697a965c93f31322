"""A small HTTP server for ``/metrics`` and probes, on a thread of its own.

On its own thread so a probe or a scrape is answered even while the event loop is busy (which
is what ``/healthz`` is there to tell). It logs nothing: a line per scrape is noise.
"""

from __future__ import annotations

import http.server
import socket
import threading
from collections.abc import Callable, Mapping
from typing import Protocol

from prometheus_client import CollectorRegistry, exposition

Probe = Callable[[], tuple[bool, str]]
"""Whether all is well, and the word to answer with."""


class Running(Protocol):
    """A server that answers until closed."""

    port: int

    def close(self) -> None:
        """Stop serving."""
        ...


def _handler(
    registry: CollectorRegistry, probes: Mapping[str, Probe]
) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # http.server names it
            path = self.path.split("?", 1)[0]
            probe = probes.get(path)
            if path == "/metrics":
                encoder, content_type = exposition.choose_encoder(self.headers.get("Accept") or "")
                self._send(200, content_type, encoder(registry))
            elif probe is not None:
                ok, word = probe()
                self._send(200 if ok else 503, "text/plain; charset=utf-8", word.encode() + b"\n")
            else:
                self._send(404, "text/plain; charset=utf-8", b"not found\n")

        def _send(self, code: int, content_type: str, body: bytes) -> None:
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: ARG002
            return

    return Handler


def serve(
    address: str, registry: CollectorRegistry, probes: Mapping[str, Probe] | None = None
) -> Running:
    """Serve ``/metrics`` and ``probes`` (path → probe) on ``host:port`` (port 0: a free one)."""
    host, _, port = address.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"

    class HttpServer(http.server.ThreadingHTTPServer):
        address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        daemon_threads = True

    server = HttpServer((host, int(port)), _handler(registry, dict(probes or {})))
    thread = threading.Thread(target=server.serve_forever, name="metrics", daemon=True)
    thread.start()

    class Server:
        def __init__(self) -> None:
            self.port: int = server.server_address[1]

        def close(self) -> None:
            server.shutdown()
            server.server_close()
            thread.join(5)

    return Server()
