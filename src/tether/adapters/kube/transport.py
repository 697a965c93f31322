"""The authenticated connections to one API server, request counting and error mapping.

lightkube supplies the kubeconfig, auth and TLS; the requests themselves go through its
``httpx2.AsyncClient`` (HTTP/1.1, a keep-alive pool) so list/watch and discovery stay on a thin,
fast path.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import os
import pathlib
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

import httpx2
import msgspec
from lightkube.config import client_adapter
from lightkube.config.kubeconfig import KubeConfig

from tether.adapters.kube import errors, incluster

VERBS = ("get", "list", "watch", "create", "update", "patch", "delete", "apply")
"""The verbs the counter reports, as the API server's audit log names them."""

REQUEST_TIMEOUT_S = 30.0
"""A non-watch request slower than this is stuck; the API server's own default is 60 s."""

WATCH_READ_SLACK_S = 60.0
"""Bookmarks arrive about once a minute: a watch silent for its timeout plus this is dead."""


Observer = Callable[[str, int, str, str, bool], None]
"""Hears each request once answered: verb, HTTP status (0 when none came), the resource's kind
and namespace (empty when the request names none) and whether it was a dry run."""


class RequestCounter:
    """Requests sent, by verb; read by the bench and the metrics exporter.

    ``observer``, when set (by bootstrap), hears each request's outcome in more detail.
    """

    def __init__(self) -> None:
        self._counts: collections.Counter[str] = collections.Counter()
        self.observer: Observer | None = None

    def answered(self, verb: str, code: int, kind: str, namespace: str, dry_run: bool) -> None:
        """Tell the observer about one request's outcome."""
        if self.observer is not None:
            self.observer(verb, code, kind, namespace, dry_run)

    def add(self, verb: str) -> None:
        """Count one request."""
        self._counts[verb] += 1

    def snapshot(self) -> dict[str, int]:
        """The counts so far, every verb present."""
        return {verb: self._counts[verb] for verb in VERBS} | dict(self._counts)

    def total(self) -> int:
        """All requests so far."""
        return sum(self._counts.values())


class _Cause(msgspec.Struct):
    field: str = ""


class _Details(msgspec.Struct):
    causes: list[_Cause] = msgspec.field(default_factory=list)


class Status(msgspec.Struct):
    """The parts of a ``metav1.Status`` that errors use."""

    code: int = 0
    reason: str = ""
    message: str = ""
    details: _Details | None = None

    @property
    def fields(self) -> tuple[str, ...]:
        """The field paths the causes name."""
        causes = self.details.causes if self.details else []
        return tuple(c.field for c in causes if c.field)


def decode_status(body: bytes) -> Status:
    """The ``metav1.Status`` in a body; an empty one when the body is not a Status."""
    try:
        return msgspec.json.decode(body, type=Status)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return Status()


REQUESTS_HTTP2 = False
"""Requests (not watches) over HTTP/2, multiplexed on one connection; else HTTP/1.1 with a
keep-alive pool of ``REQUEST_CONNECTIONS``. HTTP/1.1: HTTP/2's framing (h2, hpack and httpx's
per-stream locking) was the largest item in the controller's profile of a burst of syncs, and
``bench/transport_cpu.py`` measured less client CPU per request over HTTP/1.1 (see
docs/performance.md, S1). Behind a load balancer, many connections also spread over API server
replicas where one HTTP/2 connection would pin every request to one."""

REQUEST_CONNECTIONS = 64
"""HTTP/1.1 connections kept open for requests: the controller's 20 workers, 20 writes within
one sync, 4 Event senders and the API's readers, without opening one per request."""

MAX_WATCH_CONNECTIONS = 1000
"""Each watch pins one HTTP/1.1 connection; httpx2's default cap of 100 would silently stall
the 101st watch, and a cluster with many CRDs has more types than that."""


