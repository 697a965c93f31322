"""Serving the API: beside the controller in ``tether run``, or alone in ``tether server``.

Either way the state is the Kubernetes API's (Applications, their status, Secrets and
ConfigMaps); the API server keeps nothing of its own, so any number of replicas may serve.
Plain HTTP is refused off loopback unless the operator says ``--insecure`` (a TLS-terminating
proxy in front); the certificate comes from flags or from the Secret ``argocd-server-tls``.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import tempfile
from collections.abc import Callable, Iterator

from tether import bootstrap
from tether.api import server
from tether.core.cluster.cachepolicy import Change
from tether.model.errors import InvalidInputError, TetherError
from tether.model.resources import GroupKind
from tether.model.secretdata import fields_of
from tether.settings import Settings

log = logging.getLogger(__name__)

DEFAULT_ADDRESS = "127.0.0.1:8080"
"""Argo CD's server port; loopback unless configured otherwise (exposing the API is a decision)."""

CACHE_SYNC_TIMEOUT_S = 300.0
"""The live cache's first list of every type (the resource tree reads it)."""

SECRET = GroupKind("", "Secret")

TLS_SECRET = "argocd-server-tls"
"""Argo CD's Secret for the server's certificate (``tls.crt``, ``tls.key``)."""


class ServeError(TetherError):
    """The API server refuses to start, and says why."""


@dataclasses.dataclass(frozen=True)
class ApiOptions:
    """How to serve the API."""

    address: str = DEFAULT_ADDRESS
    tls_cert: str = ""
    tls_key: str = ""
    insecure: bool = False
    """Serve plain HTTP on a non-loopback address (behind a proxy that terminates TLS)."""


async def listen_for(rt: bootstrap.Runtime, options: ApiOptions) -> bootstrap.Listen:
    """Where and how to serve: TLS from the flags, else ``argocd-server-tls``, else plain HTTP.

    Raises:
        ServeError: plain HTTP off loopback without ``insecure``, or an unusable address.
    """
    try:
        listen = bootstrap.Listen.parse(options.address, options.tls_cert, options.tls_key)
    except ValueError as err:
        raise ServeError(f"--api-address: {err}") from None
    if listen.scheme == "https" or options.insecure:
        return listen
    pair = await _tls_from_secret(rt)
    if pair is not None:
        return dataclasses.replace(listen, tls_cert=pair[0], tls_key=pair[1])
    if not listen.loopback:
        raise ServeError(
            f"refusing to serve the API over plain HTTP on {options.address}: give a certificate "
            f"(--api-tls-cert/--api-tls-key or Secret {TLS_SECRET}) or --insecure behind a proxy"
        )
    return listen


async def serve(
    rt: bootstrap.Runtime,
    options: ApiOptions,
    *,
    stop: asyncio.Event | None = None,
    listening: Callable[[str], None] = lambda _url: None,
) -> None:
    """Serve the API over ``rt`` until ``stop`` is set (or SIGTERM/SIGINT without one)."""
    rt = rt.for_callers()  # beside a standby controller, the API still writes what users ask
    listen = await listen_for(rt, options)
    sso = bootstrap.sso(rt)
    try:
        app = server.build_app(await server.build_context(rt, sso=sso))
        with _private_files(listen) as served:
            await bootstrap.serve_http(app, served, listening=listening, stop=stop)
    finally:
        await sso.aclose()


async def run_alone(
    settings: Settings,
    options: ApiOptions,
    *,
    kubeconfig: str | None = None,
    listening: Callable[[str], None] = lambda _url: None,
) -> None:
    """``tether server``: the API without a controller, until SIGTERM or SIGINT."""
    stop = bootstrap.stop_on_signals()
    # Argo CD's ConfigMaps too: its diffs and trees judge health and differences as the
    # controller does (Lua checks, ignoreDifferences, exclusions), live.
    rt = await bootstrap.runtime(
        settings, kubeconfig=kubeconfig, start_cache=True, system_config=True
    )
    try:
        rt.config.start()
        await rt.live.wait_synced(CACHE_SYNC_TIMEOUT_S)
        credentials = _CredentialsFollower(rt)
        await credentials.reload()
        unsubscribe = rt.live.subscribe(credentials.on_change)
        try:
            await serve(rt, options, stop=stop, listening=listening)
        finally:
            unsubscribe()
            await credentials.aclose()
    finally:
        await rt.close()


class _CredentialsFollower:
    """Re-reads repository and cluster Secrets when one of them changes.

    The controller does this in ``tether run``; alone, the server must, or the apps of other
    clusters would read as on an unknown cluster.
    """

    def __init__(self, rt: bootstrap.Runtime) -> None:
        self.rt = rt
        self._task: asyncio.Task[None] | None = None

    def on_change(self, change: Change) -> None:
        key = change.key
        ours = (
            key.group_kind == SECRET and key.namespace == self.rt.settings.control_plane_namespace
        )
        if ours and (self._task is None or self._task.done()):
            self._task = asyncio.create_task(self.reload())

    async def reload(self) -> None:
        try:
            for problem in await self.rt.reload_credentials():
                log.warning("%s", problem)
        except TetherError as err:
            log.warning("could not read repository and cluster Secrets: %s", err)

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


async def _tls_from_secret(rt: bootstrap.Runtime) -> tuple[str, str] | None:
    """The certificate and key of ``argocd-server-tls``, as PEM text; ``None`` without one."""
    secret = await rt.cluster.get("v1", "Secret", TLS_SECRET, rt.settings.control_plane_namespace)
    if secret is None:
        return None
    try:
        fields = fields_of(secret, "the API server's TLS")
    except InvalidInputError as err:
        raise ServeError(str(err)) from None
    cert, key = fields.get("tls.crt", ""), fields.get("tls.key", "")
    if not cert or not key:
        raise ServeError(f"Secret {TLS_SECRET} needs both tls.crt and tls.key")
    return cert, key


@contextlib.contextmanager
def _private_files(listen: bootstrap.Listen) -> Iterator[bootstrap.Listen]:
    """``listen`` with PEM text (from a Secret) written to owner-only files uvicorn can load."""
    if not listen.tls_cert.startswith("-----BEGIN"):
        yield listen
        return
    with tempfile.TemporaryDirectory(prefix="tether-api-tls-") as directory:
        paths = []
        for name, text in (("tls.crt", listen.tls_cert), ("tls.key", listen.tls_key)):
            path = os.path.join(directory, name)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(text)
            paths.append(path)
        yield dataclasses.replace(listen, tls_cert=paths[0], tls_key=paths[1])
