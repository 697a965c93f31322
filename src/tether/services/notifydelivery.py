"""One notification from trigger to receiver: render a template for a service, then deliver it.

Templates are Go ``text/template`` with Sprig, run by the ``Evaluator``: what Argo CD's
notifications-engine parses them with (its documentation says ``html/template``; its code, and so
every existing JSON webhook body, does no HTML escaping). Each string of ``message`` and of the
block for the service's type is rendered. Delivery is retried
in place a few times (:data:`ATTEMPT_WAITS_S`); what still fails is the caller's to retry later.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Mapping
from typing import Any

from tether import ports
from tether.core import redact
from tether.core.notify import config as notifyconfig
from tether.core.notify.config import NotificationConfig, Service
from tether.model.errors import DeliveryError, EvaluationError

ATTEMPT_WAITS_S = (1.0, 2.0, 4.0)
"""Waits before the 2nd, 3rd and 4th attempt (Argo CD's webhook: 1 s to 5 s, 3 retries); the
app is then queued again with backoff, so a receiver down for longer still gets the message."""


@dataclasses.dataclass(frozen=True)
class Outcome:
    """How one send ended: ``sent``; else ``retry`` (later) or given up; ``reason`` masked."""

    sent: bool
    retry: bool = False
    reason: str = ""


class Deliveries:
    """Renders and sends one template to one destination."""

    def __init__(
        self,
        evaluator: ports.Evaluator,
        senders: Mapping[str, ports.Sender],
        *,
        waits: tuple[float, ...] = ATTEMPT_WAITS_S,
    ) -> None:
        self._evaluator = evaluator
        self._senders = senders
        self._waits = waits

    async def deliver(
        self,
        config: NotificationConfig,
        secret: Mapping[str, str],
        template_name: str,
        service: Service,
        recipient: str,
        env: Mapping[str, Any],
    ) -> Outcome:
        """Render ``template_name`` for ``service`` and ``recipient``, then send it."""
        template = config.templates.get(template_name)
        if template is None:
            return Outcome(False, reason=f"template {template_name!r} is not configured")
        sender = self._senders.get(service.type)
        if sender is None:
            return Outcome(False, reason=f"service type {service.type!r} has no sender")
        data = {
            **env,
            "context": dict(config.context),
            "serviceType": service.type,
            "recipient": recipient,
        }
        try:
            content = await self._render(template.body, service, data)
        except EvaluationError as err:
            return Outcome(False, reason=f"template {template_name!r}: {err}")
        if service.type == "github":
            content["github"] = {**_github_defaults(env), **dict(content.get("github") or {})}
        message = ports.Message(
            service_type=service.type,
            service_name=service.name,
            recipient=recipient,
            settings=notifyconfig.resolve(service.settings, secret),
            content=content,
            secrets=notifyconfig.secret_values(service.settings, secret),
        )
        return await self._send(sender, message)

    async def _send(self, sender: ports.Sender, message: ports.Message) -> Outcome:
        for wait in (*self._waits, None):
            try:
                await sender.send(message)
                return Outcome(True)
            except DeliveryError as err:
                reason = redact.text(str(err), message.secrets)
                if not err.retryable:
                    return Outcome(False, reason=reason)
            except Exception as err:  # a sender's bug must not stop the notifier
                reason = f"{message.service_name}: {type(err).__name__}"
            if wait is None:
                return Outcome(False, retry=True, reason=reason)
            await asyncio.sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _render(
        self, body: Mapping[str, Any], service: Service, data: Mapping[str, Any]
    ) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if isinstance(message := body.get("message"), str):
            out["message"] = await self._evaluator.template(message, data, mode="text")
        block = body.get(service.type)
        if service.type == "webhook" and isinstance(block, Mapping):
            mine = block.get(service.name)  # webhook.<name>: only this webhook's part
            block = {service.name: mine} if mine is not None else None
        if block is not None:
            out[service.type] = await self._render_value(block, data)
        return out

    async def _render_value(self, value: Any, data: Mapping[str, Any]) -> Any:
        if isinstance(value, str):
            return await self._evaluator.template(value, data, mode="text")
        if isinstance(value, Mapping):
            return {k: await self._render_value(v, data) for k, v in value.items()}
        if isinstance(value, list):
            return [await self._render_value(v, data) for v in value]
        return value


def _github_defaults(env: Mapping[str, Any]) -> dict[str, str]:
    """Which commit a status goes to (the template's ``repoURLPath``/``revisionPath`` win).

    The app's (first) source and the synced revision, as Argo CD's defaults say.
    """
    app = env.get("app") or {}
    spec = app.get("spec") or {}
    source: Mapping[str, Any] = (
        spec.get("source") or next(iter(spec.get("sources") or []), {}) or {}
    )
    status = app.get("status") or {}
    result = (status.get("operationState") or {}).get("syncResult") or {}
    revision = result.get("revision") or next(iter(result.get("revisions") or []), "")
    revision = revision or (status.get("sync") or {}).get("revision") or ""
    return {"repoURLPath": str(source.get("repoURL") or ""), "revisionPath": str(revision)}
