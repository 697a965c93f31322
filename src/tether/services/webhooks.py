"""Git webhooks' use case: refresh exactly the Applications a push concerns, off the request path.

Also the settings that verify webhooks and the bounds on the work they cause.

A push is queued (bounded) and handled by a few workers, so a Git host's request is answered at
once; a full queue or a caller over the rate limit is refused rather than buffered.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any

from tether import ports
from tether.core.webhooks.events import SECRET_KEYS, Push, Secrets
from tether.core.webhooks.matching import Matcher
from tether.model.application import parse_application
from tether.model.errors import InvalidInputError, TetherError
from tether.model.resources import metadata_of
from tether.model.secretdata import fields_of
from tether.services import apps
from tether.services.appwriter import AppNotFoundError

log = logging.getLogger(__name__)

SECRET_NAME = "argocd-secret"
"""Where Argo CD keeps the webhook secrets (``webhook.github.secret`` ...)."""

CONFIG_MAP_NAME = "argocd-cm"
MAX_PAYLOAD_KEY = "webhook.maxPayloadSizeMB"

DEFAULT_MAX_PAYLOAD_MIB = 50
"""Argo CD's default; a push of thousands of commits stays far below it."""

SETTINGS_TTL_S = 5.0
"""Secrets and the size limit are read again after this long: a rotated secret takes effect
within seconds, and a burst of webhooks costs two reads, not two per request."""

RATE_PER_S = 100.0
BURST = 100
"""Requests admitted per second by one server, and the burst it absorbs (Argo CD has no limit;
a Git host sends one request per push, so only a flood reaches it)."""

QUEUE_SIZE = 256
"""Pushes waiting for a worker; each holds at most one payload's URLs and file names, so the
queue's memory stays bounded. Beyond it requests are refused (503) and the Git host retries."""

WORKERS = 4
"""Pushes handled at once; each lists Applications and patches a few."""


class SettingsUnavailableError(TetherError):
    """The webhook settings could not be read; verifying anything now would be a guess."""


@dataclasses.dataclass(frozen=True)
class WebhookSettings:
    """What verifies and bounds webhooks: ``argocd-secret``'s keys and ``argocd-cm``'s limit."""

    secrets: Secrets
    max_payload_bytes: int


@dataclasses.dataclass(frozen=True)
class Refreshed:
    """What one push did: apps it concerned, refreshes requested, refreshes that failed."""

    matched: int = 0
    refreshed: int = 0
    failed: int = 0


class TokenBucket:
    """``rate`` admissions per second on average, ``burst`` at once."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float]) -> None:
        self._rate = rate
        self._burst = float(burst)
        self._clock = clock
        self._tokens = float(burst)
        self._at = clock()

    def take(self) -> bool:
        """Admit one request if a token is left."""
        now = self._clock()
        self._tokens = min(self._burst, self._tokens + (now - self._at) * self._rate)
        self._at = now
        if self._tokens < 1.0:
            return False
        self._tokens -= 1.0
        return True


def max_payload_bytes(config: dict[str, Any] | None) -> int:
    """``webhook.maxPayloadSizeMB`` in bytes; the default when unset, not a positive integer."""
    value = str(((config or {}).get("data") or {}).get(MAX_PAYLOAD_KEY) or "").strip()
    mib = int(value) if value.isdecimal() and int(value) > 0 else DEFAULT_MAX_PAYLOAD_MIB
    return mib << 20


def _webhook_keys(secret: dict[str, Any]) -> dict[str, Any]:
    """The Secret with only the webhook keys: another key's bad encoding is not ours to fail on."""
    wanted = set(SECRET_KEYS.values())
    return {
        "metadata": secret.get("metadata") or {},
        **{
            part: {k: v for k, v in (secret.get(part) or {}).items() if k in wanted}
            for part in ("data", "stringData")
        },
    }


