"""Real notification receivers on loopback: an HTTP server (webhooks, Slack, the GitHub API)
and an SMTP server (aiosmtpd), each recording what it received."""

from __future__ import annotations

import contextlib
import dataclasses
import email
import email.message
import email.policy
import http.server
import threading
from collections.abc import Iterator
from typing import Any

from aiosmtpd.controller import Controller

from tests.support import gitservers


@dataclasses.dataclass(frozen=True)
class Request:
    """One HTTP request as received."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class HttpReceiver:
    """Answers every request with ``status`` (200 unless told otherwise) and records it.

    ``port`` may be chosen before it listens, so a test can configure a receiver that is down.
    """

    def __init__(self, port: int = 0) -> None:
        self.port = port or gitservers.free_port()
        self.status = 200
        self.reply: bytes = b"ok"
        self.requests: list[Request] = []
        self._server: http.server.ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> HttpReceiver:
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                receiver.requests.append(Request(self.command, self.path, headers, body))
                self.send_response(receiver.status)
                self.send_header("Content-Length", str(len(receiver.reply)))
                self.end_headers()
                self.wfile.write(receiver.reply)

            do_GET = do_POST = do_PUT = do_PATCH = _any

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


@contextlib.contextmanager
def http_receiver(*, started: bool = True) -> Iterator[HttpReceiver]:
    receiver = HttpReceiver()
    if started:
        receiver.start()
    try:
        yield receiver
    finally:
        receiver.stop()


class _Mailbox:
    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, email.message.EmailMessage)
        self.messages.append(parsed)
        return "250 OK"


@contextlib.contextmanager
def smtp_receiver() -> Iterator[tuple[int, list[email.message.EmailMessage]]]:
    """An SMTP server on 127.0.0.1: its port and the messages it accepted."""
    mailbox = _Mailbox()
    port = gitservers.free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, mailbox.messages
    finally:
        controller.stop()
