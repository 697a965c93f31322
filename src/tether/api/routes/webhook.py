"""``POST /api/webhook``: Git hosts' push events, verified by their signatures, not a session.

The order of checks keeps an unverified caller cheap: the rate limit, then the provider's
header, then what the headers alone prove (GitLab's token, Bitbucket's UUID, Azure's Basic
auth), then the body, read in chunks up to ``webhook.maxPayloadSizeMB``, then its signature.
The push is queued and the answer does not wait for the refreshes.

Answers: 200 (queued, or a ping); 400 unknown provider, unhandled event, malformed or oversize
body; 401 a secret is configured and the request does not prove it (Argo CD answers 400; the
Git host's delivery log is clearer this way); 405 any method but POST; 429 over the rate limit;
503 the queue is full or the settings cannot be read. Without a configured secret a provider's
requests are accepted unverified, as in Argo CD: they can only cause refreshes.

The service lives in ``app.state.webhooks``: the router's lifespan builds one from the API's
runtime unless the host attached one first (:func:`attach`).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse

from tether.api import errors
from tether.api.context import FIELD_MANAGER, ApiContext
from tether.core.webhooks import providers
from tether.core.webhooks.events import Headers, MalformedError, Ping, UnverifiedError
from tether.services.webhooks import SettingsUnavailableError, WebhookService

log = logging.getLogger(__name__)

PATH = "/api/webhook"


def service_for(ctx: ApiContext) -> WebhookService:
    """A webhook service over the API's runtime: its cluster and served namespaces."""
    return WebhookService(
        ctx.runtime.cluster,
        app_namespaces=ctx.runtime.settings.app_namespaces,
        field_manager=FIELD_MANAGER,
    )


def attach(app: FastAPI, service: WebhookService) -> None:
    """Serve webhooks with ``service``, whose workers the caller runs (``async with``)."""
    app.state.webhooks = service


@contextlib.asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Run a service for the server's life, unless the host attached its own."""
    if getattr(app.state, "webhooks", None) is not None:
        yield
        return
    async with service_for(app.state.ctx) as service:
        attach(app, service)
        try:
            yield
        finally:
            del app.state.webhooks


router = APIRouter(lifespan=_lifespan)


def _service_of(request: Request) -> WebhookService:
    service: WebhookService | None = getattr(request.app.state, "webhooks", None)
    if service is None:
        raise errors.ApiError(errors.Code.UNAVAILABLE, "webhooks are not being served")
    return service


def _headers_of(request: Request) -> Headers:
    """Lower-case names, the first value of a repeated header."""
    headers: dict[str, str] = {}
    for name, value in request.headers.items():
        headers.setdefault(name.lower(), value)
    return headers


async def _body(request: Request, limit: int) -> bytes:
    """The body, read in chunks and abandoned as soon as it passes ``limit`` bytes."""
    too_large = errors.invalid(f"the payload is larger than {limit >> 20} MiB")
    declared = request.headers.get("content-length", "")
    if declared.isdecimal() and int(declared) > limit:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


@router.post(PATH)
async def receive(request: Request) -> JSONResponse:
    """Verify a Git host's event and queue the refreshes its push asks for."""
    service = _service_of(request)
    if not service.admit():
        raise errors.ApiError(errors.Code.RESOURCE_EXHAUSTED, "too many webhook requests")
    headers = _headers_of(request)
    try:
        provider = providers.choose(headers)
        settings = await service.settings()
        provider.authenticate(headers, settings.secrets)
        body = await _body(request, settings.max_payload_bytes)
        event = provider.read(headers, body, settings.secrets)
    except SettingsUnavailableError as err:
        log.warning("webhook refused: %s", err)
        raise errors.ApiError(errors.Code.UNAVAILABLE, "webhook settings are unavailable") from None
    except UnverifiedError as err:
        log.warning("webhook refused: %s", err)
        raise errors.unauthenticated(str(err)) from None
    except MalformedError as err:
        raise errors.invalid(str(err)) from None
    if isinstance(event, Ping):
        return JSONResponse({"provider": event.provider, "event": "ping"})
    if not service.submit(event):
        raise errors.ApiError(errors.Code.UNAVAILABLE, "the webhook queue is full; retry later")
    return JSONResponse({"provider": event.provider, "event": "push"})