class WebhookService:
    """Webhooks for the Applications of ``app_namespaces``; use ``async with`` to run workers."""

    def __init__(
        self,
        cluster: ports.Cluster,
        *,
        app_namespaces: Sequence[str],
        field_manager: str,
        clock: Callable[[], float] = time.monotonic,
        workers: int = WORKERS,
        queue_size: int = QUEUE_SIZE,
        rate: float = RATE_PER_S,
        burst: int = BURST,
        settings_ttl: float = SETTINGS_TTL_S,
    ) -> None:
        if not app_namespaces or not all(app_namespaces):
            # An empty name would list every namespace's Applications, served or not.
            raise ValueError("webhooks need application namespaces, none of them empty")
        self._cluster = cluster
        self._namespaces = tuple(app_namespaces)
        self._field_manager = field_manager
        self._clock = clock
        self._workers = workers
        self._queue: asyncio.Queue[Push] = asyncio.Queue(maxsize=queue_size)
        self._bucket = TokenBucket(rate, burst, clock)
        self._ttl = settings_ttl
        self._cached: tuple[float, WebhookSettings] | None = None
        self._settings_lock = asyncio.Lock()
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def control_plane_namespace(self) -> str:
        """Where ``argocd-secret`` and ``argocd-cm`` are read (the first app namespace)."""
        return self._namespaces[0]

    async def __aenter__(self) -> WebhookService:
        self._tasks = [
            asyncio.create_task(self._work(), name=f"webhook-worker-{i}")
            for i in range(self._workers)
        ]
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    def admit(self) -> bool:
        """Whether one more request fits the rate limit now."""
        return self._bucket.take()

    async def settings(self) -> WebhookSettings:
        """The secrets and size limit, read at most every ``settings_ttl`` seconds.

        Raises:
            SettingsUnavailableError: ``argocd-secret`` or ``argocd-cm`` cannot be read or
                decoded; nothing is verified against a guess.
        """
        async with self._settings_lock:
            now = self._clock()
            if self._cached is not None and now - self._cached[0] < self._ttl:
                return self._cached[1]
            namespace = self.control_plane_namespace
            try:
                secret = await self._cluster.get("v1", "Secret", SECRET_NAME, namespace)
                config = await self._cluster.get("v1", "ConfigMap", CONFIG_MAP_NAME, namespace)
                fields = fields_of(_webhook_keys(secret), "webhook") if secret else {}
            except TetherError as err:
                # The error names the object and key, never a value (fields_of's contract).
                raise SettingsUnavailableError(f"webhook settings unreadable: {err}") from None
            settings = WebhookSettings(Secrets.from_fields(fields), max_payload_bytes(config))
            self._cached = (now, settings)
            return settings

    def submit(self, push: Push) -> bool:
        """Queue a verified push for the workers; ``False`` when the queue is full."""
        try:
            self._queue.put_nowait(push)
        except asyncio.QueueFull:
            return False
        return True

    async def idle(self) -> None:
        """Wait until every queued push has been handled (for tests and shutdown)."""
        await self._queue.join()

    async def _work(self) -> None:
        while True:
            push = await self._queue.get()
            try:
                done = await self.refresh_matching(push)
                log.info(
                    "%s webhook: %d apps concerned, %d refreshed, %d failed",
                    push.provider,
                    done.matched,
                    done.refreshed,
                    done.failed,
                )
            except Exception:
                # One bad push must not stop the worker that would handle the next.
                log.exception("%s webhook: handling the push failed", push.provider)
            finally:
                self._queue.task_done()

    async def refresh_matching(self, push: Push) -> Refreshed:
        """Ask for a normal refresh of every app of the served namespaces ``push`` concerns."""
        matcher = Matcher(push)
        matched = refreshed = failed = 0
        for namespace in self._namespaces:
            for obj in await apps.list_apps(self._cluster, namespace):
                name = str(metadata_of(obj).get("name", ""))
                # The spec and annotations decide; the status (often most of an app) is skipped.
                spec_only = {key: value for key, value in obj.items() if key != "status"}
                try:
                    concerned = matcher.concerns(parse_application(spec_only))
                except InvalidInputError:
                    continue  # the controller reports an invalid app; a push cannot fix it
                if not concerned:
                    continue
                matched += 1
                try:
                    await apps.refresh(
                        self._cluster,
                        namespace,
                        name,
                        hard=False,
                        field_manager=self._field_manager,
                    )
                except AppNotFoundError:
                    continue  # deleted since it was listed
                except TetherError as err:
                    failed += 1
                    log.warning("webhook refresh of %s/%s failed: %s", namespace, name, err)
                else:
                    refreshed += 1
        return Refreshed(matched, refreshed, failed)