class Transport:
    """One API server: clients with the kubeconfig's credentials, and a request counter.

    Attributes:
        http: Client for requests (and the raw escape hatch), HTTP/1.1 or HTTP/2 as
            ``REQUESTS_HTTP2`` says.
        watch_http: HTTP/1.1 client for watches. httpx2's HTTP/2 connection reads through one
            shared lock handed to waiters in FIFO order; an idle watch that gets it blocks on
            the socket, so every other stream's response waits behind the idle watches (measured:
            an apply stalled for minutes behind 50 quiet watches). One connection per watch
            avoids that until multiplexed watches are safe.
        namespace: The kubeconfig context's namespace.
        counter: Requests sent, by verb.
    """

    def __init__(
        self,
        http: httpx2.AsyncClient,
        *,
        watch_http: httpx2.AsyncClient | None = None,
        namespace: str = "default",
    ) -> None:
        self.http = http
        self.watch_http = watch_http or http
        self.namespace = namespace
        self.counter = RequestCounter()
        self._config: tuple[KubeConfig, str | None] | None = None
        """What ``from_config`` connected with, so ``twin`` can connect again."""

    @classmethod
    def from_kubeconfig(
        cls, kubeconfig: pathlib.Path | str | None = None, *, context: str | None = None
    ) -> Transport:
        """Connect using a kubeconfig file, or as client-go would without one (``incluster``).

        Args:
            kubeconfig: The kubeconfig path; ``None``: ``$KUBECONFIG``, ``~/.kube/config``,
                then the Pod's service account.
            context: The context to use; ``None`` = current context.
        """
        return cls.from_config(incluster.load(kubeconfig), context=context)

    @classmethod
    def from_config(cls, config: KubeConfig, *, context: str | None = None) -> Transport:
        """Connect as a kubeconfig already in memory says (``context``: ``None`` = current)."""
        single = config.get(context)
        if single is None:
            raise errors.ClusterError(f"kubeconfig has no context {context or '(current)'}")
        timeout = httpx2.Timeout(REQUEST_TIMEOUT_S)
        requests = client_adapter.ConnectionParams(
            timeout=timeout, http2=REQUESTS_HTTP2, trust_env=False
        )
        watches = client_adapter.ConnectionParams(timeout=timeout, http2=False, trust_env=False)
        limits = httpx2.Limits(
            max_connections=MAX_WATCH_CONNECTIONS, max_keepalive_connections=MAX_WATCH_CONNECTIONS
        )
        request_params, watch_params = requests.httpx_params(single), watches.httpx_params(single)
        token_file = single.user.token_file if single.user else None
        if token_file:
            # A rotating token (a Pod's): one reader for both clients, read again as it changes.
            auth = incluster.TokenFileAuth(os.fspath(single.abs_file(token_file)))
            request_params["auth"] = watch_params["auth"] = auth
        pool = httpx2.Limits(
            max_connections=REQUEST_CONNECTIONS, max_keepalive_connections=REQUEST_CONNECTIONS
        )
        transport = cls(
            httpx2.AsyncClient(**request_params, limits=pool),
            watch_http=httpx2.AsyncClient(**watch_params, limits=limits),
            namespace=single.namespace,
        )
        transport._config = (config, context)
        return transport

    def twin(self) -> Transport:
        """A new transport to the same server with the same credentials and User-Agent.

        Its connections are its own, so it can serve another thread's event loop (an httpx2
        client belongs to the loop that first uses it): leader election renews on one.

        Raises:
            ClusterError: this transport was not built from a kubeconfig (``from_config``).
        """
        if self._config is None:
            raise errors.ClusterError("this connection cannot be opened again (no kubeconfig)")
        config, context = self._config
        twin = Transport.from_config(config, context=context)
        agent = self.http.headers.get("User-Agent")
        if agent:
            twin.identify(agent)
        return twin

    async def request(
        self,
        verb: str,
        method: str,
        url: str,
        *,
        what: str,
        params: Mapping[str, str] | None = None,
        content: bytes | None = None,
        content_type: str = "application/json",
        headers: Mapping[str, str] | None = None,
        secret: bool = False,
        kind: str = "",
        namespace: str = "",
    ) -> httpx2.Response:
        """Send one request and return the response, or raise a ``ClusterError`` naming ``what``.

        Args:
            verb: The counter's verb.
            method: The HTTP method.
            url: The path below the server URL.
            what: The object or collection named in errors (``Kind namespace/name``).
            params: Query parameters.
            content: The body.
            content_type: The body's media type.
            headers: Extra headers.
            secret: The object holds secret values: keep the server's message out of errors.
            kind: The kind of the object or collection, for the counter's observer.
            namespace: Its namespace, for the counter's observer.
        """
        self.counter.add(verb)
        dry_run = (params or {}).get("dryRun") == "All"
        send_headers = dict(headers or {})
        if content is not None:
            send_headers["Content-Type"] = content_type
        try:
            response = await self.http.request(
                method, url, params=dict(params or {}), content=content, headers=send_headers
            )
        except httpx2.HTTPError as exc:
            self.counter.answered(verb, 0, kind, namespace, dry_run)
            raise errors.ClusterError(f"{what}: {type(exc).__name__} talking to the API") from exc
        self.counter.answered(verb, response.status_code, kind, namespace, dry_run)
        if response.status_code >= 400:
            raise self.error(response.status_code, response.content, what, secret=secret)
        return response

    @asynccontextmanager
    async def stream(
        self,
        url: str,
        *,
        params: Mapping[str, str],
        what: str,
        read_timeout_s: float,
        kind: str = "",
        namespace: str = "",
    ) -> AsyncIterator[httpx2.Response]:
        """Open a watch stream; yields the unread response; errors become ``ClusterError``."""
        self.counter.add("watch")
        timeout = httpx2.Timeout(REQUEST_TIMEOUT_S, read=read_timeout_s)
        client = self.watch_http
        request = client.build_request("GET", url, params=dict(params), timeout=timeout)
        try:
            response = await _send_to_completion(client, request)
        except httpx2.HTTPError as exc:
            self.counter.answered("watch", 0, kind, namespace, False)
            raise errors.ClusterError(f"{what}: {type(exc).__name__} opening a watch") from exc
        self.counter.answered("watch", response.status_code, kind, namespace, False)
        try:
            if response.status_code >= 400:
                body = await response.aread()
                raise self.error(response.status_code, body, what)
            yield response
        finally:
            await response.aclose()

    @staticmethod
    def error(code: int, body: bytes, what: str, *, secret: bool = False) -> errors.ClusterError:
        """The ``ClusterError`` for an HTTP error response."""
        status = decode_status(body)
        return errors.from_status(
            code, status.reason, status.message, what, secret=secret, fields=status.fields
        )

    def identify(self, user_agent: str) -> None:
        """Send ``user_agent`` as the User-Agent of every request from now on.

        Audit logs name the writer by it (each sharded replica names itself).
        """
        self.http.headers["User-Agent"] = user_agent
        self.watch_http.headers["User-Agent"] = user_agent

    async def aclose(self) -> None:
        """Close the connections."""
        await self.http.aclose()
        if self.watch_http is not self.http:
            await self.watch_http.aclose()


async def _send_to_completion(
    client: httpx2.AsyncClient, request: httpx2.Request
) -> httpx2.Response:
    """Send a streaming request; a cancellation waits for the connection, then closes it.

    Cancelling httpx2 inside a TLS handshake leaks the half-open socket (no pool owns it yet),
    and a cache stopping right after its start cancels dozens of watches at exactly that
    point. The API server answers a watch's headers at once, so the wait is short.
    """
    sending = asyncio.ensure_future(client.send(request, stream=True))
    try:
        return await asyncio.shield(sending)
    except asyncio.CancelledError:
        with contextlib.suppress(Exception):
            response = await sending
            await response.aclose()
        raise


def json_body(obj: Any) -> bytes:
    """Encode a request body."""
    return msgspec.json.encode(obj)
